"""The REST server: auth, error statuses, size limits, file routes, the OpenAPI file, waitress."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time

import numpy as np
import pytest
from backends import make_sqlite
from backends_extra import ServedStore
from tensorboard_server import serve_tensorboard
from werkzeug.test import Client

from tb_runhistory_plugin import Experiment, InvalidArgumentError, PayloadTooLargeError, StoreError
from tb_runhistory_plugin.server import ROUTES, RunHistoryApp
from tb_runhistory_plugin.server import app as app_module
from tb_runhistory_plugin.store._http import HttpStore

TOKEN = "s3cr3t-t0ken-never-logged"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPENAPI = os.path.join(os.path.dirname(app_module.__file__), "openapi.yaml")


@pytest.fixture
def backing(tmp_path):
    store = make_sqlite(tmp_path)
    yield store
    store.close()


@pytest.fixture
def app(backing):
    return RunHistoryApp(backing, token=TOKEN, max_request_bytes=64 * 1024)


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def run(backing):
    exp = backing.get_or_create_experiment("e")
    return backing.create_run(exp.id, run_id="r1", display_name="one", start_time=time.time())


def _error(resp):
    body = resp.get_json()
    assert resp.mimetype == "application/json" and set(body["error"]) == {"status", "type", "message"}
    assert body["error"]["status"] == resp.status_code
    return body["error"]


# -- auth ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}],
)
def test_requests_without_the_token_get_401(client, headers):
    resp = client.get("/api/v1/experiments", headers=headers)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert _error(resp)["type"] == "Unauthorized"
    assert TOKEN not in resp.get_data(as_text=True)


def test_the_token_opens_every_route_and_health_needs_none(client):
    assert client.get("/api/v1/experiments", headers=AUTH).status_code == 200
    assert client.get("/health").get_json() == {"status": "ok"}


def test_unknown_routes_need_the_token_too(client):
    assert client.get("/api/v1/nothing-here").status_code == 401
    assert _error(client.get("/api/v1/nothing-here", headers=AUTH))["status"] == 404


def test_token_compared_in_constant_time(client, monkeypatch):
    calls = []
    real = app_module.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(app_module.hmac, "compare_digest", spy)
    client.get("/api/v1/experiments", headers={"Authorization": "Bearer guess"})
    client.get("/api/v1/experiments", headers=AUTH)
    assert calls == [(b"guess", TOKEN.encode()), (TOKEN.encode(), TOKEN.encode())]


def test_no_token_configured_means_open(backing):
    assert Client(RunHistoryApp(backing)).get("/api/v1/experiments").status_code == 200


def test_token_never_logged(backing, caplog):
    caplog.set_level(logging.DEBUG)
    served = ServedStore(backing, token=TOKEN)
    try:
        exp = Experiment("e", store=served)
        with exp.start_logging("r") as r:
            r.log("x", 1.0)
        served.get_run(r.id)
        wrong = HttpStore(served.uri, token="not-" + TOKEN, timeout=2)
        with pytest.raises(StoreError, match="refused"):
            wrong.list_experiments()
        wrong.close()
    finally:
        served.close()
    assert "api/v1" in caplog.text  # requests were logged ...
    assert TOKEN not in caplog.text  # ... never with the token


# -- errors ----------------------------------------------------------------------
def test_bad_requests_get_400(client, run):
    assert _error(client.post("/api/v1/experiments", data="{not json", headers=AUTH))["type"] == "InvalidArgumentError"
    assert client.post("/api/v1/experiments", json=["a list"], headers=AUTH).status_code == 400
    assert client.post("/api/v1/experiments", json={"name": 3}, headers=AUTH).status_code == 400
    assert client.get("/api/v1/runs/r1/scalars?name=x&start=zero", headers=AUTH).status_code == 400
    assert client.get("/api/v1/runs/r1/scalars", headers=AUTH).status_code == 400
    assert client.get("/api/v1/experiments/x/runs?tags=[1]", headers=AUTH).status_code == 400
    bad_steps = {"run_id": "r1", "name": "x", "steps": "!!", "wall_times": "", "values": ""}
    assert client.post("/api/v1/metrics", json={"scalars": [bad_steps]}, headers=AUTH).status_code == 400
    short = {
        "run_id": "r1",
        "name": "x",
        "steps": base64.b64encode(np.zeros(2, "<i8").tobytes()).decode(),
        "wall_times": base64.b64encode(np.zeros(1, "<f8").tobytes()).decode(),
        "values": base64.b64encode(np.zeros(2, "<f8").tobytes()).decode(),
    }
    assert "differ in length" in _error(client.post("/api/v1/metrics", json={"scalars": [short]}, headers=AUTH))["message"]
    resp = client.post("/api/v1/metrics", json={}, headers={**AUTH, "Idempotency-Key": "bad key!"})
    assert resp.status_code == 400


def test_missing_things_get_404(client, run):
    assert _error(client.get("/api/v1/runs/ghost", headers=AUTH))["type"] == "NotFoundError"
    assert client.get("/api/v1/experiments/ghost", headers=AUTH).status_code == 404
    assert client.get("/api/v1/runs/r1/scalars?name=ghost", headers=AUTH).status_code == 404
    assert client.get("/api/v1/runs/r1/files/nothing.txt", headers=AUTH).status_code == 404


def test_conflicts_get_409(client, run, backing):
    body = {"run_id": "r1", "display_name": "again", "start_time": 1.0}
    assert _error(client.post(f"/api/v1/experiments/{run.experiment_id}/runs", json=body, headers=AUTH))["type"] == "ConflictError"
    backing.add_properties("r1", {"lr": 0.1})
    assert client.post("/api/v1/runs/r1/properties", json={"properties": {"lr": 0.2}}, headers=AUTH).status_code == 409
    assert client.post("/api/v1/runs/r1/status", json={"status": "Completed"}, headers=AUTH).status_code == 200
    assert client.post("/api/v1/runs/r1/status", json={"status": "Failed"}, headers=AUTH).status_code == 409


def test_wrong_method_gets_405_with_allow(client):
    resp = client.delete("/api/v1/experiments", headers=AUTH)
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


def test_bodies_over_the_limit_get_413(client, run):
    resp = client.put("/api/v1/runs/r1/files/big.bin", data=b"x" * (64 * 1024 + 1), headers=AUTH)
    assert _error(resp)["type"] == "PayloadTooLargeError"
    assert client.put("/api/v1/runs/r1/files/ok.bin", data=b"x" * 1024, headers=AUTH).status_code == 201


def test_413_through_the_client(backing, run):
    served = ServedStore(backing, token=TOKEN, max_request_bytes=4096)
    try:
        with pytest.raises(PayloadTooLargeError):
            served.put_file("r1", "big.bin", b"x" * 10_000)
        assert served.list_files("r1") == []
    finally:
        served.close()


def test_chunked_bodies_over_the_limit_get_413_not_truncated(backing, run):
    import requests

    served = ServedStore(backing, token=TOKEN, max_request_bytes=1000)
    try:
        chunks = (b"x" * 500 for _ in range(10))  # no Content-Length: Transfer-Encoding: chunked
        resp = requests.put(f"{served.uri}/api/v1/runs/r1/files/a.bin", data=chunks, headers=AUTH, timeout=10)
        assert resp.status_code == 413 and resp.json()["error"]["type"] == "PayloadTooLargeError"
        small = (b"y" * 100 for _ in range(3))
        assert requests.put(f"{served.uri}/api/v1/runs/r1/files/b.bin", data=small, headers=AUTH, timeout=10).status_code == 201
        assert [(f.name, f.size) for f in served.list_files("r1")] == [("b.bin", 300)]
    finally:
        served.close()


def test_server_bugs_become_json_500(backing, caplog):
    class Broken(RunHistoryApp):
        def _list_experiments(self, request):
            raise RuntimeError("boom")

    resp = Client(Broken(backing)).get("/api/v1/experiments")
    assert resp.status_code == 500 and _error(resp)["type"] == "InternalError" and "boom" not in resp.get_data(as_text=True)
    assert "boom" in caplog.text


# -- files -----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2E%2E/%2E%2E/x", "a/../../x", "a//b", "./x", "a\\..\\x"])
def test_file_routes_refuse_traversal(client, run, tmp_path, path):
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    resp = client.put(f"/api/v1/runs/r1/files/{path}", data=b"evil", headers=AUTH)
    assert resp.status_code in (400, 404)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert client.get(f"/api/v1/runs/r1/files/{path}", headers=AUTH).status_code in (400, 404)


def test_file_routes_round_trip_nested_names(client, run):
    assert client.put("/api/v1/runs/r1/files/logs/a%20b.txt", data=b"hello", headers=AUTH).get_json()["size"] == 5
    resp = client.get("/api/v1/runs/r1/files/logs/a%20b.txt", headers=AUTH)
    assert resp.data == b"hello" and resp.headers["Content-Disposition"] == "attachment"
    assert [f["name"] for f in client.get("/api/v1/runs/r1/files", headers=AUTH).get_json()] == ["logs/a b.txt"]


def test_client_refuses_bad_file_names_before_sending(backing, run):
    served = ServedStore(backing)
    try:
        for name in ("", "../x", "a//b", "/abs"):
            with pytest.raises(InvalidArgumentError):
                served.put_file("r1", name, b"x")
    finally:
        served.close()


# -- the route document ----------------------------------------------------------
def test_openapi_documents_exactly_the_routes():
    yaml = pytest.importorskip("yaml")
    with open(OPENAPI, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops if method != "parameters"}
    served = {(method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)) for method, path, _ in ROUTES}
    assert documented == served
    for path, ops in spec["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            declared = {p.get("name") or p["$ref"].rsplit("/", 1)[-1] for p in op.get("parameters", [])}
            resolved = {spec["components"]["parameters"][d]["name"] if d in spec["components"]["parameters"] else d for d in declared}
            assert names <= resolved, f"{path}: path parameters {names - resolved} not declared"
            assert op["responses"], path


def test_every_route_has_a_handler():
    for _, _, endpoint in ROUTES:
        assert callable(getattr(RunHistoryApp, f"_{endpoint}"))


# -- production server -----------------------------------------------------------
def test_runs_under_waitress(backing):
    waitress = pytest.importorskip("waitress")
    from waitress.server import create_server

    server = create_server(RunHistoryApp(backing, token=TOKEN), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        store = HttpStore(f"http://127.0.0.1:{server.effective_port}", token=TOKEN, timeout=10)
        exp = Experiment("prod", store=store)
        with exp.start_logging("served by waitress") as run:
            for i in range(50_000):
                run.log("loss", float(i))
            run.log_row("table", epoch=1, acc=0.5)
            run.upload_file("notes.txt", __file__)
        history = store.read_scalars(run.id, "loss")
        assert len(history) == 50_000 and np.array_equal(history.steps, np.arange(50_000))
        assert store.get_run(run.id).status == "Completed"
        assert store.read_file(run.id, "notes.txt") == open(__file__, "rb").read()
        assert json.loads(json.dumps([m.name for m in store.list_metrics(run.id)])) == ["loss", "table"]
        store.close()
    finally:
        server.close()
        assert waitress


# -- the command line and TensorBoard against a server URL ---------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_process(tmp_path):
    """`tb-runhistory server` in a child process with a token from the environment; yields (url, stderr path)."""
    import subprocess
    import sys

    import requests

    port, log_path = _free_port(), tmp_path / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tb_runhistory_plugin.cli", "server", "--store", str(tmp_path / "served"), "--port", str(port)],
            env={**os.environ, "RUNHISTORY_TOKEN": TOKEN},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("tb-runhistory server did not start:\n" + log_path.read_text())
                time.sleep(0.1)
        yield url, log_path
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_server_command_serves_a_store_with_a_token(server_process):
    import requests

    url, log_path = server_process
    assert requests.get(url + "/api/v1/experiments", timeout=5).status_code == 401
    store = HttpStore(url, token=TOKEN, timeout=10)
    with Experiment("cli", store=store).start_logging("r") as run:
        run.log_list("loss", [3.0, 2.0, 1.0])
    assert store.read_scalars(run.id, "loss").values.tolist() == [3.0, 2.0, 1.0]
    store.close()
    time.sleep(0.2)
    text = log_path.read_text()
    assert "/api/v1/metrics" in text and TOKEN not in text


def test_tensorboard_reads_a_server_url(server_process, tmp_path, monkeypatch):
    import requests

    url, _ = server_process
    writer = HttpStore(url, token=TOKEN, timeout=10)
    with Experiment("remote", store=writer).start_logging("r") as run:
        run.log_list("loss", [3.0, 2.0, float("nan"), 1.0])
    writer.close()
    monkeypatch.setenv("RUNHISTORY_TOKEN", TOKEN)
    with serve_tensorboard(tmp_path, "--load_fast", "false", "--runhistory_store", url) as base:
        experiments = requests.get(base + "data/plugin/runhistory/experiments", timeout=30).json()["experiments"]
        assert [e["name"] for e in experiments] == ["remote"]
        series = requests.get(base + f"data/plugin/runhistory/series?run={run.id}&name=loss", timeout=30).json()
        assert series["buckets"]["first"] == [3.0, 2.0, "NaN", 1.0]
