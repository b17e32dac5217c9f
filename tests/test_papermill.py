"""The parameterised training notebook run the way the GPU workflow runs it: with papermill, EYE_HOME pointing at a
registry folder that holds no profiles, and the profiles passed from the checkout.

On a zip of synthetic pictures here, and under `CI=true` on 160 pictures of the shared Kaggle set (whose retinopathy
pictures are all `.jpeg`), one short epoch each: the notebook must pick the real-data profile, offer the version to the promotion gate
and predict a test picture of every class. Elsewhere the real-data test skips with the reason.
"""
import os, shutil, subprocess, sys, zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
KAGGLE = ROOT.parent/"shared/data/eye-diseases"


def papermill(tmp_path, raw, *params):
    "Execute the notebook with `raw` and extra `-p` pairs; return its outputs as text and the scratch folder."
    work, out = tmp_path/"work", tmp_path/"train.ipynb"
    env = {**os.environ, "EYE_HOME": str(tmp_path/"registry"), "OMP_NUM_THREADS": "2"}
    cmd = [str(Path(sys.executable).parent/"papermill"), str(ROOT/"nbs/pipelines/train.ipynb"), str(out), "-k", "python3",
           "-p", "raw", str(raw), "-p", "workdir", str(work), "-p", "configs", str(ROOT/"configs"), *params]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    outputs = [o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])]
    text = "\n".join(o.get("text", "") + "".join(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    return text, outputs, work


def test_papermill_notebook_on_a_zip(tmp_path):
    from eye_classifier.synth import make_synth
    make_synth(tmp_path/"synth", per_class=16, size=192, seed=0, progress=False)
    with zipfile.ZipFile(tmp_path/"fundus.zip", "w") as z:
        for p in sorted((tmp_path/"synth").rglob("*.jpg")): z.write(p, Path("fundus")/p.relative_to(tmp_path/"synth"))
    text, outputs, work = papermill(tmp_path, tmp_path/"fundus.zip", "-p", "epochs", "1", "-p", "batch_size", "16", "-p", "n_boot", "200")
    assert f"profile {ROOT/'configs/train.yaml'} (synthetic data)" in text, text[-2000:]
    assert "v1 promoted to production" in text, text[-2000:]
    assert (work/"models/eye_classifier/v1/model.onnx").exists()
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3   # curves, confusion matrix, the predicted pictures


def test_papermill_notebook_on_the_real_set(tmp_path):
    if not KAGGLE.is_dir():
        if os.environ.get("CI") == "true": pytest.fail(f"CI=true but the shared data is absent: {KAGGLE}")
        pytest.skip(f"{KAGGLE} is absent (the shared Kaggle set)")
    raw = tmp_path/"kaggle"   # 40 real pictures of each class: the real-data path, without preparing all 4,217 (test_real does)
    for d in sorted(p for p in KAGGLE.iterdir() if p.is_dir()):
        (raw/d.name).mkdir(parents=True)
        for f in sorted(d.iterdir())[:40]: shutil.copy(f, raw/d.name/f.name)
    assert {f.suffix for f in (raw/"diabetic_retinopathy").iterdir()} == {".jpeg"}
    text, outputs, work = papermill(tmp_path, raw, "-p", "epochs", "1", "-p", "image_size", "64", "-p", "prep_size", "64",
                                    "-p", "batch_size", "0", "-p", "n_boot", "200")
    assert f"profile {ROOT/'configs/real-cpu.yaml'} (real data)" in text, text[-2000:]
    assert "v1 promoted to production" in text, text[-2000:]
    preds = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(preds) >= 3 and (work/"models/eye_classifier/v1/model.onnx").exists()
