"""End to end against a live `eye-serve`: gradio_client, REST, load and fuzz."""
import io, random, statistics, time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from PIL import Image

from eye_classifier.core import CLASSES


def test_gradio_client_predicts(server, project):
    from gradio_client import Client, handle_file
    client = Client(server + "/", verbose=False)
    probs, photo, cam, note = client.predict(handle_file(str(project["images"]["glaucoma"][0])), api_name="/predict")
    scores = {c["label"]: c["confidence"] for c in probs["confidences"]}
    assert set(scores) == set(CLASSES)
    assert abs(sum(scores.values()) - 1) < 1e-3
    assert "model v" in note and Path(photo).is_file() and Path(cam).is_file()


def test_rest_endpoints(server, project):
    h = httpx.get(server + "/health")
    assert (h.status_code, h.json()["status"], h.json()["model_version"]) == (200, "ok", project["summary"]["production"])
    m = httpx.get(server + "/v1/model").json()
    assert m["classes"] == list(CLASSES) and 0 <= m["metrics"]["macro_f1"] <= 1
    assert "/v1/predict" in httpx.get(server + "/openapi.json").json()["paths"]
    f = project["images"]["cataract"][0]
    r = httpx.post(server + "/v1/predict", files={"file": (f.name, f.read_bytes(), "image/jpeg")}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["label"] in CLASSES and abs(sum(body["probs"].values()) - 1) < 1e-4 and body["latency_ms"] > 0


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
