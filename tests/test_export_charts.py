"""The standard charts exported: accuracy tables as PR curves in a real TensorBoard, the others as text."""

from __future__ import annotations

import numpy as np
import pytest
from chart_docs import HOSTILE_LABEL, METHODS, doc
from tensorboard_server import serve_tensorboard
from test_export import get, load, query, wait_for

from tb_runhistory_plugin import Experiment, import_tensorboard
from tb_runhistory_plugin._charts import accuracy_curves
from tb_runhistory_plugin.export import export_to_tensorboard
from tb_runhistory_plugin.store import SQLiteStore


def _second_table():
    """The accuracy table a later epoch logs: class 0's curve improves."""
    second = doc("accuracy_table")
    second["data"]["probability_tables"][0] = [[6, 4, 0, 0], [6, 1, 3, 0], [5, 0, 4, 1], [3, 0, 4, 3], [0, 0, 4, 6]]
    return second


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("charts")
    store = SQLiteStore(base / "store")
    run = Experiment("charts", store=store).start_logging(display_name="clf")
    for kind in METHODS:
        getattr(run, METHODS[kind])(kind, doc(kind))
    run.log_accuracy_table("accuracy_table", _second_table())
    run.complete()
    first = export_to_tensorboard(run, base / "tb")
    with serve_tensorboard(base / "tb", "--reload_interval", "1") as url:
        yield {"store": store, "run": run, "root": base / "tb", "url": url, "first": first}
    store.close()


def test_tensorboard_pr_curves_tab_shows_each_class(exported):
    url = exported["url"]
    tags = wait_for(lambda: get(url, "/data/plugin/pr_curves/tags").get("clf"))
    assert set(tags) == {"accuracy_table/0", "accuracy_table/1"}
    assert tags["accuracy_table/0"]["displayName"] == "accuracy_table: 0"
    for label, tag in (("0", "accuracy_table/0"), ("1", "accuracy_table/1")):
        entries = get(url, "/data/plugin/pr_curves/pr_curves" + query(run="clf", tag=tag))["clf"]
        assert [e["step"] for e in entries] == [0, 1]
        for entry, table in zip(entries, (doc("accuracy_table"), _second_table())):
            curve = next(c for c in accuracy_curves(table["data"]) if c["label"] == label)
            n = len(entry["precision"])  # the plugin trims the tail where nothing is predicted positive
            assert entry["true_positives"] == curve["tp"][:n].astype(int).tolist()
            assert entry["false_negatives"] == curve["fn"][:n].astype(int).tolist()
            np.testing.assert_allclose(entry["recall"], curve["recall"][:n], rtol=1e-6)
            np.testing.assert_allclose(entry["precision"], curve["precision"][:n], rtol=1e-6)
            assert entry["thresholds"] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0][:n])
    first_tp = get(url, "/data/plugin/pr_curves/pr_curves" + query(run="clf", tag="accuracy_table/0"))["clf"][1]["true_positives"]
    assert first_tp[:3] == [6, 6, 5], "the second epoch's table, at step 1"


def test_text_tab_shows_the_other_charts_as_tables(exported):
    url = exported["url"]
    text = wait_for(lambda: get(url, "/data/plugin/text/text" + query(run="clf", tag="confusion_matrix")))[-1]["text"]
    assert "actual \\ predicted" in text and "<td>10</td>" in text and "<td>30</td>" in text
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text, "a hostile class label stays text"
    residuals = get(url, "/data/plugin/text/text" + query(run="clf", tag="residuals"))[-1]["text"]
    assert "<td>-1</td>" in residuals and "<td>12</td>" in residuals
    predictions = get(url, "/data/plugin/text/text" + query(run="clf", tag="predictions"))[-1]["text"]
    assert "mean predicted" in predictions and "<td>2.4</td>" in predictions


def test_reexport_writes_nothing_and_import_restores_the_documents(exported, tmp_path):
    again = export_to_tensorboard(exported["run"], exported["root"])
    assert (again.records, again.scalars) == (0, 0)
    series = load(exported["root"] / "clf")
    assert len(series["accuracy_table/0"]) == 2 and len(series["confusion_matrix"]) == 1
    assert HOSTILE_LABEL in series["confusion_matrix"][0][2].item().decode().replace("\\", "")
    target = SQLiteStore(tmp_path / "back")
    import_tensorboard(exported["root"], experiment="back", store=target)
    [run] = target.list_runs(target.get_experiment("back").id)
    kinds = {m.name: m.kind for m in target.list_metrics(run.id)}
    assert kinds == {kind: kind for kind in METHODS}
    for kind in METHODS:
        assert target.read_records(run.id, kind)[0].meta == doc(kind)
    target.close()
