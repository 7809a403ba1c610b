"""Import of TensorBoard event files: our own exports bit for bit, other writers, damaged files."""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.histogram.summary_v2 import histogram_pb
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.plugins.text.summary_v2 import text_pb
from tensorboard.summary import Writer
from tensorboard.util import tensor_util

from tb_runhistory_plugin import Experiment, RunFilter
from tb_runhistory_plugin.cli._transfer import add_parsers, run_import
from tb_runhistory_plugin.errors import InvalidArgumentError, NotFoundError
from tb_runhistory_plugin.export import (
    ExportWarning,
    export_to_tensorboard,
    import_tensorboard,
)
from tb_runhistory_plugin.export._eventfile import EventFileWriter
from tb_runhistory_plugin.store import ROOTS, SQLiteStore

SPECIAL = [0.1, 1 / 3, float("nan"), float("inf"), float("-inf"), -0.0, 1e300, -1e-320, 65504.0, 123456789.123456789]
WALL = 1_700_000_000.25


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A valid RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([seed % 256, 30, 90]) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def stores(tmp_path):
    source, target = SQLiteStore(tmp_path / "a"), SQLiteStore(tmp_path / "b")
    yield source, target
    source.close()
    target.close()


def tree(store, experiment: str) -> dict[str, object]:
    """path of display names -> RunInfo, for every run of an experiment."""
    exp = store.get_experiment(experiment)
    out: dict[str, object] = {}

    def walk(parent, prefix):
        for info in store.list_runs(exp.id, RunFilter(parent_id=parent)):
            out[prefix + info.display_name] = info
            walk(info.id, prefix + info.display_name + "/")

    walk(ROOTS, "")
    return out


def assert_same_history(source, a, target, b) -> None:
    """Every metric of run a (in source) equals the one of run b (in target), bit for bit."""
    metrics_a = {m.name: m for m in source.list_metrics(a.id)}
    metrics_b = {m.name: m for m in target.list_metrics(b.id)}
    assert metrics_a.keys() == metrics_b.keys()
    for name, metric in metrics_a.items():
        assert (metric.kind, metric.count, metric.value_type, metric.description) == (
            metrics_b[name].kind,
            metrics_b[name].count,
            metrics_b[name].value_type,
            metrics_b[name].description,
        ), name
        if metric.kind == "scalar":
            x, y = source.read_scalars(a.id, name), target.read_scalars(b.id, name)
            for field in ("steps", "wall_times", "values"):
                assert getattr(x, field).tobytes() == getattr(y, field).tobytes(), (name, field)
        else:
            assert source.read_records(a.id, name) == target.read_records(b.id, name), name


def logged(tmp_path, source) -> Experiment:
    exp = Experiment("orig", store=source)
    with exp.start_logging(display_name="sweep", tags={"team": "vision"}, properties={"seed": 7, "note": None}, description="d *x*") as root:
        root.log_list("listed", [3, 1, 2])
        for i, value in enumerate(SPECIAL):
            root.log("special", value, step=10 * i)
        for step, value in [(5, 1.0), (3, 2.0), (9, 3.0)]:
            root.log("back", value, step=step)  # the step-3 point is only in the sidecar
        root.log("count", 2**40 + 1)
        root.log("flag", True, description="a flag")
        root.log_row("rows", alpha=0.1, label="x", empty=None)
        root.log_table("rows", {"alpha": [0.2, 0.3], "label": ["y", None]})
        root.log_image("img", array=np.zeros((3, 4, 3), dtype=np.uint8), step=4)
        root.log_image("img", array=np.ones((3, 4, 3), dtype=np.uint8) * 200, step=2)  # went back: the sidecar carries it
        root.log_histogram("h", np.linspace(0, 1, 50), step=1, bins=5)
        root.log_histogram("h", [3.0, 3.0], step=2)
        for alpha in (0.1, 0.2):
            with root.child_run("trial") as run:
                run.log_params({"lr": alpha, "optimizer": "adam", "layers": 2, "nesterov": True})
                run.log("alpha", alpha)
                run.log_list("loss", [1.0, 0.5, 0.25 + alpha])
        failed = root.child_run("broken")
        failed.log("x", 1.0)
        failed.fail("RuntimeError: boom")
    return exp


def test_export_then_import_is_bit_for_bit(stores, tmp_path):
    source, target = stores
    exp = logged(tmp_path, source)
    with exp.start_logging(display_name="live") as live:
        live.log("x", 1.5)
        live.flush()
        with pytest.warns(ExportWarning):  # the points of 'back' and 'img' whose step went back
            export_to_tensorboard(exp, tmp_path / "tb")
    report = import_tensorboard(tmp_path / "tb", experiment="copy", store=target)
    assert report.ok and report.runs_created == 5 and not report.skipped
    assert sorted(tree(source, "orig")) == sorted(tree(target, "copy")) == ["live", "sweep", "sweep/broken", "sweep/trial"]
    pairs = {}
    for a in source.list_runs(source.get_experiment("orig").id):
        b = next(b for b in target.list_runs(target.get_experiment("copy").id) if b.properties["tensorboard.source"] == report_dir(tmp_path, source, a))
        pairs[a.id] = b
        assert_same_history(source, a, target, b)
        assert (b.display_name, b.description, dict(b.tags), b.start_time) == (a.display_name, a.description, dict(a.tags), a.start_time)
        assert {k: v for k, v in b.properties.items() if k != "tensorboard.source"} == dict(a.properties)
        assert dict(b.params) == dict(a.params)  # typed: 2 stays an int, True a bool
        assert [type(v) for v in b.params.values()] == [type(v) for v in a.params.values()]
        if a.id != live.id:
            assert (b.status, b.end_time, b.error) == (a.status, a.end_time, a.error)
        else:  # exported while it was live
            assert b.status == "Canceled" and "while the run was Running" in b.error
        assert (b.parent_id is None) == (a.parent_id is None)
        if a.parent_id:
            assert pairs[a.parent_id].id == b.parent_id


def report_dir(tmp_path: Path, store, info) -> str:
    """Where the exporter put a run (its layout file says)."""
    import json

    layout = json.loads((tmp_path / "tb" / ".runhistory" / "layout.json").read_text())
    return str(tmp_path / "tb" / layout["runs"][info.id])


def test_reimport_adds_nothing_and_reports_what_cannot_be_added(stores, tmp_path):
    source, target = stores
    exp = Experiment("grow", store=source)
    run = exp.start_logging(display_name="r")
    run.log_list("loss", [1.0, 2.0])
    run.flush()
    export_to_tensorboard(run, tmp_path / "tb")
    first = import_tensorboard(tmp_path / "tb", store=target)
    assert (first.runs_created, first.scalars) == (1, 2)
    again = import_tensorboard(tmp_path / "tb", store=target)
    assert (again.runs_created, again.runs_updated, again.scalars, again.records, dict(again.skipped)) == (0, 0, 0, 0, {})
    run.log("loss", 3.0)
    run.complete()
    export_to_tensorboard(run, tmp_path / "tb")
    later = import_tensorboard(tmp_path / "tb", store=target)
    assert later.skipped == {"points for imported runs that have already ended": 1}
    (info,) = target.list_runs(target.get_experiment("tb").id)
    assert len(target.read_scalars(info.id, "loss")) == 2 and info.status == "Canceled"


def test_import_of_our_event_files_without_the_sidecar_gives_float32(stores, tmp_path):
    source, target = stores
    run = Experiment("plain", store=source).start_logging(display_name="r")
    for i, value in enumerate(SPECIAL):
        run.log("special", value, step=i)
    run.complete()
    export_to_tensorboard(run, tmp_path / "tb")
    shutil.rmtree(tmp_path / "tb" / "r" / ".runhistory")
    report = import_tensorboard(tmp_path / "tb", store=target)
    assert report.ok
    (info,) = target.list_runs(target.get_experiment("tb").id)
    got = target.read_scalars(info.id, "special")
    with np.errstate(over="ignore"):
        expected = np.array(SPECIAL).astype(np.float32).astype(np.float64)
    assert got.values.tobytes() == expected.tobytes() and got.steps.tolist() == list(range(len(SPECIAL)))
    assert info.status == "Completed"
    assert target.read_records(info.id, "run_history/info")[0].meta["row"]["text"].startswith("**r**")


def test_other_writers_and_nested_directories(stores, tmp_path):
    _, target = stores
    logdir = tmp_path / "logs"
    writer = Writer(str(logdir / "fit" / "day1" / "train"))
    for step in range(3):
        writer.add_scalar("epoch_loss", 1.0 / (step + 1), step=step, wall_time=WALL + step)
    writer.close()
    from tensorboardX import SummaryWriter

    tbx = SummaryWriter(str(logdir / "fit" / "day1" / "validation"))
    tbx.add_scalar("epoch_loss", 0.75, 0, walltime=WALL)
    tbx.add_histogram("w", np.arange(10.0), 0, walltime=WALL)
    tbx.add_image("pic", np.zeros((3, 4, 5), dtype=np.uint8), 0, walltime=WALL)
    tbx.add_text("notes", "hello *world*", 0, walltime=WALL)
    tbx.close()
    with EventFileWriter(logdir / "v2") as ours:
        exact = summary_pb2.Summary()  # a DT_DOUBLE scalar, as the Python loader reads it
        exact.value.add(tag="acc", metadata=scalar_pb("acc", 0.0).value[0].metadata, tensor=tensor_util.make_tensor_proto(np.float64(0.1 + 0.2)))
        ours.write_summary_pb(exact, 1, WALL)
        ours.write_summary_pb(histogram_pb("hist", np.linspace(-1, 1, 20), buckets=4), 1, WALL)
        ours.write_summary_pb(text_pb("txt", "line"), 1, WALL)
        image = summary_pb2.Summary()
        image.value.add(
            tag="imgs",
            metadata=image_metadata.create_summary_metadata(None, None),
            tensor=tensor_util.make_tensor_proto([b"4", b"3", png(4, 3, 1), png(4, 3, 2)]),
        )
        ours.write_summary_pb(image, 2, WALL)
        legacy = summary_pb2.Summary()
        legacy.value.add(tag="old", histo=summary_pb2.HistogramProto(min=0.1, max=0.9, num=3, bucket_limit=[0.0, 0.5, 1.0, 1e308], bucket=[0, 2, 1, 0]))
        ours.write_summary_pb(legacy, 3, WALL)
        ours.write_scalars("neg", [-1, 0], [WALL, WALL], [1.0, 2.0])
    report = import_tensorboard(logdir, experiment="mixed", store=target)
    assert report.ok, report.errors
    runs = tree(target, "mixed")
    assert sorted(runs) == ["fit", "fit/day1", "fit/day1/train", "fit/day1/validation", "v2"]
    assert target.list_metrics(runs["fit"].id) == [] and runs["fit/day1/train"].parent_id == runs["fit/day1"].id
    train = target.read_scalars(runs["fit/day1/train"].id, "epoch_loss")
    assert train.steps.tolist() == [0, 1, 2] and train.wall_times.tolist() == [WALL, WALL + 1, WALL + 2]
    val = runs["fit/day1/validation"].id
    assert target.read_scalars(val, "epoch_loss").values.tolist() == [0.75]
    assert sum(target.read_records(val, "w")[0].meta["counts"]) == 10
    assert target.read_records(val, "pic")[0].meta["content_type"] == "image/png"
    assert "hello" in target.read_records(val, "notes/text_summary")[0].meta["row"]["text"]  # tensorboardX's tag
    v2 = runs["v2"].id
    assert target.read_scalars(v2, "acc").values.tolist() == [0.1 + 0.2]  # a float64 tensor stays exact
    assert sum(target.read_records(v2, "hist")[0].meta["counts"]) == 20
    assert [r.data for r in target.read_records(v2, "imgs")] == [png(4, 3, 1), png(4, 3, 2)]
    assert target.read_records(v2, "txt")[0].meta["row"]["text"] == "line"
    old = target.read_records(v2, "old")[0].meta
    assert old["edges"] == [0.1, 0.5, 0.9] and old["counts"] == [2, 1]
    assert target.read_scalars(v2, "neg").steps.tolist() == [0]
    assert report.skipped == {"points with a step outside 0..2**62": 1}


def test_hparams_sessions_become_params(stores, tmp_path):
    _, target = stores
    from tensorboardX import SummaryWriter

    tbx = SummaryWriter(str(tmp_path / "hp"))
    tbx.add_hparams({"lr": 0.1, "opt": "adam"}, {"hparam/acc": 0.9}, name="trial")
    tbx.close()
    report = import_tensorboard(tmp_path / "hp", experiment="hp", store=target)
    assert report.ok
    runs = tree(target, "hp")
    params = [dict(info.params) for info in runs.values() if "lr" in info.params]
    assert params == [{"lr": 0.1, "opt": "adam"}]
    assert not any("lr" in info.properties for info in runs.values())


def damaged_logdir(tmp_path: Path) -> tuple[Path, Path, list[int]]:
    """A logdir with a good run and a run whose file has three records per step; returns offsets."""
    logdir = tmp_path / "damaged"
    with EventFileWriter(logdir / "good") as good:
        good.write_scalars("x", [0, 1], [WALL, WALL], [1.0, 2.0])
    with EventFileWriter(logdir / "bad") as bad:
        for step in range(6):
            bad.write_scalars("x", [step], [WALL + step], [float(step)])
        path = bad.path
    data = path.read_bytes()
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        (length,) = struct.unpack("<Q", data[offset : offset + 8])
        offset += 12 + length + 4
    return logdir, path, offsets


def imported_steps(target, experiment: str, run: str) -> list[int]:
    return target.read_scalars(tree(target, experiment)[run].id, "x").steps.tolist()


def test_corrupt_record_data_skips_one_record(stores, tmp_path):
    _, target = stores
    logdir, path, offsets = damaged_logdir(tmp_path)
    data = bytearray(path.read_bytes())
    data[offsets[3] + 20] ^= 0xFF  # inside the data of the step-2 record
    path.write_bytes(bytes(data))
    report = import_tensorboard(logdir, experiment="crc", store=target)
    assert not report.ok and len(report.errors) == 1
    assert str(path) in report.errors[0] and f"offset {offsets[3]}" in report.errors[0] and "data checksum" in report.errors[0]
    assert imported_steps(target, "crc", "bad") == [0, 1, 3, 4, 5]
    assert imported_steps(target, "crc", "good") == [0, 1]


def test_corrupt_record_length_resynchronises(stores, tmp_path):
    _, target = stores
    logdir, path, offsets = damaged_logdir(tmp_path)
    data = bytearray(path.read_bytes())
    data[offsets[2]] ^= 0x55  # the length of the step-1 record
    path.write_bytes(bytes(data))
    report = import_tensorboard(logdir, experiment="len", store=target)
    assert len(report.errors) == 1 and f"offset {offsets[2]}" in report.errors[0] and "length checksum" in report.errors[0]
    assert imported_steps(target, "len", "bad") == [0, 2, 3, 4, 5]


def test_truncated_file_imports_what_is_complete(stores, tmp_path):
    _, target = stores
    logdir, path, offsets = damaged_logdir(tmp_path)
    path.write_bytes(path.read_bytes()[: offsets[5] + 7])
    report = import_tensorboard(logdir, experiment="cut", store=target)
    assert len(report.errors) == 1 and str(path) in report.errors[0] and f"offset {offsets[5]}" in report.errors[0]
    assert imported_steps(target, "cut", "bad") == [0, 1, 2, 3]
    assert imported_steps(target, "cut", "good") == [0, 1]


def test_bad_inputs(stores, tmp_path):
    _, target = stores
    with pytest.raises(NotFoundError, match="no logdir"):
        import_tensorboard(tmp_path / "missing", store=target)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        import_tensorboard(tmp_path / "file", store=target)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match="experiment name"):
        import_tensorboard(tmp_path / "empty", experiment="../x", store=target)
    assert import_tensorboard(tmp_path / "empty", store=target).runs_created == 0


def test_cli_import(stores, tmp_path, capsys):
    _, target = stores
    logdir, path, _ = damaged_logdir(tmp_path)
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    assert run_import(target, parser.parse_args(["import", str(logdir), "--experiment", "cli"])) == 0
    assert "2 new runs" in capsys.readouterr().out
    path.write_bytes(path.read_bytes()[:-3])
    os.utime(path)
    assert run_import(target, parser.parse_args(["import", str(logdir), "--experiment", "cli2"])) == 1
    assert "truncated" not in capsys.readouterr().out
