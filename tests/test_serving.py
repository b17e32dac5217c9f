"""End to end against a live `eye-serve`: gradio_client, REST, feedback, load and fuzz."""
import csv, hashlib, io, json, os, random, statistics, subprocess, sys, time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from PIL import Image

from eye_classifier.app import LOW_CONFIDENCE
from eye_classifier.core import CLASSES
from eye_classifier.inference import Predictor
from eye_classifier.registry import load_version

TOL = 1e-5   # the server and an in-process Predictor of the same version and backend give the same probabilities


def expected(project, f: Path, backend="onnx") -> dict:
    "What the production version answers for `f`, computed in this process from the registry, not by the server."
    return Predictor.load(project["summary"]["production"], backend=backend).predict(f.read_bytes())[0]


def same_probs(got: dict, want: dict) -> bool:
    return set(got) == set(want) and all(abs(got[c] - want[c]) < TOL for c in want)


def test_gradio_client_predicts(server, project):
    from gradio_client import Client, handle_file
    client = Client(server + "/", verbose=False)
    f = project["images"]["glaucoma"][0]
    probs, photo, cam, note = client.predict(handle_file(str(f)), api_name="/predict")
    scores = {c["label"]: c["confidence"] for c in probs["confidences"]}
    want = expected(project, f)
    assert same_probs(scores, want["probs"]), (scores, want["probs"])
    assert probs["label"] == want["label"]
    assert f"**{want['label']}**" in note and f"by model {project['summary']['production']} " in note
    assert Path(photo).is_file() and Path(cam).is_file()


def test_rest_endpoints(server, project):
    s = project["summary"]; version = s["production"]
    h = httpx.get(server + "/health")
    assert (h.status_code, h.json()["status"], h.json()["model_version"]) == (200, "ok", version)
    m = httpx.get(server + "/v1/model").json()
    recorded = load_version(version, with_model=False)
    assert (m["version"], m["classes"], m["data_version"], m["backend"]) == (version, list(CLASSES), s["data_version"], "onnx")
    assert m["temperature"] == recorded.info["temperature"] and m["preprocessing"] == recorded.info["preprocessing"]
    assert m["metrics"] == {k: recorded.metrics[k] for k in m["metrics"]}   # the version's metrics.json, unchanged
    assert (m["metrics"]["macro_f1"], m["metrics"]["macro_f1_ci"], m["metrics"]["accuracy"]) == \
        (s["test_macro_f1"], list(s["test_macro_f1_ci"]), s["test_accuracy"])   # what the pipeline printed when it registered it
    assert "/v1/predict" in httpx.get(server + "/openapi.json").json()["paths"]
    f = project["images"]["cataract"][0]
    r = httpx.post(server + "/v1/predict", files={"file": (f.name, f.read_bytes(), "image/jpeg")}, timeout=30)
    assert (r.status_code, r.headers["x-model-version"]) == (200, version)
    body, want = r.json(), expected(project, f)
    assert same_probs(body["probs"], want["probs"]), (body["probs"], want["probs"])
    assert (body["label"], body["version"]) == (want["label"], version) and abs(body["confidence"] - want["confidence"]) < TOL
    assert body["low_confidence"] == (want["confidence"] < LOW_CONFIDENCE) and body["latency_ms"] > 0


def _predict(server, f: Path) -> dict:
    r = httpx.post(server + "/v1/predict", files={"file": (f.name, f.read_bytes(), "image/jpeg")}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _feedback_rows(project) -> list[dict]:
    f = project["root"]/"data/feedback/feedback.csv"
    return list(csv.DictReader(open(f))) if f.exists() else []


def test_feedback_rest(server, project, tmp_path):
    "Confirm, correct with consent (twice: idempotent), bad input; the CSV, the kept picture, /metrics and eye-monitor agree."
    f1, f2 = project["images"]["normal"][1], project["images"]["glaucoma"][1]
    version = project["summary"]["production"]
    before = [r for r in _feedback_rows(project) if r["model_version"] == version and r["label"] in CLASSES]   # earlier tests' answers
    p1, p2 = _predict(server, f1), _predict(server, f2)
    ok = httpx.post(server + "/v1/feedback", json=dict(prediction_id=p1["prediction_id"], label=p1["label"]))
    assert ok.status_code == 200 and (ok.json()["agreed"], ok.json()["image_kept"]) == (True, False), ok.text
    body = dict(prediction_id=p2["prediction_id"], label="glaucoma", keep_image=True, note="rim notch")
    fixed = [httpx.post(server + "/v1/feedback", json=body) for _ in range(2)]
    assert [r.status_code for r in fixed] == [200, 200] and [r.json()["replaced"] for r in fixed] == [False, True]
    rows = _feedback_rows(project)
    assert [r["prediction_id"] for r in rows].count(p2["prediction_id"]) == 1
    mine = {r["prediction_id"]: r for r in rows}
    assert (mine[p1["prediction_id"]]["label"], mine[p1["prediction_id"]]["file"]) == (p1["label"], "")
    kept = mine[p2["prediction_id"]]["file"]
    assert kept == f"glaucoma/{hashlib.sha256(f2.read_bytes()).hexdigest()}.jpg"
    assert (project["root"]/"data/feedback"/kept).read_bytes() == f2.read_bytes()
    text = (project["root"]/"data/feedback/feedback.csv").read_text()
    assert f1.name not in text and f2.name not in text   # never the uploaded file's name
    bad = [httpx.post(server + "/v1/feedback", json=dict(prediction_id="nope", label="normal")),
           httpx.post(server + "/v1/feedback", json=dict(prediction_id=p1["prediction_id"], label="Normal")),
           httpx.post(server + "/v1/feedback", json=dict(label="normal"))]
    assert [r.status_code for r in bad] == [404, 422, 422]
    metrics = httpx.get(server + "/metrics").text
    assert f'eye_feedback_answers{{verdict="agreed",version="{version}"}}' in metrics
    env = {**os.environ, "EYE_HOME": str(project["root"])}
    mon = subprocess.run([str(Path(sys.executable).parent/"eye-monitor"), "--out", str(tmp_path)], env=env, capture_output=True, text=True)
    assert f"feedback on {version}:" in mon.stdout and "clinicians agreed on" in mon.stdout and "Traceback" not in mon.stderr, mon.stdout + mon.stderr
    agr = json.loads((tmp_path/"agreement.json").read_text())[version]
    ours = [(p1["label"], p1["label"]), ("glaucoma", p2["label"])]   # (clinician, model) of the two answers above
    pairs = [(r["label"], r["predicted"]) for r in before] + ours
    assert (agr["graded"], agr["agreed"]) == (len(pairs), sum(t == p for t, p in pairs))
    assert agr["confusion"] == [[pairs.count((t, p)) for p in CLASSES] for t in CLASSES]
    assert agr["counts"]["glaucoma"] == sum(t == "glaucoma" for t, _ in pairs)


def test_load(server, project):
    "200 requests at concurrency 8: zero errors; prints latency percentiles and throughput (not asserted)."
    files = [f for fs in project["images"].values() for f in fs[:10]]
    payloads = [(f.name, f.read_bytes()) for f in files]
    def one(i):
        name, data = payloads[i % len(payloads)]
        t0 = time.perf_counter()
        r = httpx.post(server + "/v1/predict", files={"file": (name, data, "image/jpeg")}, timeout=60)
        return r.status_code, (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as ex: results = list(ex.map(one, range(200)))
    wall = time.perf_counter() - t0
    codes = [c for c, _ in results]; lat = sorted(l for _, l in results)
    print(f"\nload: 200 requests, concurrency 8: p50 {statistics.median(lat):.0f} ms, p95 {lat[int(0.95 * len(lat)) - 1]:.0f} ms, "
          f"{200 / wall:.1f} requests/s")
    assert codes == [200] * 200


def _fuzz_payloads(good: bytes, n=200, seed=0):
    "Malformed requests: (files, data, headers) tuples for httpx."
    rng = random.Random(seed)
    png = io.BytesIO(); Image.fromarray(np.zeros((80, 80, 3), np.uint8)).save(png, "PNG"); png = png.getvalue()
    huge = bytearray(png); huge[16:24] = (100000).to_bytes(4, "big") * 2   # IHDR claims 100000 x 100000
    kinds = [
        lambda: dict(files={"file": ("r.jpg", rng.randbytes(rng.randint(1, 5000)), "image/jpeg")}),
        lambda: dict(files={"file": ("t.jpg", good[: rng.randint(1, len(good) - 1)], "image/jpeg")}),
        lambda: dict(files={"file": ("t.png", png[: rng.randint(1, len(png) - 1)], "image/png")}),
        lambda: dict(files={"file": ("h.png", bytes(huge), "image/png")}),
        lambda: dict(files={"file": ("x.txt", good, rng.choice(["text/plain", "application/json", "video/mp4"]))}),
        lambda: dict(files={"file": ("e.jpg", b"", "image/jpeg")}),
        lambda: dict(files={"wrong": ("a.jpg", good, "image/jpeg")}),
        lambda: dict(content=rng.randbytes(100), headers={"content-type": "multipart/form-data; boundary=xyz"}),
        lambda: dict(content=b"", headers={"content-type": "application/json"}),
        lambda: dict(files={"file": ("tiny.png", _tiny(), "image/png")}),
    ]
    return [kinds[i % len(kinds)]() for i in range(n)]


def _tiny():
    b = io.BytesIO(); Image.new("RGB", (20, 20), "red").save(b, "PNG"); return b.getvalue()


def test_fuzz(server, project):
    "200 malformed payloads: every answer is 4xx, and the server is still healthy afterwards."
    good = project["images"]["normal"][0].read_bytes()
    codes = []
    with httpx.Client(timeout=30) as c:
        for kw in _fuzz_payloads(good): codes.append(c.post(server + "/v1/predict", **kw).status_code)
    assert all(400 <= s < 500 for s in codes), sorted(set(codes))
    assert httpx.get(server + "/health").json()["status"] == "ok"
