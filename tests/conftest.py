"""Shared fixtures: a tiny registered model in a scratch project, and a live server on a free port.

Everything runs through the package's public functions and console scripts, as a user would.
"""
import os, shutil, socket, subprocess, sys, time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from eye_classifier.core import CLASSES


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


RECIPE = dict(image_size=64, epochs=5, batch_size=16, workers=0)   # the tiny training recipe of the scratch projects


@contextmanager
def eye_home(root):
    "EYE_HOME set to `root` while inside, restored after."
    old = os.environ.get("EYE_HOME"); os.environ["EYE_HOME"] = str(root)
    try: yield root
    finally:
        if old is None: os.environ.pop("EYE_HOME", None)
        else: os.environ["EYE_HOME"] = old


def scratch_project(root)->dict:
    "Synthetic data, prepared, trained, registered, promoted and exported in the project `root` (EYE_HOME); the pipeline's summary."
    from eye_classifier.pipeline import run_pipeline
    return run_pipeline(root/"data/raw", root/"data/processed", per_class=40, synth_size=256, prep_size=96,
                        out=str(root/"runs"), log=lambda *a: None, **RECIPE)


@contextmanager
def serving(root, *args):
    "`eye-serve` running on a free port against the project `root`; yields its base URL."
    port = free_port(); url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "EYE_HOME": str(root), "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(root/"server.log", "w")
    p = subprocess.Popen([str(Path(sys.executable).parent/"eye-serve"), "--host", "127.0.0.1", "--port", str(port), *args], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200: break
            except httpx.HTTPError: pass
            if p.poll() is not None: raise RuntimeError((root/"server.log").read_text())
            time.sleep(0.5)
        else: raise RuntimeError("server did not start: " + (root/"server.log").read_text())
        yield url
    finally: p.terminate(); p.wait(10); log.close()


@pytest.fixture(scope="session")
def built(tmp_path_factory)->dict:
    "The scratch project as built, never changed: a test that needs a project of its own copies it (`copy_project`)."
    root = tmp_path_factory.mktemp("built")
    with eye_home(root): return dict(root=root, summary=scratch_project(root))


def copy_project(built:dict, dest)->dict:
    "A copy of the built scratch project at `dest` (its versions, data and runs), with its pictures by class."
    root = Path(shutil.copytree(built["root"], dest))
    return dict(root=root, summary=built["summary"], images={c: sorted((root/"data/raw"/c).glob("*.jpg")) for c in CLASSES})


@pytest.fixture(scope="session")
def project(built, tmp_path_factory):
    "A scratch project (EYE_HOME) with synthetic data and a registered, promoted, ONNX-exported model."
    p = copy_project(built, tmp_path_factory.mktemp("project")/"root")
    with eye_home(p["root"]): yield p


@pytest.fixture(scope="session")
def server(project):
    "`eye-serve` running on a free port against the scratch project; yields its base URL."
    with serving(project["root"], "--concurrency", "4") as url: yield url
