"""The plugin's routes: 400 for malformed parameters, 503 for unreadable data, never a 200 that failed.

Hand-picked malformed queries, a really corrupted SQLite store (503 with a JSON message), a
download that breaks mid-stream over a real socket (the client sees a broken response), and
schemathesis fuzzing of every route in plugin/openapi.yaml (zero 5xx).
"""

from __future__ import annotations

import json
import os
import sqlite3

import chart_docs
import fuzz_routes
import numpy as np
import pytest
import requests
import yaml
from tensorboard.plugins import base_plugin
from tensorboard_server import serve_tensorboard
from test_plugin_routes import PREFIX, make_client

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.plugin import plugin as plugin_module
from tb_runhistory_plugin.plugin.plugin import RunHistoryPlugin
from tb_runhistory_plugin.store import SQLiteStore

OPENAPI = os.path.join(os.path.dirname(plugin_module.__file__), "openapi.yaml")
FUZZ_EXAMPLES = 80  # cases per operation and mode: 12 operations x 2 modes + 2 without parameters, x 80 > 2,000 requests
BIG = 10**20


@pytest.fixture
def data(sqlite_store, tmp_path):
    """A sweep of two children, and a run with a table, images, histograms and a file."""
    exp = Experiment("ridge-sweep", store=sqlite_store)
    root = exp.start_logging(display_name="sweep")
    children = []
    for alpha in (0.1, 0.3):
        with root.child_run(f"alpha{alpha}", tags={"alpha": alpha}, properties={"alpha": alpha}) as run:
            for step in range(50):
                run.log("train/loss", 1 / (step + 1) + alpha)
            run.log_row("by_alpha", alpha=alpha, mse=3.2 - alpha)
            children.append(run.id)
    root.complete()
    odd = exp.start_logging(display_name="odd")
    for value in (1.0, float("nan"), float("inf")):
        odd.log("nonfinite", value)
    odd.log_image("samples", array=np.zeros((4, 5, 3), np.uint8))
    odd.log_histogram("weights", np.linspace(0, 1, 100), bins=4)
    odd.log_table("tbl", {"a": [1, 2], "b": ["x", None]})
    odd.log_confusion_matrix("cm", chart_docs.doc("confusion_matrix"))
    odd.log_accuracy_table("acc", chart_docs.doc("accuracy_table"))
    source = tmp_path / "a.txt"
    source.write_text("hello")
    odd.upload_file("out/a.txt", source)
    odd.complete()
    return {"store": sqlite_store, "exp": exp, "root": root.id, "children": children, "odd": odd.id}


@pytest.fixture
def client(tmp_path, data):
    made, _ = make_client(tmp_path, store=data["store"])
    return made


def _error(client, path, status):
    response = client.get(PREFIX + path)
    assert response.status_code == status, (path, response.status_code, response.data[:300])
    body = json.loads(response.data)
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


# -- malformed parameters: 400 with a message ---------------------------------------------------
MALFORMED = [
    f"/runs?experiment=ridge-sweep&offset={BIG}",
    f"/runs?experiment=ridge-sweep&order=desc&offset={BIG}",
    f"/sweep?parent={{root}}&offset={BIG}",
    f"/table?run={{odd}}&name=tbl&offset={BIG}",
    f"/series?run={{odd}}&name=nonfinite&raw=1&offset={BIG}",
    f"/image?run={{odd}}&name=samples&index={BIG}",
    f"/image?run={{odd}}&name=samples&index=-{BIG}",
    "/series?run={odd}&name=nonfinite&xmin=1e400",
    "/series?run={odd}&name=nonfinite&xmax=NaN",
    "/run?id=a%00b",
    "/run?id=" + "x" * 300,
    "/series?run={odd}&name=a%01b",
    "/compare?runs={odd},a%00b&name=nonfinite",
    "/runs?experiment=a%00b",
    "/runs?experiment=ridge-sweep&tag=a%00:v",
    "/download?run={odd}&name=" + "n" * 300,
    "/file?run={odd}&name=../etc/passwd",
]


@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_parameters_get_400_with_a_message(client, data, path):
    _error(client, path.format(root=data["root"], odd=data["odd"]), 400)


def test_the_offset_of_the_issue_names_the_parameter(client):
    message = _error(client, f"/runs?experiment=ridge-sweep&offset={BIG}", 400)
    assert "'offset'" in message and str(BIG) in message


# -- unreadable data: 503 with a message, never a 200 ------------------------------------------
def _break_chunks(store_path) -> None:
    """Corrupt the database file for real: the table holding every scalar point is gone."""
    with sqlite3.connect(os.path.join(store_path, "runhistory.db")) as conn:
        conn.execute("DROP TABLE chunks")


def test_unreadable_data_is_503_with_a_message(tmp_path, data):
    path = data["store"].db_path.rsplit(os.sep, 1)[0]
    data["store"].close()
    _break_chunks(path)
    client, _ = make_client(tmp_path, store=SQLiteStore(path, read_only=True))
    child, odd = data["children"][0], data["odd"]
    for route in (
        f"/series?run={child}&name=train/loss",
        f"/series?run={child}&name=train/loss&raw=1",
        f"/compare?runs={child},{odd}&name=train/loss",
        f"/download?run={child}&name=train/loss",
        f"/download?run={child}&name=train/loss&format=json",
        f"/download?run={child}",
        f"/download?run={odd}&format=json",
    ):
        assert "chunks" in _error(client, route, 503), route


def test_a_download_that_breaks_mid_stream_is_a_broken_response(tmp_path):
    """Over a real socket: the body is cut off (no final chunk), never a complete 200."""
    store_dir = tmp_path / "store"
    store = SQLiteStore(store_dir)
    with Experiment("big", store=store).start_logging("long") as run:
        run.log_list("a_loss", np.arange(300_000, dtype=np.float64))  # megabytes of JSON before the table
        run.log_row("z_table", a=1)
    store.close()
    with sqlite3.connect(store_dir / "runhistory.db") as conn:
        assert conn.execute("UPDATE records SET meta = '{not json'").rowcount == 1  # the table's record is unreadable
    params = {"run": run.id, "format": "json"}
    with serve_tensorboard(tmp_path / "logs", "--runhistory_store", str(store_dir)) as url:
        streamed = requests.get(f"{url}{PREFIX}/download", params=params, stream=True, timeout=60)
        assert streamed.status_code == 200  # the headers went out before the broken record was read ...
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
            _ = streamed.content  # ... and the body breaks off instead of ending as if complete
        streamed.close()


# -- the OpenAPI file and fuzzing ------------------------------------------------------------------
def test_the_openapi_file_lists_every_route():
    routes = set(RunHistoryPlugin(base_plugin.TBContext()).get_plugin_apps())
    schema = fuzz_routes.load(OPENAPI)
    listed = {op.path for op in fuzz_routes.operations(schema)}
    assert {"/*" if path == "/{path}" else path for path in listed} == routes
    assert {op.method.upper() for op in fuzz_routes.operations(schema)} == {"GET"}


def _check(case, response) -> str | None:
    if response.status_code >= 500:
        return f"answered {response.status_code}: {response.content[:300]!r}"
    return fuzz_routes.error_body_problem(response, plugin=True)


def test_fuzzing_every_route_gives_no_5xx(tmp_path, data):
    """Schemathesis (positive and negative cases, fixed seed) over every plugin route: zero 5xx."""
    client, _ = make_client(tmp_path, store=data["store"])
    root, child, odd = data["root"], data["children"][0], data["odd"]
    everyone = ",".join([root, *data["children"], odd])
    base = {"experiment": "ridge-sweep", "parent": root, "runs": everyone, "path": "index.js"}
    scenarios = [
        {**base, "run": child, "id": child, "name": "train/loss"},
        {**base, "run": child, "id": root, "name": "by_alpha", "parent": "*", "path": "lib/chart.js"},
        {**base, "run": odd, "id": odd, "name": "samples", "experiment": data["exp"].id},
        {**base, "run": odd, "id": odd, "name": "weights", "path": "vendor/uPlot.min.css"},
        {**base, "run": odd, "id": odd, "name": "tbl"},
        {**base, "run": odd, "id": odd, "name": "cm"},
        {**base, "run": odd, "id": odd, "name": "acc"},
        {**base, "run": odd, "id": odd, "name": "nonfinite", "runs": f"{odd},{child}"},
        {**base, "run": odd, "id": odd, "name": "out/a.txt"},
    ]
    report = fuzz_routes.fuzz(fuzz_routes.load(OPENAPI), client.application, examples=FUZZ_EXAMPLES, scenarios=scenarios, check=_check)
    assert not report.failures, f"{len(report.failures)} failures:\n" + "\n".join(report.failures[:40])
    assert report.requests >= 2_000, report.by_operation
    print(f"fuzzed {report.requests} requests: statuses {sorted(report.statuses.items())}; 2xx on {len(report.ok_operations)} operations")
    assert set(report.by_operation) == {f"GET {route}" for route in yaml.safe_load(open(OPENAPI, encoding="utf-8"))["paths"]}, (
        "every documented route is fuzzed"
    )
    assert len(report.ok_operations) >= 10, sorted(set(report.by_operation) - report.ok_operations)
