"""The real-data profile end to end on the shared Kaggle set, as a user runs it: one short epoch at 64 px.

`eye-pipeline` must see that the data is real, pick `configs/real-cpu.yaml` (no GPU here), train through that
profile's code path (LocalNorm, augmentation on the device), register, validate on HEI-MED and export.
The shared data lives next to the project in CI; elsewhere the test skips with the reason, and under `CI=true`
a missing folder is a failure.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/"shared/data"
KAGGLE, HEIMED = SHARED/"eye-diseases", SHARED/"heimed"


@pytest.fixture
def shared():
    if not (KAGGLE.is_dir() and HEIMED.is_dir()):
        if os.environ.get("CI") == "true": pytest.fail(f"CI=true but the shared data is absent: {SHARED}")
        pytest.skip(f"{SHARED} is absent (the shared Kaggle and HEI-MED sets)")
    return KAGGLE, HEIMED


def test_real_profile_smoke(shared, tmp_path):
    kaggle, heimed = shared
    shutil.copytree(ROOT/"configs", tmp_path/"configs")
    env = {**os.environ, "EYE_HOME": str(tmp_path), "OMP_NUM_THREADS": "2"}
    cmd = [str(Path(sys.executable).parent/"eye-pipeline"), "--raw", str(kaggle), "--epochs", "1", "--image-size", "64",
           "--external", str(heimed)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "real-cpu.yaml, real data" in r.stdout, r.stdout[-2000:]
    v = tmp_path/"models/eye_classifier/v1"
    info, metrics = json.loads((v/"model.json").read_text()), json.loads((v/"metrics.json").read_text())
    assert info["provenance"] == "real"
    assert info["model_config"]["local_norm"] > 0 and info["preprocessing"]["mean"] == [0.0, 0.0, 0.0]
    assert info["preprocessing"]["image_size"] == 64
    config = yaml.safe_load((v/"config.yaml").read_text())
    assert config["local_norm"] > 0 and config["augment"] > 0 and config["epochs"] == 1   # the profile, with --epochs over it
    ext = metrics["external"]["heimed"]
    assert ext["n"] == 128 and set(ext["classes"]) == {"diabetic_retinopathy", "normal"}
    dr = ext["per_class"]["diabetic_retinopathy"]
    assert 0 <= dr["roc_auc"] <= 1 and 0 <= dr["roc_auc_ci"][0] <= dr["roc_auc_ci"][1] <= 1, dr
    assert metrics["shortcut"]["warning"] is True
    assert (v/"model.onnx").exists()
    card = (v/"MODEL_CARD.md").read_text()
    assert "Trained and tested on" not in card and "heimed" in card and f"ROC AUC {dr['roc_auc']:.3f}" in card
    from eye_classifier.evaluate import CAMERA_CHANGES
    assert set(metrics["camera"]["flipped"]) == set(CAMERA_CHANGES) and "Camera changes that keep the disease" in card
