"""What an operator relies on, against a live `eye-serve` (or the whole app in-process where a second server adds
nothing): hot reload on promote/rollback, readiness, the API key, /metrics and the access log, the upload limit."""
import json, os, socket, subprocess, sys, time
from pathlib import Path
from urllib.parse import urlparse

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from eye_classifier.app import create_app
from eye_classifier.core import load_json
from eye_classifier.registry import model_dir, register

BIN = Path(sys.executable).parent


def eye_models(project, *args):
    r = subprocess.run([str(BIN/"eye-models"), *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "EYE_HOME": str(project["root"])})
    assert r.returncode == 0, r.stderr
    return r.stdout


def wait_version(server, version, timeout=15):
    t0 = time.time()
    while time.time() - t0 < timeout:
        h = httpx.get(server + "/health").json()
        if h["model_version"] == version: return time.time() - t0
        time.sleep(0.2)
    raise AssertionError(f"/health still reports {h['model_version']}, not {version}, after {timeout} s")


def predict(server, project, **kw):
    f = project["images"]["glaucoma"][0]
    return httpx.post(server + "/v1/predict", files={"file": (f.name, f.read_bytes(), "image/jpeg")}, timeout=60, **kw)


def test_promote_and_rollback_without_restart(server, project):
    v1 = project["summary"]["production"]
    v2 = register(project["summary"]["run"], metrics=load_json(model_dir()/v1/"metrics.json")).name
    assert httpx.get(server + "/health").json()["model_version"] == v1
    eye_models(project, "promote", v2)
    wait_version(server, v2)
    r = predict(server, project)
    assert (r.json()["version"], r.headers["x-model-version"]) == (v2, v2)
    eye_models(project, "rollback")
    wait_version(server, v1)
    assert predict(server, project).json()["version"] == v1


def scrape(server)->dict:
    text = httpx.get(server + "/metrics").text
    return {(s.name, *sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_metrics_move_and_access_log(server, project):
    before = scrape(server)
    labels = [predict(server, project).json()["label"] for _ in range(3)]
    after = scrape(server)
    ok = ("eye_http_requests_total", ("method", "POST"), ("route", "/v1/predict"), ("status", "200"))
    hist = ("eye_http_request_duration_seconds_count", ("method", "POST"), ("route", "/v1/predict"), ("status", "200"))
    assert after[ok] - before.get(ok, 0) == 3 and after[hist] - before.get(hist, 0) == 3
    version = project["summary"]["production"]
    pred = ("eye_predictions_total", ("label", labels[0]), ("version", version))
    assert after[pred] - before.get(pred, 0) == labels.count(labels[0])
    assert any(k[0] == "eye_model_info" and ("version", version) in k for k in after)
    lines = [json.loads(l) for l in (project["root"]/"server.log").read_text().splitlines() if l.startswith('{"time"')]
    hits = [l for l in lines if l["path"] == "/v1/predict" and l["status"] == 200]
    assert hits and hits[-1]["version"] == version and hits[-1]["ms"] > 0


def test_health_is_503_until_a_model_is_served(tmp_path):
    c = TestClient(create_app(root=tmp_path/"models", db=tmp_path/"p.db", reload_s=0))
    r = c.get("/health")
    assert (r.status_code, r.json()["status"]) == (503, "no_model")
    assert c.get("/v1/model").status_code == 503


def test_api_key(project, tmp_path):
    c = TestClient(create_app(db=tmp_path/"p.db", reload_s=0, api_key="s3cret"))
    f = project["images"]["normal"][0]
    post = lambda **h: c.post("/v1/predict", files={"file": (f.name, f.read_bytes(), "image/jpeg")}, headers=h).status_code
    assert (post(), post(**{"X-API-Key": "nope"}), post(**{"X-API-Key": "s3cret"}), post(Authorization="Bearer s3cret")) == (401, 401, 200, 200)
    assert (c.get("/health").status_code, c.get("/metrics").status_code, c.get("/v1/model").status_code) == (200, 200, 401)


def test_upload_over_limit_is_refused_before_it_is_read(server):
    "The request declares 200 MB and sends 64 KB of it: the 413 comes back without the server waiting for the rest."
    u = urlparse(server)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  b"Content-Length: %d\r\n\r\n" % (200 * 2**20) + b"\0" * 65536)
        head = b""
        while chunk := s.recv(4096): head += chunk   # the server answers, then closes the connection
        head = head.decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head[:200]
    assert "upload limit is 20 MB" in head
    assert httpx.get(server + "/health").status_code == 200
