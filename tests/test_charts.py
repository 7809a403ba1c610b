"""The standard charts: documents checked field by field, stored as typed records on every store, served and downloaded."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
from chart_docs import HOSTILE_LABEL, METHODS, doc
from test_plugin_routes import PREFIX, get_json, make_client

from tb_runhistory_plugin import ConflictError, Experiment, InvalidArgumentError
from tb_runhistory_plugin._charts import MAX_CLASSES, accuracy_curves, chart_document
from tb_runhistory_plugin.server import RunHistoryApp

KINDS = list(METHODS)


def _set(path, value):
    """A mutation setting doc[path...] = value (path keys separated by dots)."""

    def mutate(d):
        *parents, last = path.split(".")
        for key in parents:
            d = d[key]
        d[last] = value

    return mutate


def _delete(path):
    def mutate(d):
        *parents, last = path.split(".")
        for key in parents:
            d = d[key]
        del d[last]

    return mutate


BAD = [
    # every kind: the envelope
    *[(kind, _delete("schema_type"), "missing field 'schema_type'") for kind in KINDS],
    *[(kind, _delete("schema_version"), "missing field 'schema_version'") for kind in KINDS],
    *[(kind, _delete("data"), "missing field 'data'") for kind in KINDS],
    *[(kind, _set("schema_version", 1), "schema_version must be a version string") for kind in KINDS],
    *[(kind, _set("schema_version", " "), "schema_version must be a version string") for kind in KINDS],
    *[(kind, _set("data", [1, 2]), "data must be an object") for kind in KINDS],
    *[(kind, _set("extra", 1), "unknown field 'extra'") for kind in KINDS],
    (
        "confusion_matrix",
        _set("schema_type", "residuals"),
        "schema_type must be 'confusion_matrix', got 'residuals' (a residuals document goes to log_residuals)",
    ),
    ("residuals", _set("schema_type", "Residuals"), "schema_type must be 'residuals'"),
    # confusion matrix
    ("confusion_matrix", _delete("data.matrix"), "data is missing field 'matrix'"),
    ("confusion_matrix", _delete("data.class_labels"), "data is missing field 'class_labels'"),
    ("confusion_matrix", _set("data.class_labels", []), "data.class_labels must not be empty"),
    ("confusion_matrix", _set("data.class_labels", "abc"), "data.class_labels must be a list"),
    ("confusion_matrix", _set("data.class_labels", ["a", "b", None]), "data.class_labels[2] must be a string or an integer, got NoneType"),
    ("confusion_matrix", _set("data.class_labels", ["a", True, "c"]), "data.class_labels[1] must be a string or an integer, got bool"),
    ("confusion_matrix", _set("data.class_labels", ["a", "b", "a"]), "data.class_labels[2] repeats label 'a' (also at index 0)"),
    ("confusion_matrix", _set("data.class_labels", ["a", "b", "bad\ud800"]), "not valid Unicode"),
    ("confusion_matrix", _set("data.matrix", [[1, 2, 3], [4, 5, 6]]), "data.matrix must be 3 x 3 (a row and a column per class label), got 2 x 3"),
    ("confusion_matrix", _set("data.matrix", [[1, 2, 3], [4, 5], [7, 8, 9]]), "data.matrix has rows of unequal lengths"),
    ("confusion_matrix", _set("data.matrix", [[1, 2, 3], [4, "5", 6], [7, 8, 9]]), "data.matrix[1][1] must be a number, got str '5'"),
    ("confusion_matrix", _set("data.matrix", [[1, 2, 3], [4, 5, 6], [7, None, 9]]), "data.matrix[2][1] must be a number, got NoneType"),
    ("confusion_matrix", _set("data.matrix", [[1, 2, 3], [4, -5, 6], [7, 8, 9]]), "data.matrix[1][1] is a count and must not be negative, got -5"),
    ("confusion_matrix", _set("data.matrix", [[1, 2, 3], [4, 5, math.nan], [7, 8, 9]]), "data.matrix[1][2] must be a finite number, got nan"),
    ("confusion_matrix", _set("data.matrix", [[True] * 3] * 3), "data.matrix must hold numbers, got booleans"),
    ("confusion_matrix", _set("data.matrix", [1, 2, 3]), "data.matrix must be a list of lists of numbers (2 dimensions), got 1 dimensions"),
    ("confusion_matrix", _set("data.matrix", {"a": 1}), "data.matrix must be a list of lists of numbers, got dict"),
    ("confusion_matrix", _set("data.matrix", np.array([["a"] * 3] * 3)), "must hold numbers, got a numpy array of <U1"),
    # accuracy table
    ("accuracy_table", _delete("data.percentile_tables"), "data is missing field 'percentile_tables'"),
    (
        "accuracy_table",
        _set("data.probability_thresholds", [0.0, 0.25, 0.5, 0.75, 1.5]),
        "data.probability_thresholds[4] must be a probability between 0 and 1, got 1.5",
    ),
    (
        "accuracy_table",
        _set("data.probability_thresholds", [0.0, 0.5, 0.25, 0.75, 1.0]),
        "data.probability_thresholds must be non-decreasing, but item 2 (0.25) follows 0.5",
    ),
    ("accuracy_table", _set("data.percentile_thresholds", []), "data.percentile_thresholds must have between 1 and"),
    (
        "accuracy_table",
        _set("data.probability_thresholds", [0.0, 0.5, 1.0]),
        "data.probability_tables must be 2 x 3 x 4 (per class label, per threshold: TP, FP, TN, FN), got 2 x 5 x 4",
    ),
    ("accuracy_table", _set("data.class_labels", ["0", "1", "2"]), "data.probability_tables must be 3 x 5 x 4"),
    ("accuracy_table", _set("data.percentile_tables", [[[1, 2, 3]] * 3] * 2), "data.percentile_tables must be 2 x 3 x 4"),
    ("accuracy_table", _set("data.percentile_tables", [[[1, 2, 3, -4]] * 3] * 2), "data.percentile_tables[0][0][3] is a count and must not be negative"),
    # residuals
    ("residuals", _delete("data.bin_counts"), "data is missing field 'bin_counts'"),
    ("residuals", _set("data.bin_counts", [1, 2, 3]), "data.bin_counts must have 4 items (one per bin between the 5 bin_edges), got 3"),
    ("residuals", _set("data.bin_edges", [0.0]), "data.bin_edges must have between 2 and"),
    ("residuals", _set("data.bin_edges", [0.0, 1.0, 1.0, 2.0, 3.0]), "data.bin_edges must be increasing, but item 2 (1.0) follows 1.0"),
    ("residuals", _set("data.bin_edges", [0.0, 1.0, 2.0, 3.0, math.inf]), "data.bin_edges[4] must be a finite number, got inf"),
    ("residuals", _set("data.mean", math.nan), "data.mean must be JSON (numbers finite)"),
    ("residuals", _set("data.note", "nul\x00"), "data.note must not contain a NUL character"),
    # predictions
    ("predictions", _delete("data.bin_errors"), "data is missing field 'bin_errors'"),
    ("predictions", _set("data.bin_averages", [0.3, 1.1]), "data.bin_averages must have 3 items"),
    ("predictions", _set("data.bin_averages", [None, None, 2.4]), "data.bin_averages[0] must be a number: bin 0 holds 5 values (null is only for empty bins)"),
    ("predictions", _set("data.bin_errors", [0.1, None, -0.2]), "data.bin_errors[2] is a spread and must not be negative"),
    ("predictions", _set("data.bin_counts", [5, 0.5, -7]), "data.bin_counts[2] is a count and must not be negative"),
]


@pytest.mark.parametrize(("kind", "mutate", "fragment"), BAD, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD)])
def test_bad_documents_raise_naming_the_field(sqlite_store, kind, mutate, fragment):
    run = Experiment("e", store=sqlite_store).start_logging()
    document = doc(kind)
    mutate(document)
    with pytest.raises(InvalidArgumentError) as info:
        getattr(run, METHODS[kind])("chart", document)
    message = str(info.value)
    assert message.startswith(f"{METHODS[kind]}('chart'): "), message
    assert fragment in message, message
    run.complete()
    assert run.get_metrics() == {}, "a refused document stores nothing"


@pytest.mark.parametrize("value", ["{not json", "[1, 2]", "null", b"\xff\xfe", 42, None, ["schema_type"]])
def test_not_a_document(sqlite_store, value):
    run = Experiment("e", store=sqlite_store).start_logging()
    with pytest.raises(InvalidArgumentError, match=r"log_residuals\('r'\): the document"):
        run.log_residuals("r", value)
    run.complete()


def test_too_many_classes_and_bad_names(sqlite_store):
    run = Experiment("e", store=sqlite_store).start_logging()
    labels = [str(i) for i in range(MAX_CLASSES + 1)]
    big = {"schema_type": "confusion_matrix", "schema_version": "1", "data": {"class_labels": labels, "matrix": [[0]]}}
    with pytest.raises(InvalidArgumentError, match=f"{MAX_CLASSES + 1} labels, over the limit of {MAX_CLASSES}"):
        run.log_confusion_matrix("cm", big)
    with pytest.raises(InvalidArgumentError, match="metric name"):
        run.log_confusion_matrix("", doc("confusion_matrix"))
    with pytest.raises(InvalidArgumentError, match="step"):
        run.log_residuals("r", doc("residuals"), step=-3)
    with pytest.raises(InvalidArgumentError, match="no standard chart of kind 'pie'"):
        chart_document("pie", "x", {})
    run.complete()


@pytest.mark.parametrize("kind", KINDS)
def test_every_store_keeps_each_chart_as_logged(store, kind):
    """SQLite, PostgreSQL and the HTTP client (through the server's own checks) give back the document."""
    exp = Experiment("charts", store=store)
    run = exp.start_logging(display_name="r")
    first, second = doc(kind), doc(kind)
    getattr(run, METHODS[kind])("chart", first, description="a standard chart")
    getattr(run, METHODS[kind])("chart", json.dumps(second), step=7)  # JSON text, like the original
    run.complete()
    [metric] = store.list_metrics(run.id)
    assert (metric.kind, metric.count, metric.description) == (kind, 2, "a standard chart")
    records = store.read_records(run.id, "chart")
    assert [r.step for r in records] == [0, 7]
    for record, expected in zip(records, (first, second)):
        assert record.meta == expected
        assert record.data is None
    assert run.get_metrics()["chart"][1]["data"] == second["data"]


def test_numpy_documents_become_plain_json(sqlite_store):
    run = Experiment("e", store=sqlite_store).start_logging()
    matrix = np.array([[5, 1], [2, 7]], dtype=np.int32)
    run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "schema_version": "1.0.0", "data": {"class_labels": np.array([0, 1]), "matrix": matrix}})
    edges = np.linspace(-1, 1, 5)
    counts = np.array([1.0, 4.0, 4.0, 1.0])
    extra = {"mean": np.float64(0.25), "res_count": np.int64(10)}
    run.log_residuals("res", {"schema_type": "residuals", "schema_version": "1.0.0", "data": {"bin_edges": edges, "bin_counts": counts, **extra}})
    averages = np.array([0.5, np.nan])  # numpy's mean of an empty bin
    run.log_predictions(
        "pred",
        {
            "schema_type": "predictions",
            "schema_version": "1.0.0",
            "data": {"bin_averages": averages, "bin_errors": np.array([0.1, np.nan]), "bin_counts": [4, 0], "bin_edges": [0, 1, 2]},
        },
    )
    run.complete()
    cm = sqlite_store.read_records(run.id, "cm")[0].meta["data"]
    assert cm == {"class_labels": [0, 1], "matrix": [[5, 1], [2, 7]]}
    assert all(type(v) is int for row in cm["matrix"] for v in row)
    res = sqlite_store.read_records(run.id, "res")[0].meta["data"]
    assert res == {"bin_edges": [-1.0, -0.5, 0.0, 0.5, 1.0], "bin_counts": [1, 4, 4, 1], "mean": 0.25, "res_count": 10}, "unknown fields are kept"
    pred = sqlite_store.read_records(run.id, "pred")[0].meta["data"]
    assert pred["bin_averages"] == [0.5, None] and pred["bin_errors"] == [0.1, None]


def test_one_kind_per_name_and_ended_runs(sqlite_store):
    run = Experiment("e", store=sqlite_store).start_logging()
    run.log_confusion_matrix("m", doc("confusion_matrix"))
    with pytest.raises(InvalidArgumentError, match="already holds confusion_matrix data"):
        run.log_residuals("m", doc("residuals"))
    run.log("loss", 1.0)
    with pytest.raises(InvalidArgumentError, match="already holds scalar data"):
        run.log_predictions("loss", doc("predictions"))
    run.complete()
    with pytest.raises(ConflictError, match="has ended"):
        run.log_accuracy_table("acc", doc("accuracy_table"))


def test_the_server_checks_documents_itself(sqlite_store):
    """A client that skips the Python checks still cannot store a chart the tab cannot draw."""
    from werkzeug.test import Client

    exp = sqlite_store.get_or_create_experiment("e")
    sqlite_store.create_run(exp.id, run_id="r1", display_name="one", start_time=1.0)
    client = Client(RunHistoryApp(sqlite_store))
    bad = doc("confusion_matrix")
    bad["data"]["matrix"] = [[1]]
    batch = {"run_id": "r1", "name": "cm", "kind": "confusion_matrix", "records": [{"step": 0, "wall_time": 1.0, "meta": bad}]}
    response = client.post("/api/v1/metrics", json={"records": [batch]})
    assert response.status_code == 400, response.data
    assert "data.matrix must be 3 x 3" in response.get_json()["error"]["message"]
    batch["kind"] = "pie"
    response = client.post("/api/v1/metrics", json={"records": [batch]})
    assert response.status_code == 400 and "record kind must be one of" in response.get_json()["error"]["message"]
    assert sqlite_store.list_metrics("r1") == []


def test_accuracy_curves():
    data = chart_document("accuracy_table", "a", doc("accuracy_table"))["data"]
    first = accuracy_curves(data)[0]
    assert first["label"] == "0"
    np.testing.assert_allclose(first["recall"], [1, 5 / 6, 4 / 6, 2 / 6, 0])
    np.testing.assert_allclose(first["fpr"], [1, 2 / 4, 1 / 4, 0, 0])
    np.testing.assert_allclose(first["precision"][:4], [6 / 10, 5 / 7, 4 / 5, 1])
    assert math.isnan(first["precision"][4]), "no predicted positive: precision undefined"
    assert len(accuracy_curves(data, "percentile")[1]["tp"]) == 3


# -- the plugin: /chart and downloads ----------------------------------------------------------
@pytest.fixture
def charted(sqlite_store, tmp_path):
    run = Experiment("charts", store=sqlite_store).start_logging(display_name="charted")
    for kind in KINDS:
        getattr(run, METHODS[kind])(kind, doc(kind))
    second = doc("confusion_matrix")
    second["data"]["matrix"][0][0] = 99
    run.log_confusion_matrix("confusion_matrix", second, step=5)
    run.log("loss", 0.5)
    run.complete()
    client, _ = make_client(tmp_path, store=sqlite_store)
    return client, run.id


def test_chart_route_serves_the_latest_and_each_by_index(charted):
    client, run_id = charted
    latest = get_json(client, f"/chart?run={run_id}&name=confusion_matrix")
    assert (latest["kind"], latest["total"], latest["index"], latest["step"]) == ("confusion_matrix", 2, 1, 5)
    assert latest["data"]["matrix"][0][0] == 99 and latest["data"]["class_labels"][2] == HOSTILE_LABEL
    assert [s["step"] for s in latest["steps"]] == [0, 5]
    first = get_json(client, f"/chart?run={run_id}&name=confusion_matrix&index=0")
    assert first["data"] == doc("confusion_matrix")["data"]
    for kind in KINDS[1:]:
        answer = get_json(client, f"/chart?run={run_id}&name={kind}")
        assert (answer["schema_type"], answer["data"]) == (kind, doc(kind)["data"])
    kinds = {m["name"]: m["kind"] for m in get_json(client, f"/run?id={run_id}")["metrics"]}
    assert kinds == {**{k: k for k in KINDS}, "loss": "scalar"}


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ("name=residuals", 400, "'run'"),
        ("run={run}", 400, "'name'"),
        ("run={run}&name=loss", 400, "holds scalar data"),
        ("run={run}&name=nope", 404, "no metric 'nope'"),
        ("run=nope&name=residuals", 404, "nope"),
        ("run={run}&name=residuals&index=1", 404, "has 1 charts; no index 1"),
        ("run={run}&name=residuals&index=-2", 404, "no index -2"),
        ("run={run}&name=residuals&index=x", 400, "index"),
    ],
)
def test_chart_route_errors(charted, query, status, fragment):
    client, run_id = charted
    body = get_json(client, "/chart?" + query.format(run=run_id), status=status)
    assert fragment in body["error"], body


def _download(client, run_id, name, fmt):
    response = client.get(f"{PREFIX}/download?run={run_id}&name={name}&format={fmt}")
    assert response.status_code == 200, response.data[:300]
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data.decode()


def test_downloads_as_csv_and_json(charted):
    client, run_id = charted
    rows = list(csv.reader(io.StringIO(_download(client, run_id, "confusion_matrix", "csv"))))
    assert rows[0] == ["step", "wall_time", "actual", "predicted", "count"]
    assert len(rows) == 1 + 2 * 9
    assert rows[1][2:] == ["cat", "cat", "10"] and rows[-1][2:] == [HOSTILE_LABEL, HOSTILE_LABEL, "30"]
    assert rows[10][0] == "5" and rows[10][4] == "99"
    rows = list(csv.reader(io.StringIO(_download(client, run_id, "accuracy_table", "csv"))))
    assert rows[0] == ["step", "wall_time", "class", "thresholds", "threshold", "tp", "fp", "tn", "fn"]
    assert len(rows) == 1 + 2 * 5 + 2 * 3
    assert rows[2][2:] == ["0", "probability", "0.25", "5", "2", "2", "1"]
    rows = list(csv.reader(io.StringIO(_download(client, run_id, "residuals", "csv"))))
    assert rows[1:][1][2:] == ["-1.0", "0.0", "10"]
    rows = list(csv.reader(io.StringIO(_download(client, run_id, "predictions", "csv"))))
    assert rows[0][2:] == ["left", "right", "count", "average", "error"]
    assert rows[2][2:] == ["1.0", "2.0", "0", "", ""], "an empty bin's average is an empty cell"
    body = json.loads(_download(client, run_id, "confusion_matrix", "json"))
    assert (body["kind"], body["count"], len(body["charts"])) == ("confusion_matrix", 2, 2)
    assert body["charts"][0]["data"] == doc("confusion_matrix")["data"]
    whole = json.loads(client.get(f"{PREFIX}/download?run={run_id}&format=json").data)
    assert whole["data"]["predictions"]["charts"][0]["data"] == doc("predictions")["data"]
    assert whole["data"]["loss"]["kind"] == "scalar"


def test_threads_logging_one_chart_lose_nothing(store):
    """Four threads log 25 documents each under one name: 100 records, auto steps 0..99, none lost."""
    import threading

    run = Experiment("threads", store=store).start_logging()
    barrier = threading.Barrier(4)

    def work(worker):
        barrier.wait()
        for i in range(25):
            document = doc("residuals")
            document["data"]["bin_counts"] = [worker, i, 0, 1]
            run.log_residuals("res", document)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.complete()
    records = store.read_records(run.id, "res")
    assert sorted(r.step for r in records) == list(range(100))
    assert sorted(tuple(r.meta["data"]["bin_counts"][:2]) for r in records) == [(w, i) for w in range(4) for i in range(25)]
