"""Import of MLflow stores, written by MLflow itself (file store and SQLite), checked point by point."""

from __future__ import annotations

import io
import json
import math
import struct
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest

pytest.importorskip("mlflow", reason='pip install "tb-runhistory-plugin[mlflow]"')

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from tb_runhistory_plugin import cli
from tb_runhistory_plugin.errors import InvalidArgumentError, NotFoundError, RunHistoryError
from tb_runhistory_plugin.export import import_mlflow
from tb_runhistory_plugin.store import open_store

T0 = 1_700_000_000_000  # ms: explicit metric timestamps
EXPERIMENT = "mnist sweep/v1"  # MLflow allows what our names do not: mapped to mnist_sweep_v1
OURS = "mnist_sweep_v1"


def _log_series(client: MlflowClient, run_id: str, seed: int, steps: int = 12) -> None:
    metrics = [Metric("loss", 1.0 / (s + 1 + seed), T0 + 1000 * s + seed, s) for s in range(steps)]
    metrics += [Metric("train/acc", 0.1 * s + seed / 100, T0 + 500 * s, 2 * s) for s in range(steps // 2)]
    client.log_batch(run_id, metrics=metrics)
    client.log_metric(run_id, "lr", 0.5, timestamp=T0 + 7, step=3)  # the same step twice, two values
    client.log_metric(run_id, "lr", 0.25, timestamp=T0 + 9, step=3)
    client.log_metric(run_id, "lr", 0.25, timestamp=T0 + 9, step=3)  # an exact repeat: the file store keeps both
    client.log_metric(run_id, "lr", float("nan"), timestamp=T0 + 11, step=4)


def _make_sweep(client: MlflowClient) -> dict[str, str]:
    """parent -> 3 children -> 2 grandchildren each; one failed, one killed, one still running."""
    exp = client.create_experiment(EXPERIMENT)
    client.create_experiment("empty one")  # no runs: left out
    other = client.create_experiment("other")
    client.create_run(other, run_name="lonely")
    roles = {}
    parent = client.create_run(exp, run_name="sweep", tags={"team": "vision", "mlflow.note.content": "the whole sweep"})
    client.log_batch(parent.info.run_id, params=[Param("optimizer", "adam"), Param("epochs", "3")], tags=[RunTag("phase", "search")])
    _log_series(client, parent.info.run_id, 0)
    roles["parent"] = parent.info.run_id
    for c in range(3):
        child = client.create_run(exp, run_name=f"lr-{c}", tags={"mlflow.parentRunId": parent.info.run_id})
        client.log_param(child.info.run_id, "lr", str(10.0**-c))
        _log_series(client, child.info.run_id, c + 1)
        for g in range(2):
            grand = client.create_run(exp, run_name=f"lr-{c}/seed-{g}", tags={"mlflow.parentRunId": child.info.run_id})
            client.log_param(grand.info.run_id, "seed", str(g))
            _log_series(client, grand.info.run_id, 10 * c + g, steps=6)
            roles[f"grand-{c}-{g}"] = grand.info.run_id
            if (c, g) == (0, 1):
                client.set_terminated(grand.info.run_id, "FAILED", end_time=grand.info.start_time + 99_000)
            elif (c, g) == (1, 0):
                client.set_terminated(grand.info.run_id, "KILLED")
            elif (c, g) != (2, 1):  # grand-2-1 stays RUNNING
                client.set_terminated(grand.info.run_id)
        client.set_terminated(child.info.run_id)
        roles[f"child-{c}"] = child.info.run_id
    client.set_terminated(parent.info.run_id, end_time=parent.info.start_time + 100_000)
    return roles


@pytest.fixture(params=["file", "sqlite"])
def mlflow_store(request, tmp_path, monkeypatch):
    """A real MLflow store written by MLflow's client: (tracking URI, client, run roles)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps file stores behind this switch
    uri = (tmp_path / "mlruns").as_uri() if request.param == "file" else f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    return uri, client, _make_sweep(client)


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def _mlflow_points(client: MlflowClient, run_id: str) -> dict[str, list[tuple[int, int, bytes]]]:
    run = client.get_run(run_id)
    return {key: sorted((m.step, m.timestamp, _bits(m.value)) for m in client.get_metric_history(run_id, key)) for key in run.data.metrics}


def _our_points(store, run_id: str) -> dict[str, list[tuple[int, int, bytes]]]:
    out = {}
    for metric in store.list_metrics(run_id):
        h = store.read_scalars(run_id, metric.name)
        out[metric.name] = sorted((s, round(w * 1000), _bits(v)) for s, w, v in zip(h.steps.tolist(), h.wall_times.tolist(), h.values.tolist()))
    return out


def _ours_by_mlflow_id(store, experiment: str) -> dict[str, object]:
    exp = store.get_experiment(experiment)
    return {info.properties["mlflow.run_id"]: info for info in store.list_runs(exp.id)}


def _check_exact(client: MlflowClient, store) -> int:
    """Every run, every point, the tree, statuses and facts match MLflow; returns the point count."""
    ours = _ours_by_mlflow_id(store, OURS)
    theirs = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    assert len(ours) == len(theirs) == 10
    by_our_id = {info.id: mid for mid, info in ours.items()}
    total = 0
    for run in theirs:
        info = ours[run.info.run_id]
        expected = _mlflow_points(client, run.info.run_id)
        assert _our_points(store, info.id) == expected
        total += sum(len(p) for p in expected.values())
        assert by_our_id.get(info.parent_id) == run.data.tags.get("mlflow.parentRunId")
        assert info.display_name == run.info.run_name
        assert {k: str(v) for k, v in info.params.items()} == run.data.params  # typed, and the same text
        assert {k: info.properties[k] for k in info.properties} == {"mlflow.run_id": run.info.run_id}
        if run.data.params.get("optimizer") == "adam":
            assert info.params == {"optimizer": "adam", "epochs": 3}
        assert {k: v for k, v in run.data.tags.items() if k != "mlflow.note.content"}.items() <= dict(info.tags).items()
        assert info.start_time == run.info.start_time / 1000
        want = {"FINISHED": {"Completed"}, "FAILED": {"Failed"}, "KILLED": {"Canceled"}, "RUNNING": {"Running", "NotResponding"}}
        assert info.status in want[run.info.status], (run.info.run_name, run.info.status, info.status)
        if run.info.end_time:
            assert info.end_time == run.info.end_time / 1000
    return total


def test_a_nested_sweep_imports_exactly_and_twice_changes_nothing(mlflow_store, tmp_path):
    uri, client, roles = mlflow_store
    target = str(tmp_path / "runhistory")
    report = import_mlflow(uri, store=target)
    store = open_store(target)
    assert report.ok, report.errors
    assert report.experiments == {EXPERIMENT: OURS, "other": "other"}  # the empty experiment is left out
    assert report.runs_created == 11 and report.runs_updated == 0
    total = _check_exact(client, store)
    assert report.points == total
    assert total == 4 * (12 + 6 + 3) + 6 * (6 + 3 + 3) + (10 if uri.startswith("file:") else 0)  # SQL stores drop exact repeats
    nan_run = ours_parent = _ours_by_mlflow_id(store, OURS)[roles["parent"]]
    assert math.isnan(store.read_scalars(nan_run.id, "lr").values[-1])
    assert ours_parent.description == "the whole sweep" and ours_parent.tags["team"] == "vision"
    assert [d.display_name for d in store.list_descendants(ours_parent.id)][:3] == ["lr-0", "lr-0/seed-0", "lr-0/seed-1"]
    failed = _ours_by_mlflow_id(store, OURS)[roles["grand-0-1"]]
    assert failed.status == "Failed" and failed.end_time == failed.start_time + 99

    again = import_mlflow(uri, store=target)
    assert (again.runs_created, again.runs_updated, again.points) == (0, 0, 0)
    assert _check_exact(client, store) == total

    live = roles["grand-2-1"]
    client.log_batch(live, metrics=[Metric("loss", 0.01 * s, T0 + 50_000 + s, 100 + s) for s in range(5)])
    client.log_metric(live, "new/metric", 3.0, timestamp=T0 + 60_000, step=0)
    client.set_terminated(live, "FINISHED")
    client.set_tag(roles["child-0"], "verdict", "best")  # tags may change after a run ended
    third = import_mlflow(uri, store=target, experiment=EXPERIMENT)
    assert (third.runs_created, third.runs_updated, third.points) == (0, 2, 6)
    assert _ours_by_mlflow_id(store, OURS)[roles["child-0"]].tags["verdict"] == "best"
    assert third.experiments == {EXPERIMENT: OURS}
    assert _check_exact(client, store) == total + 6
    assert _ours_by_mlflow_id(store, OURS)[live].status == "Completed"


def test_points_gained_by_a_run_imported_as_ended_are_counted_not_lost_silently(mlflow_store, tmp_path):
    uri, client, roles = mlflow_store
    target = str(tmp_path / "runhistory")
    import_mlflow(uri, store=target)
    client.log_metric(roles["parent"], "loss", 9.0, timestamp=T0 + 200_000, step=99)
    report = import_mlflow(uri, store=target)
    assert report.points == 0 and report.skipped == {"points for imported runs that have already ended": 1}


def _run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_cli_imports_and_reports(mlflow_store, tmp_path):
    uri, client, _ = mlflow_store
    target = str(tmp_path / "cli-store")
    source = uri.removeprefix("file://")  # a file store also goes by its plain path
    code, out, err = _run_cli("import-mlflow", source, "--experiment", EXPERIMENT, "--store", target)
    assert code == 0, err
    assert out.startswith(f"imported 1 MLflow experiments ('{OURS}'): 10 new runs, 0 updated, ")
    code, out, err = _run_cli("import-mlflow", source, "--store", target, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["runs_created"] == 1 and report["points"] == 0 and report["ok"] is True
    code, out, err = _run_cli("import-mlflow", str(tmp_path / "nowhere"), "--store", target)
    assert code != 0 and "nowhere" in err


def test_a_missing_or_foreign_store_is_refused_by_name(tmp_path):
    with pytest.raises(NotFoundError, match="nowhere"):
        import_mlflow(str(tmp_path / "nowhere"), store=str(tmp_path / "s"))
    with pytest.raises(NotFoundError, match="missing.db"):
        import_mlflow(f"sqlite:///{tmp_path / 'missing.db'}", store=str(tmp_path / "s"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(InvalidArgumentError, match="plain"):
        import_mlflow(str(tmp_path / "plain"), store=str(tmp_path / "s"))
    ours = open_store(str(tmp_path / "ours"))  # a run store is a SQLite file, but not MLflow's
    ours.close()
    db = next(p for p in (tmp_path / "ours").iterdir() if p.suffix == ".db" or p.name.endswith(".sqlite"))
    with pytest.raises(InvalidArgumentError, match="not an MLflow database"):
        import_mlflow(f"sqlite:///{db}", store=str(tmp_path / "s"))
    assert not (tmp_path / "missing.db").exists() and list((tmp_path / "plain").iterdir()) == []  # nothing created there


def test_an_unknown_experiment_is_refused_by_name(mlflow_store, tmp_path):
    uri, _, _ = mlflow_store
    with pytest.raises(NotFoundError, match="no such"):
        import_mlflow(uri, experiment="no such", store=str(tmp_path / "s"))


def test_without_mlflow_the_error_names_the_extra(tmp_path, monkeypatch):
    (tmp_path / "mlruns" / "0").mkdir(parents=True)
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # what a missing package looks like to an import
    with pytest.raises(RunHistoryError, match=r'pip install "tb-runhistory-plugin\[mlflow\]"'):
        import_mlflow(str(tmp_path / "mlruns"), store=str(tmp_path / "s"))
