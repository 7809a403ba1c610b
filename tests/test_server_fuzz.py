"""The REST server answers malformed input with 400 and its JSON error body, never a 5xx.

Hand-picked malformed requests first (each once gave a 500), then schemathesis fuzzing of every
operation in server/openapi.yaml: positive and negative cases, derandomized, at least 2,000
requests, zero 5xx.
"""

from __future__ import annotations

import base64
import json
import os
import time

import fuzz_routes
import numpy as np
import pytest
import requests
from backends import BACKENDS, make_sqlite
from backends_extra import ServedStore
from werkzeug.test import Client

from tb_runhistory_plugin._types import ScalarBatch
from tb_runhistory_plugin.server import ROUTES, RunHistoryApp
from tb_runhistory_plugin.server import app as app_module

OPENAPI = os.path.join(os.path.dirname(app_module.__file__), "openapi.yaml")
FUZZ_EXAMPLES = 45  # cases per operation and mode: 24 operations x 2 modes x 45 > 2,000 requests


def _b64(values, dtype) -> str:
    return base64.b64encode(np.asarray(values, dtype).tobytes()).decode()


@pytest.fixture
def backing(tmp_path):
    store = make_sqlite(tmp_path)
    exp = store.get_or_create_experiment("e")
    store.create_run(exp.id, run_id="r1", display_name="one", start_time=time.time())
    store.create_run(exp.id, run_id="r2", display_name="two", parent_id="r1", start_time=time.time())
    yield store
    store.close()


@pytest.fixture
def client(backing):
    return Client(RunHistoryApp(backing))


def _scalar_batch(**overrides):
    batch = {"run_id": "r1", "name": "x", "steps": _b64([0], "<i8"), "wall_times": _b64([1.0], "<f8"), "values": _b64([2.0], "<f8")}
    batch.update(overrides)
    return batch


def _record(**overrides):
    record = {"step": 0, "wall_time": 1.0, "meta": {"row": {"a": 1}}, "data": None}
    record.update(overrides)
    return record


def _table(*records, **overrides):
    batch = {"run_id": "r1", "name": "t", "kind": "table", "records": list(records) or [_record()]}
    batch.update(overrides)
    return batch


DEEP = "[" * 100_000 + "]" * 100_000
BAD_BODIES = {
    # JSON that is not a request
    "deeply nested array": ("POST", "/api/v1/experiments", DEEP),
    "deeply nested name": ("POST", "/api/v1/experiments", '{"name": ' + DEEP + "}"),
    "deeply nested metrics": ("POST", "/api/v1/metrics", '{"records": [' + json.dumps(_table())[:-1] + ', "x": ' + DEEP + "}]}"),
    # numbers that are not numbers
    "NaN start time": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "n", "start_time": NaN}'),
    "1e400 start time": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "n", "start_time": 1e400}'),
    "10**400 start time": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "n", "start_time": 1' + "0" * 400 + "}"),
    "Infinity heartbeat": ("POST", "/api/v1/heartbeats", '{"run_ids": ["r1"], "time": Infinity}'),
    "NaN end time": ("POST", "/api/v1/runs/r1/status", '{"status": "Completed", "end_time": NaN}'),
    "1e400 record wall time": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(wall_time=1.0))]}).replace("1.0", "1e400")),
    # integers beyond 64 bits
    "2**64 record step": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(step=2**64))]})),
    "2**70 property": ("POST", "/api/v1/runs/r1/properties", json.dumps({"properties": {"n": 2**70}})),
    "10**400 property": ("POST", "/api/v1/runs/r1/properties", '{"properties": {"n": 1' + "0" * 400 + "}}"),
    # wrong types and values the Python API refuses
    "number as experiment name": ("POST", "/api/v1/experiments", '{"name": 3}'),
    "experiment name with a slash": ("POST", "/api/v1/experiments", '{"name": "a/b"}'),
    "empty run id": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "", "display_name": "n", "start_time": 1}'),
    "control character in display name": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "a\\u0000b", "start_time": 1}'),
    "bool start time": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "n", "start_time": true}'),
    "list as tags": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "n", "start_time": 1, "tags": ["a"]}'),
    "object as tag value": ("POST", "/api/v1/runs/r1/tags", '{"tags": {"a": {"b": 1}}}'),
    "empty tag name": ("POST", "/api/v1/runs/r1/tags", '{"tags": {"": "v"}}'),
    "list as property value": ("POST", "/api/v1/runs/r1/properties", '{"properties": {"a": [1]}}'),
    "NaN property": ("POST", "/api/v1/runs/r1/properties", '{"properties": {"a": NaN}}'),
    "lone surrogate description": ("POST", "/api/v1/experiments/e/runs", '{"run_id": "r9", "display_name": "n", "start_time": 1, "description": "\\ud800"}'),
    "unknown status": ("POST", "/api/v1/runs/r1/status", '{"status": "Running"}'),
    "number as error": ("POST", "/api/v1/runs/r1/status", '{"status": "Failed", "error": 3}'),
    "number as run id in heartbeat": ("POST", "/api/v1/heartbeats", '{"run_ids": [3], "time": 1}'),
    "string as scalars": ("POST", "/api/v1/metrics", '{"scalars": "x"}'),
    "list as scalar batch": ("POST", "/api/v1/metrics", '{"scalars": [[1]]}'),
    "negative step": ("POST", "/api/v1/metrics", json.dumps({"scalars": [_scalar_batch(steps=_b64([-5], "<i8"))]})),
    "step over 2**62": ("POST", "/api/v1/metrics", json.dumps({"scalars": [_scalar_batch(steps=_b64([2**62 + 1], "<i8"))]})),
    "NaN wall time": ("POST", "/api/v1/metrics", json.dumps({"scalars": [_scalar_batch(wall_times=_b64([float("nan")], "<f8"))]})),
    "empty metric name": ("POST", "/api/v1/metrics", json.dumps({"scalars": [_scalar_batch(name="")]})),
    "bool record step": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(step=True))]})),
    "string record wall time": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(wall_time="now"))]})),
    "list as record": ("POST", "/api/v1/metrics", json.dumps({"records": [_table("x")]})),
    "lone surrogate in record meta": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(meta={"row": {"a": "\ud800"}}))]})),
    "2**64 in record meta": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(meta={"row": {"a": 2**64}}))]})),
    "number as record data": ("POST", "/api/v1/metrics", json.dumps({"records": [_table(_record(data=3))]})),
    "number as last-values ids": ("POST", "/api/v1/last-values", '{"run_ids": 3}'),
}
BAD_QUERIES = {
    "limit=1e30": "/api/v1/experiments/e/runs?limit=1e30",
    "limit=10**30": "/api/v1/experiments/e/runs?limit=1" + "0" * 30,
    "offset=2**64": f"/api/v1/experiments/e/runs?offset={2**64}",
    "negative limit": "/api/v1/experiments/e/runs?limit=-1",
    "negative offset": "/api/v1/experiments/e/runs?offset=-1",
    "unknown status": "/api/v1/experiments/e/runs?status=Nope",
    "deeply nested tags": "/api/v1/experiments/e/runs/count?tags=" + "[" * 50_000 + "]" * 50_000,
    "tags with an empty key": "/api/v1/experiments/e/runs?tags=%7B%22%22%3A%22v%22%7D",
    "start=2**64": f"/api/v1/runs/r1/scalars?name=x&start={2**64}",
    "stop=-2**70": f"/api/v1/runs/r1/records?name=x&stop={-(2**70)}",
    "negative start": "/api/v1/runs/r1/scalars?name=x&start=-1",
    "metric name with a control character": "/api/v1/runs/r1/scalars?name=a%01b",
    "run id with a control character": "/api/v1/runs/a%01b",
    "overlong run id": "/api/v1/runs/" + "a" * 300,
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_malformed_bodies_get_400_with_the_json_error_body(client, case):
    method, path, body = BAD_BODIES[case]
    resp = client.open(path, method=method, data=body, content_type="application/json")
    assert resp.status_code == 400, (case, resp.status_code, resp.data[:300])
    error = resp.get_json()["error"]
    assert error["status"] == 400 and error["type"] == "InvalidArgumentError" and error["message"]


@pytest.mark.parametrize("case", sorted(BAD_QUERIES))
def test_malformed_queries_get_400_with_the_json_error_body(client, case):
    resp = client.get(BAD_QUERIES[case])
    assert resp.status_code == 400, (case, resp.status_code, resp.data[:300])
    assert resp.get_json()["error"]["type"] == "InvalidArgumentError"


def test_malformed_input_over_a_real_socket_gets_400(tmp_path):
    """The same answers through werkzeug's threaded server and requests, and the server keeps serving."""
    served = ServedStore(make_sqlite(tmp_path / "socket"))
    try:
        for case in ("deeply nested array", "1e400 start time", "2**64 record step", "NaN wall time"):
            method, path, body = BAD_BODIES[case]
            resp = requests.request(method, served.uri + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
            assert resp.status_code == 400 and resp.json()["error"]["type"] == "InvalidArgumentError", (case, resp.text[:300])
        resp = requests.get(served.uri + BAD_QUERIES["limit=1e30"], timeout=30)
        assert resp.status_code == 400 and "'limit'" in resp.json()["error"]["message"]
        assert served.get_or_create_experiment("still-fine").name == "still-fine"
    finally:
        served.close()


def test_what_the_python_api_writes_is_still_accepted(client, backing):
    """NaN and infinite metric values, NaN table cells and big-but-64-bit ints pass as before."""
    batch = _scalar_batch(values=_b64([float("nan")], "<f8"), steps=_b64([2**62], "<i8"))
    cells = {"a": float("nan"), "b": float("inf"), "c": 2**63 - 1, "d": None, "e": "text", "f": True}
    body = json.dumps({"scalars": [batch], "records": [_table(_record(meta={"row": cells}))]})
    resp = client.post("/api/v1/metrics", data=body, content_type="application/json")
    assert resp.status_code == 200, resp.data
    props = client.post("/api/v1/runs/r1/properties", json={"properties": {"big": 2**63 - 1, "x": 0.5, "s": "t", "n": None}})
    assert props.status_code == 200, props.data
    assert backing.get_run("r1").properties["big"] == 2**63 - 1
    assert np.isnan(backing.read_scalars("r1", "x").values[0])


def test_every_route_is_in_the_fuzzed_openapi_file():
    schema = fuzz_routes.load(OPENAPI)
    fuzzed = {(op.method.upper(), op.path) for op in fuzz_routes.operations(schema)}
    routed = {(method, path.replace("<path:name>", "{name}").replace("<", "{").replace(">", "}")) for method, path, _ in ROUTES}
    assert fuzzed == routed


def _check(case, response) -> str | None:
    if response.status_code >= 500:
        return f"answered {response.status_code}: {response.content[:300]!r}"
    return fuzz_routes.error_body_problem(response, plugin=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_backing(request, tmp_path):
    """The backing of test_fuzzing_every_route_gives_no_5xx, on each SQL store."""
    store = BACKENDS[request.param](tmp_path)
    exp = store.get_or_create_experiment("e")
    store.create_run(exp.id, run_id="r1", display_name="one", start_time=time.time())
    store.create_run(exp.id, run_id="r2", display_name="two", parent_id="r1", start_time=time.time())
    yield store
    store.close()


def test_fuzzing_every_route_gives_no_5xx(any_backing):
    """Schemathesis (positive and negative cases, fixed seed) over every operation: zero 5xx."""
    backing = any_backing
    exp = backing.get_experiment("e")
    backing.write_metrics([ScalarBatch("r1", "x", np.arange(3, dtype=np.int64), np.ones(3), np.array([1.0, float("nan"), 3.0]), "float", "")])
    backing.put_file("r1", "f.txt", b"hello")
    app = RunHistoryApp(backing, max_request_bytes=1 << 20)
    scenarios = [
        {"experiment_id": exp.id, "name_or_id": "e", "run_id": "r1", "name": "x", "parent_id": "r1"},
        {"experiment_id": "e", "name_or_id": exp.id, "run_id": "r1", "name": "f.txt", "parent_id": "__roots__"},
        {"experiment_id": exp.id, "name_or_id": "e", "run_id": "r2", "name": "x", "parent_id": "r1"},
    ]
    report = fuzz_routes.fuzz(fuzz_routes.load(OPENAPI), app, examples=FUZZ_EXAMPLES, scenarios=scenarios, check=_check)
    assert not report.failures, f"{len(report.failures)} failures:\n" + "\n".join(report.failures[:40])
    assert report.requests >= 2_000, report.by_operation
    assert len(report.by_operation) == len(ROUTES)
    print(f"fuzzed {report.requests} requests: statuses {sorted(report.statuses.items())}; 2xx on {len(report.ok_operations)} operations")
    assert len(report.ok_operations) >= len(ROUTES) // 2, sorted(set(report.by_operation) - report.ok_operations)
