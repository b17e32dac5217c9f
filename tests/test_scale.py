"""The per-image stage of `eye-prepare` on a Dask cluster (two local worker processes), as a user runs it: the same
dataset as in this process, and the features reused by content hash on a re-run."""
import json, subprocess, sys
from pathlib import Path

BIN = Path(sys.executable).parent


def prepare(raw, out, *args):
    r = subprocess.run([str(BIN/"eye-prepare"), str(raw), "--out", str(out), "--image-size", "48", *map(str, args)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads((out/"report.json").read_text())


def test_dask_engine_gives_the_same_dataset(tmp_path):
    subprocess.run([str(BIN/"eye-synth"), str(tmp_path/"raw"), "--per-class", "10", "--size", "160", "--workers", "1"], check=True,
                   capture_output=True)
    here = prepare(tmp_path/"raw", tmp_path/"here", "--chunk", "8")
    dask = prepare(tmp_path/"raw", tmp_path/"dask", "--chunk", "8", "--engine", "local", "--workers", "2")
    assert (dask["features"]["computed"], dask["features"]["chunks"]) == (40, 5)
    assert dask["data_version"] == here["data_version"]
    assert (tmp_path/"dask/manifest.csv").read_text() == (tmp_path/"here/manifest.csv").read_text()
    assert len(list((tmp_path/"dask/features").glob("*/shard-*/records.json"))) == 5
    again = prepare(tmp_path/"raw", tmp_path/"dask", "--chunk", "8", "--engine", "local", "--force")
    assert (again["features"]["reused"], again["features"]["computed"], again["data_version"]) == (40, 0, here["data_version"])
