"""Import of event files holding odd records: non-finite wall times, records that are not Events, zero tails."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2

from tb_runhistory_plugin.export import import_tensorboard
from tb_runhistory_plugin.export._eventfile import EventFileWriter, _frame
from tb_runhistory_plugin.store import SQLiteStore

WALL = 1_700_000_000.5
NOT_AN_EVENT = b"\xff\xff\xff this is not an Event proto"


@pytest.fixture
def target(tmp_path):
    made = SQLiteStore(tmp_path / "store")
    yield made
    made.close()


def scalar_event(step: int, wall: float, value: float, tag: str = "x") -> bytes:
    event = event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]))
    return _frame(event.SerializeToString())


def write_file(folder: Path, records: list[bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.out.tfevents.1700000000.host.1.0"
    path.write_bytes(b"".join(records))
    return path


def runs_by_name(store, experiment: str) -> dict[str, object]:
    exp = store.get_experiment(experiment)
    return {info.display_name: info for info in store.list_runs(exp.id)}


def steps_of(store, experiment: str, run: str) -> list[int]:
    return store.read_scalars(runs_by_name(store, experiment)[run].id, "x").steps.tolist()


def test_events_with_a_wall_time_that_is_not_finite_are_skipped_and_counted(target, tmp_path):
    records = [scalar_event(0, WALL, 1.0), scalar_event(1, math.nan, 2.0), scalar_event(2, math.inf, 3.0)]
    records += [scalar_event(3, -math.inf, 4.0), scalar_event(4, WALL + 4, 5.0)]
    write_file(tmp_path / "logs" / "a", records)
    report = import_tensorboard(tmp_path / "logs", experiment="walls", store=target)
    assert report.scalars == 2 and report.ok
    assert sum(n for reason, n in report.skipped.items() if "wall time" in reason) == 3, report.skipped
    assert steps_of(target, "walls", "a") == [0, 4]
    info = runs_by_name(target, "walls")["a"]
    assert (info.start_time, info.end_time) == (WALL, WALL + 4)


def test_a_nan_wall_time_first_in_a_nested_run_does_not_abort(target, tmp_path):
    # The folder "p" has no event file of its own: its start time comes from the files below it.
    version = _frame(event_pb2.Event(wall_time=math.nan, file_version="brain.Event:2").SerializeToString())
    write_file(tmp_path / "logs" / "p" / "c", [version, scalar_event(0, WALL, 1.0)])
    report = import_tensorboard(tmp_path / "logs", experiment="nested", store=target)
    runs = runs_by_name(target, "nested")
    assert set(runs) == {"p", "c"} and report.runs_created == 2
    assert runs["p"].start_time == WALL and math.isfinite(runs["c"].start_time)
    assert steps_of(target, "nested", "c") == [0]


def test_records_that_are_not_events_are_skipped_and_counted(target, tmp_path):
    write_file(tmp_path / "logs" / "a", [scalar_event(0, WALL, 1.0), _frame(NOT_AN_EVENT), scalar_event(1, WALL + 1, 2.0)])
    # First in a nested run: the folder above reads the first record for its start time.
    write_file(tmp_path / "logs" / "p" / "c", [_frame(NOT_AN_EVENT), scalar_event(5, WALL + 5, 1.0)])
    report = import_tensorboard(tmp_path / "logs", experiment="junk", store=target)
    assert report.skipped.get("records that are not Event protos") == 2, report.skipped
    assert steps_of(target, "junk", "a") == [0, 1] and steps_of(target, "junk", "c") == [5]
    assert runs_by_name(target, "junk")["p"].start_time == WALL + 5


def test_a_file_ending_in_zeros_imports_every_record_before_them(target, tmp_path):
    # Preallocated or cut-short files end in zeros; see bench/bench_import.py for the time it takes (well under 1 s).
    with EventFileWriter(tmp_path / "logs" / "a") as writer:
        writer.write_scalars("x", list(range(1000)), [WALL] * 1000, [float(i) for i in range(1000)])
        path = writer.path
    good = os.path.getsize(path)
    with open(path, "ab") as handle:
        handle.write(bytes(32 << 20))
    report = import_tensorboard(tmp_path / "logs", experiment="zeros", store=target)
    assert report.scalars == 1000 and len(report.errors) == 1
    assert f"offset {good}" in report.errors[0] and f"the remaining {32 << 20} bytes are all zero" in report.errors[0]
    assert steps_of(target, "zeros", "a") == list(range(1000))


def test_a_valid_record_after_zeros_is_found_again(target, tmp_path):
    write_file(tmp_path / "logs" / "a", [scalar_event(0, WALL, 1.0), bytes(100_003), scalar_event(1, WALL + 1, 2.0)])
    report = import_tensorboard(tmp_path / "logs", experiment="gap", store=target)
    assert len(report.errors) == 1 and "skipped 100003 bytes" in report.errors[0]
    assert steps_of(target, "gap", "a") == [0, 1]
