"""The plugin's routes through TensorBoard's own WSGI app, against a real SQLite store in tmp_path."""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import math

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.plugins import base_plugin
from werkzeug.test import Client

from tb_runhistory_plugin import Experiment, RunFilter
from tb_runhistory_plugin.plugin._views import runs_impl, sweep_impl
from tb_runhistory_plugin.plugin.plugin import RunHistoryPlugin

PREFIX = "/data/plugin/runhistory"
WEIRD_NAME = 'weird <b>name</b> & "quotes" </script>'


def make_client(tmp_path, store=None, **flags):
    """A test client on a TensorBoard app holding only our plugin."""
    namespace = argparse.Namespace(logdir=str(tmp_path / "logs"), runhistory_store=None, **flags)
    context = base_plugin.TBContext(logdir=namespace.logdir, flags=namespace)
    plugin = RunHistoryPlugin(context, store=store)
    return Client(application.TensorBoardWSGI([plugin])), plugin


def get_json(client, path, status=200, **kwargs):
    response = client.get(PREFIX + path, **kwargs)
    assert response.status_code == status, (path, response.status_code, response.data[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return json.loads(response.data)


@pytest.fixture
def data(sqlite_store):
    """A sweep (parent + 3 children), and an odd failed run with every kind of metric."""
    exp = Experiment("ridge-sweep", store=sqlite_store)
    root = exp.start_logging(display_name="sweep", tags={"team": "vision"}, properties={"dataset": "mnist"})
    children = []
    for alpha in (0.1, 0.3, 0.5):
        with root.child_run(f"alpha{alpha}", tags={"alpha": alpha, "opt": "adam"}, properties={"alpha": alpha}) as run:
            run.log("lr", 0.01)
            for step in range(100):
                run.log("train/loss", 1 / (step + 1) + alpha)
            run.log_row("by_alpha", alpha=alpha, mse=3.2 - alpha, note="text cells are not params")
            children.append(run.id)
    root.complete()
    odd = exp.start_logging(display_name=WEIRD_NAME, description="<img src=x onerror=alert(1)>")
    for value in (1.0, float("nan"), float("inf"), float("-inf"), 2.0):
        odd.log("nonfinite", value)
    odd.log_image("samples", array=np.zeros((4, 5, 3), np.uint8), step=0)
    odd.log_image("samples", array=np.full((2, 3), 255, np.uint8), step=1)
    odd.log_histogram("weights", np.linspace(0, 1, 100), step=0, bins=4)
    odd.log_histogram("weights", np.linspace(1, 2, 100), step=1, bins=4)
    odd.log_table("tbl", {"a": [1, 2], "b": ["x", None]})
    odd.log_row("tbl", a=3, c="<script>")
    odd.fail("boom <b>")
    return {"store": sqlite_store, "exp": exp, "root": root.id, "children": children, "odd": odd.id}


@pytest.fixture
def client(tmp_path, data):
    made, _ = make_client(tmp_path, store=data["store"])
    return made


# -- /experiments and /runs -------------------------------------------------------------------


def test_experiments_counts_runs_by_status(client, data):
    body = get_json(client, "/experiments")
    assert body["hint"] is None and body["store"]["found"] is True
    (exp,) = body["experiments"]
    assert exp["name"] == "ridge-sweep" and exp["id"] == data["exp"].id
    assert exp["run_count"] == 5 and exp["root_count"] == 2
    assert exp["status_counts"] == {"Completed": 4, "Failed": 1, "Canceled": 0, "Running": 0, "NotResponding": 0}
    assert exp["last_activity"] >= exp["created_at"]


def test_runs_lists_roots_then_children_lazily(client, data):
    body = get_json(client, "/runs?experiment=ridge-sweep")
    assert body["total"] == 2 and body["parent"] is None
    root, odd = body["runs"]
    assert root["id"] == data["root"] and root["child_count"] == 3 and root["status"] == "Completed"
    assert root["tags"] == {"team": "vision"} and root["properties"] == {"dataset": "mnist"}
    assert odd["display_name"] == WEIRD_NAME  # returned as data, never escaped
    assert odd["error"] == "boom <b>"
    children = get_json(client, f"/runs?parent={data['root']}")
    assert [r["id"] for r in children["runs"]] == data["children"]
    assert children["total"] == 3 and children["parent"] == data["root"]
    first = children["runs"][0]
    assert first["parent_id"] == data["root"]
    assert first["metrics"]["lr"] == 0.01
    assert first["metrics"]["train/loss"] == pytest.approx(1 / 100 + 0.1)
    assert "by_alpha" not in first["metrics"]  # tables have no last value
    assert children["metric_names"] == ["lr", "train/loss"]


def test_runs_filters_and_pages(client, data):
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*")["total"] == 5
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&status=Failed")["runs"][0]["id"] == data["odd"]
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&status=Failed,Completed")["total"] == 5
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&status=Failed&status=Completed")["total"] == 5
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&tag=alpha:0.3")["runs"][0]["id"] == data["children"][1]
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&tag=alpha")["total"] == 3
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&tag=alpha&tag=opt:sgd")["total"] == 0
    assert get_json(client, "/runs?experiment=ridge-sweep&parent=*&q=alpha0.5")["total"] == 1
    page = get_json(client, f"/runs?parent={data['root']}&limit=2&offset=1")
    assert [r["id"] for r in page["runs"]] == data["children"][1:] and page["total"] == 3
    newest = get_json(client, f"/runs?parent={data['root']}&limit=2&order=desc")
    assert [r["id"] for r in newest["runs"]] == data["children"][::-1][:2]
    last = get_json(client, f"/runs?parent={data['root']}&limit=2&offset=2&order=desc")
    assert [r["id"] for r in last["runs"]] == data["children"][:1]
    assert get_json(client, f"/runs?parent={data['root']}&offset=10")["runs"] == []
    by_id = get_json(client, f"/runs?experiment={data['exp'].id}")
    assert by_id["experiment"]["name"] == "ridge-sweep"


@pytest.mark.parametrize(
    "query, status, fragment",
    [
        ("", 400, "'experiment'"),
        ("?parent=*", 400, "'experiment'"),
        ("?experiment=ridge-sweep&limit=0", 400, "'limit'"),
        ("?experiment=ridge-sweep&limit=1001", 400, "'limit'"),
        ("?experiment=ridge-sweep&limit=ten", 400, "'ten'"),
        ("?experiment=ridge-sweep&offset=-1", 400, "'offset'"),
        ("?experiment=ridge-sweep&status=Done", 400, "'Done'"),
        ("?experiment=ridge-sweep&tag=:v", 400, "'tag'"),
        ("?experiment=ridge-sweep&order=up", 400, "'order'"),
        ("?experiment=ridge-sweep&experiment=x", 400, "given 2 times"),
        ("?experiment=nope", 404, "'nope'"),
        ("?parent=nope", 404, "'nope'"),
    ],
)
def test_runs_errors(client, query, status, fragment):
    assert fragment in get_json(client, "/runs" + query, status=status)["error"]


def test_runs_parent_from_another_experiment_is_400(client, data):
    Experiment("other", store=data["store"])
    body = get_json(client, f"/runs?experiment=other&parent={data['root']}", status=400)
    assert "ridge-sweep" in body["error"]


def test_runs_impl_is_callable_without_http(data):
    body = runs_impl(data["store"], experiment="ridge-sweep", parent="*", filter=RunFilter(statuses=("Completed",)), limit=10)
    assert body["total"] == 4


# -- /run -------------------------------------------------------------------------------------


def test_run_details(client, data):
    child = data["children"][0]
    body = get_json(client, f"/run?id={child}")
    assert body["run"]["id"] == child and body["run"]["experiment_id"] == data["exp"].id
    assert body["ancestors"] == [{"id": data["root"], "display_name": "sweep", "status": "Completed"}]
    kinds = {m["name"]: (m["kind"], m["count"]) for m in body["metrics"]}
    assert kinds == {"lr": ("scalar", 1), "train/loss": ("scalar", 100), "by_alpha": ("table", 1)}
    odd = get_json(client, f"/run?id={data['odd']}")
    assert odd["run"]["description"] == "<img src=x onerror=alert(1)>"
    assert odd["run"]["status"] == "Failed" and odd["ancestors"] == []
    assert {m["name"]: m["kind"] for m in odd["metrics"]} == {"nonfinite": "scalar", "samples": "image", "weights": "histogram", "tbl": "table"}
    assert odd["files"] == []


def test_run_errors(client):
    assert "'id'" in get_json(client, "/run", status=400)["error"]
    assert "'nope'" in get_json(client, "/run?id=nope", status=404)["error"]


# -- /series ----------------------------------------------------------------------------------


def test_series_small_is_every_point(client, data):
    child = data["children"][0]
    body = get_json(client, f"/series?run={child}&name=train/loss")
    assert body["total"] == 100 and body["downsampled"] is False and body["x"] == "step"
    buckets = body["buckets"]
    assert buckets["step"] == list(range(100)) and buckets["count"] == [1] * 100
    assert buckets["min"][0] == pytest.approx(1.1) and buckets["last"][-1] == pytest.approx(0.11)


def test_series_downsamples_and_keeps_bounds(client, data):
    child = data["children"][0]
    body = get_json(client, f"/series?run={child}&name=train/loss&points=10")
    buckets = body["buckets"]
    assert body["downsampled"] is True and len(buckets["count"]) == 10 and sum(buckets["count"]) == 100
    assert buckets["step"][:3] == [0, 10, 20]
    assert buckets["max"][0] == pytest.approx(1.1) and buckets["first"][0] == pytest.approx(1.1)
    assert buckets["min"][-1] == pytest.approx(0.11) and buckets["last"][-1] == pytest.approx(0.11)
    exact = get_json(client, f"/series?run={child}&name=train/loss&points=10&exact=1")["buckets"]
    assert exact["mean"][0] == pytest.approx(sum(1 / (s + 1) + 0.1 for s in range(10)) / 10, rel=1e-14)
    # float32 unless exact=1: the shortest text that reads back as the same float32
    assert np.float32(buckets["mean"][0]) == np.float32(exact["mean"][0]) and buckets["mean"][0] != exact["mean"][0]
    ranged = get_json(client, f"/series?run={child}&name=train/loss&xmin=10&xmax=19.5")["buckets"]
    assert ranged["step"] == list(range(10, 20))


def test_series_wall_time_and_relative_ranges(client, data):
    child = data["children"][0]
    body = get_json(client, f"/series?run={child}&name=train/loss&x=relative")
    origin = body["origin"]
    assert origin == min(body["buckets"]["wall_time"])
    everything = get_json(client, f"/series?run={child}&name=train/loss&x=relative&xmin=0&xmax=1e9")
    assert sum(everything["buckets"]["count"]) == 100
    none = get_json(client, f"/series?run={child}&name=train/loss&x=wall_time&xmax={origin - 1}")
    assert none["buckets"]["count"] == []


def test_nan_and_infinity_survive_json(client, data):
    body = get_json(client, f"/series?run={data['odd']}&name=nonfinite")
    buckets = body["buckets"]
    assert buckets["first"] == [1.0, "NaN", "Infinity", "-Infinity", 2.0]
    assert buckets["min"] == [1.0, "NaN", "NaN", "NaN", 2.0]  # over finite values: none in those buckets
    assert buckets["nonfinite"] == [0, 1, 1, 1, 0]
    one = get_json(client, f"/series?run={data['odd']}&name=nonfinite&points=1")["buckets"]
    assert one["count"] == [5] and one["nonfinite"] == [3]
    assert one["min"] == [1.0] and one["max"] == [2.0] and one["mean"] == [1.5] and one["last"] == [2.0]
    raw = get_json(client, f"/series?run={data['odd']}&name=nonfinite&raw=1")["points"]["value"]
    assert raw == [1.0, "NaN", "Infinity", "-Infinity", 2.0]
    runs = get_json(client, "/runs?experiment=ridge-sweep")
    assert runs["runs"][1]["metrics"]["nonfinite"] == 2.0
    # The same strings TensorBoard's own responder writes, and what JSON.parse accepts (no bare NaN).
    text = client.get(PREFIX + f"/series?run={data['odd']}&name=nonfinite&raw=1").data.decode()
    assert "NaN," not in text.replace('"NaN",', "") and "Infinity," not in text.replace('"Infinity",', "")


def test_series_raw_pages(client, data):
    child = data["children"][0]
    body = get_json(client, f"/series?run={child}&name=train/loss&raw=1&limit=30&offset=90")
    assert body["points"]["step"] == list(range(90, 100)) and body["next_offset"] is None and body["total"] == 100
    page = get_json(client, f"/series?run={child}&name=train/loss&raw=1&limit=30")
    assert page["next_offset"] == 30 and len(page["points"]["value"]) == 30
    assert page["points"]["value"][0] == 1.1  # exact


@pytest.mark.parametrize(
    "query, status, fragment",
    [
        ("?name=x", 400, "'run'"),
        ("?run={child}", 400, "'name'"),
        ("?run={child}&name=train/loss&points=0", 400, "'points'"),
        ("?run={child}&name=train/loss&points=10001", 400, "'points'"),
        ("?run={child}&name=train/loss&x=epoch", 400, "'x'"),
        ("?run={child}&name=train/loss&xmin=abc", 400, "'xmin'"),
        ("?run={child}&name=train/loss&xmax=nan", 400, "'xmax'"),
        ("?run={child}&name=train/loss&raw=maybe", 400, "'raw'"),
        ("?run={child}&name=train/loss&raw=1&limit=100001", 400, "'limit'"),
        ("?run={child}&name=train/loss&raw=1&offset=-3", 400, "'offset'"),
        ("?run={child}&name=train/loss&raw=1&xmin=3", 400, "'xmin' does not apply"),
        ("?run={child}&name=by_alpha", 400, "table"),
        ("?run={child}&name=nope", 404, "'nope'"),
        ("?run=nope&name=train/loss", 404, "'nope'"),
    ],
)
def test_series_errors(client, data, query, status, fragment):
    assert fragment in get_json(client, "/series" + query.format(child=data["children"][0]), status=status)["error"]


# -- /compare ---------------------------------------------------------------------------------


def test_compare_overlays_runs_in_order(client, data):
    ids = data["children"][::-1]
    body = get_json(client, f"/compare?runs={','.join(ids)}&name=train/loss&points=5")
    assert [s["run"] for s in body["series"]] == ids
    for series, alpha in zip(body["series"], (0.5, 0.3, 0.1)):
        assert len(series["buckets"]["count"]) == 5 and series["buckets"]["max"][0] == pytest.approx(1 + alpha)
    repeated = get_json(client, f"/compare?runs={ids[0]}&runs={ids[1]},{ids[0]}&name=train/loss")
    assert [s["run"] for s in repeated["series"]] == ids[:2]


def test_compare_marks_runs_without_the_metric(client, data):
    body = get_json(client, f"/compare?runs={data['children'][0]},{data['root']},{data['odd']}&name=train/loss")
    ok, missing, odd = body["series"]
    assert ok["total"] == 100 and "buckets" in ok
    assert "has no metric" in missing["error"] and "buckets" not in missing
    assert "has no metric" in odd["error"]
    wrong_kind = get_json(client, f"/compare?runs={data['children'][0]}&name=by_alpha")["series"][0]
    assert "table" in wrong_kind["error"]


@pytest.mark.parametrize(
    "query, status, fragment",
    [
        ("?name=train/loss", 400, "'runs'"),
        ("?runs=,&name=train/loss", 400, "'runs'"),
        ("?runs={child}", 400, "'name'"),
        ("?runs={many}&name=train/loss", 400, "at most 100"),
        ("?runs={child}&name=train/loss&points=-1", 400, "'points'"),
        ("?runs={child},nope&name=train/loss", 404, "'nope'"),
    ],
)
def test_compare_errors(client, data, query, status, fragment):
    path = "/compare" + query.format(child=data["children"][0], many=",".join(f"r{i}" for i in range(101)))
    assert fragment in get_json(client, path, status=status)["error"]


# -- /sweep -----------------------------------------------------------------------------------


def test_sweep_matrix_of_params_and_metrics(client, data):
    body = get_json(client, f"/sweep?parent={data['root']}")
    assert body["total"] == 3 and [r["id"] for r in body["runs"]] == data["children"]
    keys = [c["key"] for c in body["columns"]]
    assert keys == ["property:alpha", "tag:alpha", "tag:opt", "scalar:lr", "row:by_alpha/alpha", "row:by_alpha/mse", "scalar:train/loss"]
    columns = {c["key"]: c for c in body["columns"]}
    assert columns["scalar:train/loss"]["kind"] == "metric" and columns["scalar:lr"]["kind"] == "param"
    assert columns["tag:alpha"]["numeric"] is True and columns["tag:opt"]["numeric"] is False
    alpha = [row[keys.index("property:alpha")] for row in body["values"]]
    mse = [row[keys.index("row:by_alpha/mse")] for row in body["values"]]
    loss = [row[keys.index("scalar:train/loss")] for row in body["values"]]
    assert alpha == [0.1, 0.3, 0.5]
    assert mse == pytest.approx([3.1, 2.9, 2.7])
    assert loss == pytest.approx([0.11, 0.31, 0.51])
    assert [row[keys.index("tag:alpha")] for row in body["values"]] == ["0.1", "0.3", "0.5"]
    paged = sweep_impl(data["store"], data["root"], limit=1, offset=2)
    assert [r["id"] for r in paged["runs"]] == data["children"][2:] and paged["total"] == 3


def test_sweep_of_a_run_without_children_is_empty(client, data):
    body = get_json(client, f"/sweep?parent={data['odd']}")
    assert body["runs"] == [] and body["columns"] == [] and body["values"] == []


def test_sweep_errors(client):
    assert "'parent'" in get_json(client, "/sweep", status=400)["error"]
    assert "'limit'" in get_json(client, "/sweep?parent=x&limit=0", status=400)["error"]
    assert "'nope'" in get_json(client, "/sweep?parent=nope", status=404)["error"]


# -- /table, /images, /image, /histograms -----------------------------------------------------


def test_table_merges_rows_and_tables(client, data):
    body = get_json(client, f"/table?run={data['odd']}&name=tbl")
    assert body["column_names"] == ["a", "b", "c"] and body["row_count"] == 3 and body["records"] == 2
    assert body["columns"] == {"a": [1, 2, 3], "b": ["x", None, None], "c": [None, None, "<script>"]}
    page = get_json(client, f"/table?run={data['odd']}&name=tbl&offset=1&limit=1")
    assert page["columns"] == {"a": [3], "c": ["<script>"]} and page["next_offset"] is None
    first = get_json(client, f"/table?run={data['odd']}&name=tbl&limit=1")
    assert first["next_offset"] == 1


def test_images_and_image_bytes(client, data):
    listing = get_json(client, f"/images?run={data['odd']}&name=samples")["images"]
    assert [(i["index"], i["step"], i["width"], i["height"], i["content_type"]) for i in listing] == [
        (0, 0, 5, 4, "image/png"),
        (1, 1, 3, 2, "image/png"),
    ]
    response = client.get(PREFIX + f"/image?run={data['odd']}&name=samples&index=0")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    latest = client.get(PREFIX + f"/image?run={data['odd']}&name=samples")
    assert latest.data == client.get(PREFIX + f"/image?run={data['odd']}&name=samples&index=1").data != response.data
    assert client.get(PREFIX + f"/image?run={data['odd']}&name=samples&index=-2").data == response.data


def test_histograms(client, data):
    body = get_json(client, f"/histograms?run={data['odd']}&name=weights")
    assert body["total"] == 2 and [h["step"] for h in body["histograms"]] == [0, 1]
    first = body["histograms"][0]["histogram"]
    assert sum(first["counts"]) == 100 and len(first["edges"]) == len(first["counts"]) + 1
    thinned = get_json(client, f"/histograms?run={data['odd']}&name=weights&points=1")
    assert [h["index"] for h in thinned["histograms"]] == [1]


@pytest.mark.parametrize(
    "path, status, fragment",
    [
        ("/table?run={odd}", 400, "'name'"),
        ("/table?name=tbl", 400, "'run'"),
        ("/table?run={odd}&name=tbl&limit=0", 400, "'limit'"),
        ("/table?run={odd}&name=samples", 400, "image"),
        ("/table?run={odd}&name=nope", 404, "'nope'"),
        ("/table?run=nope&name=tbl", 404, "'nope'"),
        ("/images?run={odd}", 400, "'name'"),
        ("/images?run={odd}&name=tbl", 400, "table"),
        ("/images?run={odd}&name=nope", 404, "'nope'"),
        ("/image?name=samples", 400, "'run'"),
        ("/image?run={odd}&name=samples&index=first", 400, "'index'"),
        ("/image?run={odd}&name=weights", 400, "histogram"),
        ("/image?run={odd}&name=samples&index=2", 404, "index 2"),
        ("/image?run={odd}&name=samples&index=-3", 404, "index -3"),
        ("/image?run=nope&name=samples", 404, "'nope'"),
        ("/histograms?run={odd}", 400, "'name'"),
        ("/histograms?run={odd}&name=weights&points=0", 400, "'points'"),
        ("/histograms?run={odd}&name=nonfinite", 400, "scalar"),
        ("/histograms?run={odd}&name=nope", 404, "'nope'"),
    ],
)
def test_record_route_errors(client, data, path, status, fragment):
    assert fragment in get_json(client, path.format(odd=data["odd"]), status=status)["error"]


# -- /download --------------------------------------------------------------------------------


def test_download_scalar_csv_and_json(client, data):
    child = data["children"][0]
    response = client.get(PREFIX + f"/download?run={child}&name=train/loss&format=csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="alpha0.1-train_loss.csv"')
    lines = response.data.decode().splitlines()
    assert lines[0] == "step,wall_time,value" and len(lines) == 101
    assert lines[1].startswith("0,") and lines[1].endswith(",1.1")
    body = json.loads(client.get(PREFIX + f"/download?run={child}&name=train/loss&format=json").data)
    assert body["step"] == list(range(100)) and body["value"][0] == 1.1 and len(body["wall_time"]) == 100


def test_download_nonfinite_and_records(client, data):
    odd = data["odd"]
    csv_text = client.get(PREFIX + f"/download?run={odd}&name=nonfinite").data.decode()
    assert [line.split(",")[2] for line in csv_text.splitlines()[1:]] == ["1.0", "nan", "inf", "-inf", "2.0"]
    as_json = json.loads(client.get(PREFIX + f"/download?run={odd}&name=nonfinite&format=json").data)
    assert as_json["value"] == [1.0, "NaN", "Infinity", "-Infinity", 2.0]
    table = client.get(PREFIX + f"/download?run={odd}&name=tbl").data.decode().splitlines()
    assert table == ["a,b,c", "1,x,", "2,,", "3,,<script>"]
    histogram = client.get(PREFIX + f"/download?run={odd}&name=weights").data.decode().splitlines()
    assert histogram[0] == "step,wall_time,left,right,count" and len(histogram) == 1 + 2 * 4
    images = json.loads(client.get(PREFIX + f"/download?run={odd}&name=samples&format=json").data)
    assert [i["width"] for i in images["images"]] == [5, 3]


def test_download_whole_run(client, data):
    odd = data["odd"]
    response = client.get(PREFIX + f"/download?run={odd}&format=json")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="weird_b_name_b_quotes_script.json"')
    assert "filename*=UTF-8''weird%20%3Cb%3Ename" in disposition
    body = json.loads(response.data)
    assert body["run"]["display_name"] == WEIRD_NAME
    assert set(body["data"]) == {"nonfinite", "samples", "tbl", "weights"}
    assert body["data"]["nonfinite"]["value"][1] == "NaN"
    assert body["data"]["tbl"]["columns"]["a"] == [1, 2, 3]
    lines = client.get(PREFIX + f"/download?run={data['children'][0]}").data.decode().splitlines()
    assert lines[0] == "metric,step,wall_time,value" and len(lines) == 1 + 1 + 100
    assert lines[1].startswith("lr,0,") and lines[2].startswith("train/loss,0,")


@pytest.mark.parametrize(
    "query, status, fragment",
    [
        ("", 400, "'run'"),
        ("?run={odd}&format=xml", 400, "'format'"),
        ("?run=nope", 404, "'nope'"),
        ("?run={odd}&name=nope", 404, "'nope'"),
    ],
)
def test_download_errors(client, data, query, status, fragment):
    assert fragment in get_json(client, "/download" + query.format(odd=data["odd"]), status=status)["error"]


# -- every route: methods, gzip, security headers ---------------------------------------------


def test_every_route_is_get_only(client, data):
    for route in ("/experiments", "/runs", "/run", "/series", "/compare", "/sweep", "/table", "/image", "/download", "/index.js", "/x.js"):
        response = client.post(PREFIX + route)
        assert response.status_code == 405, route
        assert response.headers["Allow"] == "GET, HEAD"
        assert "POST" in json.loads(response.data)["error"]
    assert client.delete(PREFIX + "/runs?experiment=ridge-sweep").status_code == 405
    assert client.head(PREFIX + "/experiments").status_code == 200


def test_large_json_is_gzipped_when_accepted(client, data):
    child = data["children"][0]
    response = client.get(PREFIX + f"/series?run={child}&name=train/loss", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["total"] == 100
    plain = client.get(PREFIX + f"/series?run={child}&name=train/loss")
    assert "Content-Encoding" not in plain.headers and json.loads(plain.data)["total"] == 100


def test_no_security_warnings_from_tensorboard(client, data, caplog):
    """TensorBoard's validator logs (and will raise on) responses without nosniff or a content type."""
    child = data["children"][0]
    caplog.set_level(logging.WARNING)
    for path in (
        "/experiments",
        f"/series?run={child}&name=train/loss",
        f"/download?run={child}&name=train/loss",
        f"/image?run={data['odd']}&name=samples",
        "/run?id=nope",
        "/nope.js",
    ):
        client.get(PREFIX + path)
    assert not [r for r in caplog.records if "will become an error" in r.getMessage()]


def test_unexpected_errors_are_a_500_without_traceback(tmp_path, data, monkeypatch, caplog):
    client, plugin = make_client(tmp_path, store=data["store"])

    def broken(*args, **kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(data["store"], "list_experiments", broken)
    response = client.get(PREFIX + "/experiments")
    assert response.status_code == 500
    body = json.loads(response.data)
    assert body == {"error": "internal error (ZeroDivisionError); the TensorBoard log has the details"}
    assert "Traceback" not in response.data.decode() and "secret" not in response.data.decode()
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)
    assert plugin.is_active() is False  # is_active never raises


def test_store_errors_are_503(tmp_path, data, monkeypatch):
    from tb_runhistory_plugin.errors import StoreError

    client, _ = make_client(tmp_path, store=data["store"])

    def locked(*args, **kwargs):
        raise StoreError("SQLite store stayed locked for 600 s")

    monkeypatch.setattr(data["store"], "get_run", locked)
    assert get_json(client, "/run?id=x", status=503) == {"error": "SQLite store stayed locked for 600 s"}


def test_json_numbers_are_finite_or_strings(client, data):
    """Nothing in any response is a bare NaN/Infinity token that JSON.parse would reject."""
    odd = data["odd"]
    for path in (f"/run?id={odd}", f"/series?run={odd}&name=nonfinite", "/runs?experiment=ridge-sweep&parent=*", f"/compare?runs={odd}&name=nonfinite"):
        json.loads(client.get(PREFIX + path).data, parse_constant=lambda token: pytest.fail(f"bare {token} in {path}"))


def test_all_floats_are_finite_in_bucket_columns(client, data):
    buckets = get_json(client, f"/series?run={data['odd']}&name=nonfinite")["buckets"]
    for column in buckets.values():
        for value in column:
            assert isinstance(value, str) or math.isfinite(value)


# --- /file --------------------------------------------------------------------


def test_file_route_serves_a_run_file_as_an_attachment(tmp_path, sqlite_store):
    run = Experiment("files", store=sqlite_store).start_logging("with files")
    source = tmp_path / "model card.html"
    source.write_text("<script>alert(1)</script>")
    run.upload_file("outputs/model card.html", source)
    run.complete()
    client, _ = make_client(tmp_path, store=sqlite_store)
    response = client.get(PREFIX + "/file", query_string={"run": run.id, "name": "outputs/model card.html"})
    assert response.status_code == 200
    assert response.data == b"<script>alert(1)</script>"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Disposition"].startswith('attachment; filename="model_card.html"')
    assert "filename*=UTF-8''model%20card.html" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    "query, status, fragment",
    [
        ({"name": "a.txt"}, 400, "run"),
        ({"run": "RUN"}, 400, "name"),
        ({"run": "RUN", "name": "../../etc/passwd"}, 400, ".."),
        ({"run": "RUN", "name": "/etc/passwd"}, 400, "relative"),
        ({"run": "RUN", "name": "missing.txt"}, 404, "missing.txt"),
        ({"run": "no-such-run", "name": "a.txt"}, 404, "no-such-run"),
    ],
)
def test_file_route_errors(tmp_path, sqlite_store, query, status, fragment):
    run = Experiment("files", store=sqlite_store).start_logging("with files")
    (tmp_path / "a.txt").write_text("hello")
    run.upload_file("a.txt", tmp_path / "a.txt")
    run.complete()
    query = {k: v.replace("RUN", run.id) for k, v in query.items()}
    client, _ = make_client(tmp_path, store=sqlite_store)
    response = client.get(PREFIX + "/file", query_string=query)
    assert response.status_code == status
    assert fragment in response.get_json()["error"]
