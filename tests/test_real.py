"""The real-data profile end to end on the shared sources, as a user runs it: one short epoch at 64 px.

`eye-pipeline` takes a dataset spec of the shared training sources with the Kaggle set's retinopathy class corrected
by its EyePACS grades, holds one source out, must see that the data is real, pick `configs/real-cpu.yaml` (no GPU
here), train through that profile's code path (LocalNorm, augmentation on the device), register, score the held-out
source and HEI-MED, and export. The shared data lives next to the project in CI; elsewhere the test skips with the
reason, and under `CI=true` a missing folder is a failure.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/"shared/data"
HEIMED = SHARED/"heimed"


SOURCES = {"kaggle": "eye-diseases", "srahim": "srahim", "eyepacs": "eyepacs", "airogs": "airogs", "csdi": "csdi"}
GRADES = SHARED/"eye-diseases-dr-grades.csv"


@pytest.fixture
def shared_sources(tmp_path):
    "A dataset spec of the shared training sources, the Kaggle set corrected by its EyePACS grades."
    need = [SHARED/p for p in SOURCES.values()] + [GRADES, HEIMED]
    if not all(p.exists() for p in need):
        if os.environ.get("CI") == "true": pytest.fail(f"CI=true but the shared sources are absent: {[str(p) for p in need if not p.exists()]}")
        pytest.skip(f"{SHARED} lacks the shared sources and grades file")
    spec = {"root": str(SHARED), "sources": {n: {"path": p} for n, p in SOURCES.items()}}
    spec["sources"]["kaggle"]["corrections"] = GRADES.name
    spec["sources"]["srahim"]["patient_pattern"] = r"^(?P<id>Patient\d+)_[LR]$"
    (tmp_path/"sources.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path/"sources.yaml"


def test_real_profile_on_shared_sources(shared_sources, tmp_path):
    "The shared sources with the grades file prepare and train one short epoch at 64 px, holding `csdi` out as a new camera."
    shutil.copytree(ROOT/"configs", tmp_path/"configs")
    env = {**os.environ, "EYE_HOME": str(tmp_path), "OMP_NUM_THREADS": "2"}
    cmd = [str(Path(sys.executable).parent/"eye-pipeline"), "--raw", str(shared_sources), "--epochs", "1", "--image-size", "64",
           "--prep-size", "64", "--holdout-source", "csdi", "--external", str(HEIMED)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "real-cpu.yaml, real data" in r.stdout, r.stdout[-2000:]
    rep = json.loads((tmp_path/"data/processed/report.json").read_text())
    src = rep["sources"]
    assert sorted(src["names"]) == ["airogs", "eyepacs", "kaggle", "srahim"] and src["holdout"] == "csdi"
    fx = src["corrections"]["kaggle"]   # the grades of the 1,098 retinopathy files: 816 grade 0, 65 grade 1
    assert (fx["moved"], fx["excluded"]) == ({"diabetic_retinopathy -> normal": 816}, {"diabetic_retinopathy": 65})
    pub, cor = src["class_by_source"]["published"]["kaggle"], src["class_by_source"]["corrected"]["kaggle"]
    assert (pub["diabetic_retinopathy"], cor["diabetic_retinopathy"], cor["normal"] - pub["normal"]) == (1098, 217, 816)
    for k in ("published", "corrected", "kept", "train"):   # the source cue with and without the corrections, and as trained
        assert 0 < src["source_cue"][k]["chance"] <= src["source_cue"][k]["accuracy"] <= 1, (k, src["source_cue"])
    assert "source" in rep["shortcuts"]["cues"]
    man = (tmp_path/"data/processed/manifest.csv").read_text().splitlines()
    assert man[0].endswith(",source") and {l.rsplit(",", 1)[1] for l in man[1:]} == {"kaggle", "srahim", "eyepacs", "airogs"}
    v = tmp_path/"models/eye_classifier/v1"
    metrics, card = json.loads((v/"metrics.json").read_text()), (v/"MODEL_CARD.md").read_text()
    assert set(metrics["per_source"]) == {"kaggle", "srahim", "eyepacs", "airogs"}
    assert metrics["per_source"]["eyepacs"]["classes"] == ["diabetic_retinopathy", "normal"]
    held = metrics["external"]["csdi"]
    assert held["holdout"] is True and held["classes"] == ["cataract", "normal"] and held["n"] == 73
    assert "## Sources" in card and "| eyepacs |" in card and "held out of training" in card
    info = json.loads((v/"model.json").read_text())
    assert info["provenance"] == "real" and info["preprocessing"]["image_size"] == 64
    assert info["model_config"]["local_norm"] > 0 and info["preprocessing"]["mean"] == [0.0, 0.0, 0.0]
    config = yaml.safe_load((v/"config.yaml").read_text())
    assert config["local_norm"] > 0 and config["augment"] > 0 and config["epochs"] == 1   # the profile, with --epochs over it
    ext = metrics["external"]["heimed"]
    assert ext["n"] == 128 and set(ext["classes"]) == {"diabetic_retinopathy", "normal"}
    dr = ext["per_class"]["diabetic_retinopathy"]
    assert 0 <= dr["roc_auc"] <= 1 and 0 <= dr["roc_auc_ci"][0] <= dr["roc_auc_ci"][1] <= 1, dr
    assert metrics["shortcut"]["warning"] is True
    assert (v/"model.onnx").exists()
    assert "Trained and tested on" not in card and "heimed" in card and f"ROC AUC {dr['roc_auc']:.3f}" in card
    from eye_classifier.evaluate import CAMERA_CHANGES
    assert set(metrics["camera"]["flipped"]) == set(CAMERA_CHANGES) and "Camera changes that keep the disease" in card
