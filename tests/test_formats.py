"""TensorBoard formats lose nothing: tbparse reads our scalars, histograms keep their statistics, HParams go in and out."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from tbparse import SummaryReader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram.summary_v2 import histogram_pb
from tensorboard.plugins.hparams import summary_v2 as hparams_summary  # not the api module: that one needs TensorFlow
from tensorboard_server import serve_tensorboard
from tensorboardX import SummaryWriter

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin._histograms import Histogram, compute_histogram, histogram_from_buckets
from tb_runhistory_plugin.errors import InvalidArgumentError
from tb_runhistory_plugin.export import _histo, export_to_tensorboard, import_tensorboard
from tb_runhistory_plugin.export._eventfile import EventFileWriter, iter_records
from tb_runhistory_plugin.store import SQLiteStore

WALL = 1_700_000_000.125
SPECIAL = [0.1, 1 / 3, float("nan"), float("inf"), float("-inf"), -0.0, 1e300, -1e-320, 65504.0, 123456789.123456789]
METRICS = ["hparam/acc", "hparam/loss"]


@pytest.fixture
def store(tmp_path):
    made = SQLiteStore(tmp_path / "store")
    yield made
    made.close()


def float32(values) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def runs_of(store, experiment: str) -> dict[str, object]:
    """Display-name path -> RunInfo."""
    infos = store.list_runs(store.get_experiment(experiment).id)
    by_id = {i.id: i for i in infos}

    def path(info) -> str:
        return info.display_name if info.parent_id is None else f"{path(by_id[info.parent_id])}/{info.display_name}"

    return {path(i): i for i in infos}


def histo_values(folder: Path, tag: str) -> list[summary_pb2.HistogramProto]:
    """The raw HistogramProto values of a tag in a run directory."""
    found = []
    for path in sorted(folder.glob("*tfevents*")):
        for record in iter_records(path):
            for value in event_pb2.Event.FromString(record).summary.value:
                if value.tag == tag:
                    assert value.WhichOneof("value") == "histo", value
                    found.append(value.histo)
    return found


def post(url: str, path: str, body: object) -> object:
    request = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get(url: str, path: str) -> object:
    with urllib.request.urlopen(url.rstrip("/") + path, timeout=30) as response:
        return json.loads(response.read())


def poll(check, tries: int = 200):
    """Call `check` until it returns something truthy (TensorBoard loads files in the background)."""
    import time

    for _ in range(tries):
        try:
            result = check()
        except (OSError, KeyError, ValueError):
            result = None
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError("TensorBoard never served the data")


# -- scalars: tbparse, TensorBoard's two loaders, our importer ---------------------------------------


def scalar_run(store):
    run = Experiment("scalars", store=store).start_logging(display_name="r")
    for i, value in enumerate(SPECIAL):
        run.log("special", value, step=3 * i)
    for step in range(200):
        run.log("train/loss", 1 / (step + 1) + 1e-9 * step, step=step)
    run.log_histogram("weights", np.linspace(-2.0, 3.0, 1001), step=4, bins=7)
    run.complete()
    return run


def test_tbparse_reads_exported_scalars_as_scalars(store, tmp_path):
    run = scalar_run(store)
    export_to_tensorboard(run, tmp_path / "tb")
    reader = SummaryReader(str(tmp_path / "tb" / "r"), extra_columns={"wall_time"})
    frame = reader.scalars
    assert sorted(set(frame["tag"])) == ["special", "train/loss"]
    assert reader.tensors.empty or not {"special", "train/loss"} & set(reader.tensors["tag"])
    for name in ("special", "train/loss"):
        history = store.read_scalars(run.id, name)
        rows = frame[frame["tag"] == name].sort_values("step")
        assert rows["step"].tolist() == history.steps.tolist()
        assert np.asarray(rows["wall_time"], dtype=np.float64).tobytes() == history.wall_times.tobytes()
        assert np.asarray(rows["value"], dtype=np.float64).tobytes() == float32(history.values).tobytes()


def test_tbparse_reads_exported_histograms_with_their_statistics(store, tmp_path):
    run = scalar_run(store)
    export_to_tensorboard(run, tmp_path / "tb")
    values = np.linspace(-2.0, 3.0, 1001)
    frame = SummaryReader(str(tmp_path / "tb" / "r"), extra_columns={"min", "max", "num", "sum", "sum_squares"}).histograms
    (row,) = frame.itertuples()
    assert (row.step, row.min, row.max, row.num) == (4, -2.0, 3.0, 1001)
    assert row.sum == pytest.approx(values.sum()) and row.sum_squares == pytest.approx(np.square(values).sum())
    stored = Histogram.from_dict(store.read_records(run.id, "weights")[0].meta)
    assert list(row.limits) == list(stored.edges) and list(row.counts) == [0, *stored.counts]


@pytest.mark.parametrize("loader", ["--load_fast=true", "--load_fast=false"])
def test_tensorboard_serves_exported_scalars_with_either_loader(store, tmp_path, loader):
    run = scalar_run(store)
    export_to_tensorboard(run, tmp_path / "tb")
    history = store.read_scalars(run.id, "special")
    query = "?" + urllib.parse.urlencode({"run": "r", "tag": "special"})
    with serve_tensorboard(tmp_path / "tb", loader, "--reload_interval=1") as url:
        served = poll(lambda: get(url, "/data/plugin/scalars/scalars" + query))
        histograms = poll(lambda: get(url, "/data/plugin/histograms/histograms?" + urllib.parse.urlencode({"run": "r", "tag": "weights"})))
    assert [p[1] for p in served] == history.steps.tolist()
    assert np.asarray([p[0] for p in served]).tobytes() == history.wall_times.tobytes()
    decoded = [float(p[2]) if not isinstance(p[2], str) else float(p[2].replace("Infinity", "inf")) for p in served]
    assert np.asarray(decoded).tobytes() == float32(history.values).tobytes()
    ((_, step, buckets),) = histograms
    stored = Histogram.from_dict(store.read_records(run.id, "weights")[0].meta)
    if loader == "--load_fast=true":  # the Rust server keeps the empty, zero-width bucket left of the first edge
        assert buckets[0] == [-2.0, -2.0, 0.0]
        buckets = buckets[1:]
    assert step == 4 and [b[2] for b in buckets] == list(stored.counts)
    assert buckets[0][0] == pytest.approx(-2.0) and buckets[-1][1] == pytest.approx(3.0)


def test_our_importer_keeps_float64_through_the_sidecar(store, tmp_path):
    run = scalar_run(store)
    export_to_tensorboard(run, tmp_path / "tb")
    target = SQLiteStore(tmp_path / "target")
    try:
        import_tensorboard(tmp_path / "tb", store=target)
        (info,) = runs_of(target, "tb").values()
        for name in ("special", "train/loss"):
            assert target.read_scalars(info.id, name).values.tobytes() == store.read_scalars(run.id, name).values.tobytes()
    finally:
        target.close()


# -- histograms -------------------------------------------------------------------------------------


def test_histogram_statistics_are_computed_from_logged_values(store, tmp_path):
    values = np.random.default_rng(3).normal(size=500)
    run = Experiment("h", store=store).start_logging(display_name="r")
    run.log_histogram("w", values, step=1)
    run.complete()
    export_to_tensorboard(run, tmp_path / "tb")
    (proto,) = histo_values(tmp_path / "tb" / "r", "w")
    assert (proto.min, proto.max, proto.num) == (values.min(), values.max(), 500)
    assert proto.sum == pytest.approx(values.sum(), abs=1e-9) and proto.sum_squares == pytest.approx(values @ values)
    assert _histo.from_proto(proto) == compute_histogram(values)


def test_tensorboardx_histograms_keep_min_max_sum_and_sum_of_squares(store, tmp_path):
    values = np.random.default_rng(4).normal(size=300)
    with SummaryWriter(str(tmp_path / "log")) as writer:
        writer.add_histogram("default_bins", values, 0, walltime=WALL)
        writer.add_histogram("auto_bins", values, 0, bins="auto", walltime=WALL)
    written = {tag: histo_values(tmp_path / "log", tag)[0] for tag in ("default_bins", "auto_bins")}
    import_tensorboard(tmp_path / "log", store=store, experiment="x")
    (info,) = runs_of(store, "x").values()
    for tag, proto in written.items():
        meta = store.read_records(info.id, tag)[0].meta
        assert (meta["min"], meta["max"], meta["sum"], meta["sum_squares"]) == (proto.min, proto.max, proto.sum, proto.sum_squares)
        assert meta["count"] == 300 and meta["edges"][0] == proto.min and meta["edges"][-1] == proto.max
    auto = store.read_records(info.id, "auto_bins")[0].meta  # exact edges: every bucket as np.histogram made it
    counts, edges = np.histogram(values, bins="auto")
    assert auto["edges"] == edges.tolist() and auto["counts"] == counts.tolist()


def test_tensor_histograms_derive_min_and_max_and_leave_sums_unknown(store, tmp_path):
    values = np.linspace(-1.5, 4.0, 40)
    with EventFileWriter(tmp_path / "log" / "r") as writer:
        writer.write_summary_pb(histogram_pb("tf", values, buckets=6), 2, WALL)
        writer.write_summary_pb(histogram_pb("constant", np.full(5, 7.0), buckets=4), 2, WALL)
    import_tensorboard(tmp_path / "log", store=store, experiment="x")
    (info,) = runs_of(store, "x").values()
    tf = Histogram.from_dict(store.read_records(info.id, "tf")[0].meta)
    assert (tf.min, tf.max, tf.count, tf.sum, tf.sum_squares) == (-1.5, 4.0, 40, None, None)
    constant = Histogram.from_dict(store.read_records(info.id, "constant")[0].meta)
    assert (constant.edges, constant.counts, constant.min, constant.max) == ((7.0, 7.0), (5,), 7.0, 7.0)


def test_pre_binned_histograms_go_out_with_unknown_sums_and_come_back_bucket_for_bucket():
    pre = histogram_from_buckets([0.0, 1.0, 2.0, 3.0, 4.0], [0, 3, 2, 0])
    proto = _histo.to_proto(pre)
    assert (proto.min, proto.max) == (0.0, 4.0)  # TensorBoard draws the outer buckets from these
    assert np.isnan(proto.sum) and np.isnan(proto.sum_squares)
    back = _histo.from_proto(proto)
    assert (back.edges, back.counts, back.sum, back.sum_squares) == (pre.edges, pre.counts, None, None)
    assert (back.min, back.max) == (0.0, 4.0)  # what the proto can say: the outer edges
    empty = compute_histogram([float("nan")])
    assert _histo.from_proto(_histo.to_proto(empty)) == Histogram((), (), None, None, 0, 0.0, 0.0)


def test_bad_histograms_are_refused_or_counted(store, tmp_path):
    with pytest.raises(InvalidArgumentError, match="Histogram"), EventFileWriter(tmp_path / "w") as writer:
        writer.write_histogram_proto("h", 0, WALL, {"counts": [1]})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="3 bucket limits for 2"):
        _histo.from_proto(summary_pb2.HistogramProto(bucket_limit=[1, 2, 3], bucket=[1, 1]))
    with pytest.raises(InvalidArgumentError, match="whole numbers"):
        _histo.from_tensor(np.array([[0.0, 1.0, 0.5]]))
    with EventFileWriter(tmp_path / "log" / "r") as writer:
        bad = summary_pb2.Summary()
        bad.value.add(tag="backwards", histo=summary_pb2.HistogramProto(min=5, max=1, num=2, bucket_limit=[1, 2, 3], bucket=[1, 0, 1]))
        writer.write_summary_pb(bad, 0, WALL)
    report = import_tensorboard(tmp_path / "log", store=store, experiment="x")
    assert report.skipped == {"histograms whose buckets cannot be stored": 1}


# -- HParams ----------------------------------------------------------------------------------------


def tensorboardx_log(logdir: Path) -> None:
    """What a PyTorch user writes: scalars and histograms in a run, then add_hparams."""
    rng = np.random.default_rng(7)
    with SummaryWriter(str(logdir / "exp1")) as writer:
        for step in range(6):
            writer.add_scalar("train/loss", 1 / (step + 1), step, walltime=WALL + step)
            writer.add_scalar("lr", 0.1 * 0.9**step, step, walltime=WALL + step)
            writer.add_histogram("weights", rng.normal(size=200) + step, step, walltime=WALL + step)
            writer.add_histogram("bias", rng.uniform(size=50), step, bins="auto", walltime=WALL + step)
        writer.add_hparams({"lr": 0.1, "batch_size": 32, "optimizer": "adam", "augment": True}, {METRICS[1]: 0.25, METRICS[0]: 0.875}, name="trial")


def snapshot(store, experiment: str) -> dict[str, object]:
    """Every run's hparams (params, and properties less the source), scalars and histograms, by run path."""
    out: dict[str, object] = {}
    for path, info in runs_of(store, experiment).items():
        props = {k: v for k, v in info.properties.items() if k != "tensorboard.source"}
        props.update({f"param:{k}": (v, type(v)) for k, v in info.params.items()})
        series = {}
        for metric in store.list_metrics(info.id):
            if metric.kind == "scalar":
                h = store.read_scalars(info.id, metric.name)
                series[metric.name] = (h.steps.tolist(), h.wall_times.tobytes(), h.values.tobytes())
            elif metric.kind == "histogram":
                series[metric.name] = [(r.step, r.wall_time, r.meta) for r in store.read_records(info.id, metric.name)]
        out[path] = (props, series)
    return out


def test_hparams_from_tensorboardx_become_typed_params_with_the_metric_list(store, tmp_path):
    tensorboardx_log(tmp_path / "log")
    report = import_tensorboard(tmp_path / "log", store=store, experiment="x")
    assert report.ok and not report.skipped
    runs = runs_of(store, "x")
    assert sorted(runs) == ["exp1", "exp1/trial"]
    props = runs["exp1/trial"].properties
    assert not {k for k in props if not k.startswith(("tensorboard.", "hparams."))}  # hyperparameters are params
    params = runs["exp1/trial"].params
    assert {k: (v, type(v)) for k, v in params.items()} == {
        "lr": (0.1, float),
        "batch_size": (32, int),
        "optimizer": ("adam", str),
        "augment": (True, bool),
    }
    assert json.loads(props["hparams.metrics"]) == [{"tag": METRICS[1]}, {"tag": METRICS[0]}]  # the experiment's order
    assert "hparams.metrics" not in runs["exp1"].properties


@pytest.mark.parametrize("sidecar", [True, False], ids=["with-sidecar", "event-files-only"])
def test_tensorboardx_log_round_trips_with_nothing_lost(store, tmp_path, sidecar):
    tensorboardx_log(tmp_path / "log")
    import_tensorboard(tmp_path / "log", store=store, experiment="x")
    first = snapshot(store, "x")
    top = [info.id for info in runs_of(store, "x").values() if info.parent_id is None]
    export_to_tensorboard(top, tmp_path / "out", store=store)
    if not sidecar:
        for folder in (tmp_path / "out").rglob(".runhistory"):
            shutil.rmtree(folder)
    again = SQLiteStore(tmp_path / "again")
    try:
        report = import_tensorboard(tmp_path / "out", store=again, experiment="x")
        assert report.ok and not report.skipped
        second = snapshot(again, "x")
    finally:
        again.close()
    if not sidecar:  # the run facts text is an extra table series there; everything logged is identical
        for _props, series in second.values():
            series.pop("run_history/info", None)
    assert second == first
    hists = first["exp1"][1]["weights"]
    assert len(hists) == 6 and all(m["sum"] is not None and m["sum_squares"] is not None for _, _, m in hists)
    frame = SummaryReader(str(tmp_path / "out"), extra_columns={"dir_name", "wall_time"}).scalars
    loss = frame[(frame["tag"] == "train/loss") & (frame["dir_name"] == "exp1")]
    assert loss["step"].tolist() == list(range(6)) and loss["wall_time"].tolist() == [WALL + s for s in range(6)]


def summary_v2_log(logdir: Path) -> None:
    """The HParams tutorial's layout: the config in the logdir, one session per run directory, no TensorFlow."""
    num_units = hparams_summary.HParam("num_units", hparams_summary.Discrete([16, 32]))
    dropout = hparams_summary.HParam("dropout", hparams_summary.RealInterval(0.1, 0.2))
    accuracy = hparams_summary.Metric("accuracy", display_name="Accuracy", description="validation accuracy", dataset_type=hparams_summary.Metric.VALIDATION)
    with EventFileWriter(logdir) as writer:
        writer.write_summary_pb(hparams_summary.hparams_config_pb([num_units, dropout], [accuracy]), 0, WALL)
    for i, (units, rate) in enumerate([(16, 0.1), (32, 0.2)]):
        with EventFileWriter(logdir / f"run-{i}") as writer:
            writer.write_summary_pb(hparams_summary.hparams_pb({num_units: units, dropout: rate}, trial_id=f"run-{i}", start_time_secs=WALL), 0, WALL)
            writer.write_scalars("accuracy", [1], [WALL + 1], [0.5 + i / 4])


def test_hparams_config_and_sessions_export_to_tensorboards_hparams_tab(store, tmp_path):
    summary_v2_log(tmp_path / "log")
    report = import_tensorboard(tmp_path / "log", store=store, experiment="x")
    assert report.ok, report.errors
    runs = runs_of(store, "x")
    session = runs["log/run-1"].properties
    assert (runs["log/run-1"].params["num_units"], runs["log/run-1"].params["dropout"]) == (32, 0.2)
    expected = [{"tag": "accuracy", "display_name": "Accuracy", "description": "validation accuracy", "dataset_type": "DATASET_VALIDATION"}]
    assert json.loads(session["hparams.metrics"]) == expected
    assert "hparams.metrics" not in runs["log"].properties  # the config covers the sessions: it is theirs
    export_to_tensorboard(runs["log"].id, tmp_path / "out", store=store)
    with serve_tensorboard(tmp_path / "out", "--reload_interval=1") as url:
        experiment = poll(lambda: (e := post(url, "/data/plugin/hparams/experiment", {"experimentName": ""})).get("metricInfos") and e)
        body = {"experimentName": "", "startIndex": 0, "sliceSize": 10, "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS"], "colParams": []}
        groups = poll(lambda: len(g := post(url, "/data/plugin/hparams/session_groups", body)["sessionGroups"]) == 2 and g)
    assert sorted(h["name"] for h in experiment["hparamInfos"]) == ["dropout", "num_units"]
    (metric,) = experiment["metricInfos"]
    assert metric["name"]["tag"] == "accuracy" and metric["displayName"] == "Accuracy" and metric["description"] == "validation accuracy"
    assert metric["datasetType"] == "DATASET_VALIDATION"
    by_units = {g["hparams"]["num_units"]: g for g in groups}
    assert sorted(by_units) == [16, 32] and by_units[32]["hparams"]["dropout"] == 0.2
    assert by_units[32]["metricValues"][0]["value"] == 0.75


def test_an_experiment_without_sessions_keeps_its_metric_list_on_its_own_run(store, tmp_path):
    accuracy = hparams_summary.Metric("accuracy")
    with EventFileWriter(tmp_path / "log" / "config") as writer:
        writer.write_summary_pb(hparams_summary.hparams_config_pb([hparams_summary.HParam("x", hparams_summary.Discrete([1, 2]))], [accuracy]), 0, WALL)
    import_tensorboard(tmp_path / "log", store=store, experiment="x")
    (info,) = runs_of(store, "x").values()
    assert json.loads(info.properties["hparams.metrics"]) == [{"tag": "accuracy"}]


def test_malformed_hparams_are_counted_and_a_broken_metric_list_falls_back(store, tmp_path):
    with EventFileWriter(tmp_path / "log" / "r") as writer:
        bad = summary_pb2.Summary()
        value = bad.value.add(tag="_hparams_/experiment")
        value.metadata.plugin_data.plugin_name = "hparams"
        value.metadata.plugin_data.content = b"\xff\xff not a proto"
        writer.write_summary_pb(bad, 0, WALL)
    report = import_tensorboard(tmp_path / "log", store=store, experiment="x")
    assert report.skipped == {"unreadable hparams summaries": 1}
    root = Experiment("broken", store=store).start_logging(display_name="p")
    with root.child_run("c", properties={"lr": 0.5, "hparams.metrics": "{not json"}) as child:
        child.log("loss", 1.0)
    root.complete()
    export_to_tensorboard(root, tmp_path / "out")
    config = None
    for path in (tmp_path / "out" / "p").glob("*tfevents*"):
        for record in iter_records(path):
            for v in event_pb2.Event.FromString(record).summary.value:
                if v.tag == "_hparams_/experiment":
                    from tensorboard.plugins.hparams import metadata

                    config = metadata.parse_experiment_plugin_data(v.metadata.plugin_data.content)
    assert config is not None
    assert [m.name.tag for m in config.metric_infos] == ["loss"]  # every scalar, as for any sweep
    assert [h.name for h in config.hparam_infos] == ["lr"]  # the import's own properties are not hyperparameters
