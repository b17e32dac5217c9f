"""Shared fixtures: a tiny registered model in a scratch project, and a live server on a free port.

Everything runs through the package's public functions and console scripts, as a user would.
"""
import os, socket, subprocess, sys, time
from pathlib import Path

import httpx
import pytest

from eye_classifier.core import CLASSES


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    "A scratch project (EYE_HOME) with synthetic data and a registered, promoted, ONNX-exported model."
    from eye_classifier.pipeline import run_pipeline
    root = tmp_path_factory.mktemp("project")
    old = os.environ.get("EYE_HOME"); os.environ["EYE_HOME"] = str(root)
    summary = run_pipeline(root/"data/raw", root/"data/processed", per_class=40, synth_size=256, prep_size=96,
                           out=str(root/"runs"), image_size=64, epochs=5, batch_size=16, workers=0, log=lambda *a: None)
    yield dict(root=root, summary=summary, images={c: sorted((root/"data/raw"/c).glob("*.jpg")) for c in CLASSES})
    if old is None: os.environ.pop("EYE_HOME", None)
    else: os.environ["EYE_HOME"] = old


@pytest.fixture(scope="session")
def server(project):
    "`eye-serve` running on a free port against the scratch project; yields its base URL."
    port = free_port(); url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "EYE_HOME": str(project["root"]), "GRADIO_ANALYTICS_ENABLED": "False"}
    exe = Path(sys.executable).parent/"eye-serve"
    log = open(project["root"]/"server.log", "w")
    p = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), "--concurrency", "4"], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(120):
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200: break
        except httpx.HTTPError: pass
        if p.poll() is not None: raise RuntimeError((project["root"]/"server.log").read_text())
        time.sleep(0.5)
    else: raise RuntimeError("server did not start: " + (project["root"]/"server.log").read_text())
    yield url
    p.terminate(); p.wait(10); log.close()
