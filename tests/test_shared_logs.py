"""Two runs given the same logs folder: refused while one is Running; one after the other, each mirrors its own files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.errors import ConflictError
from tb_runhistory_plugin.export import export_to_tensorboard
from tb_runhistory_plugin.export._eventfile import EventFileWriter
from tb_runhistory_plugin.store import SQLiteStore

WALL = 1_700_000_000.0


@pytest.fixture
def store(tmp_path):
    made = SQLiteStore(tmp_path / "store")
    yield made
    made.close()


def write_events(folder: Path, tag: str) -> str:
    """One event file with one scalar; returns its name."""
    with EventFileWriter(folder) as writer:
        writer.write_scalars(tag, [0], [WALL], [1.0])
        return writer.path.name


def mirrored(tb: Path, run: str) -> list[str]:
    folder = tb / run / "logs"
    return sorted(p.name for p in folder.rglob("*tfevents*")) if folder.exists() else []


def test_a_second_running_run_on_the_same_folder_is_refused(store, tmp_path):
    exp = Experiment("shared", store=store)
    logs = tmp_path / "logs"
    first = exp.start_logging(display_name="first", logs_dir=logs)
    with pytest.raises(ConflictError, match=rf"first.*{first.id}.*Running"):
        exp.start_logging(display_name="second", logs_dir=logs)
    with pytest.raises(ConflictError, match=first.id):
        exp.start_logging(display_name="second", logs_dir=str(logs) + os.sep)  # the same folder, spelled differently
    other = exp.start_logging(display_name="other")
    with pytest.raises(ConflictError, match=first.id):
        other.attach_logs(logs)
    assert [r.display_name for r in exp.get_runs()].count("second") == 0  # nothing half-made
    first.attach_logs(logs)  # following its own folder again is fine
    first.complete()
    again = exp.start_logging(display_name="again", logs_dir=logs)  # after it ended: allowed
    other.attach_logs(tmp_path / "elsewhere")
    again.complete()
    other.complete()


def test_runs_one_after_the_other_each_mirror_their_own_files(store, tmp_path):
    exp = Experiment("rerun", store=store)
    logs, tb = tmp_path / "logs", tmp_path / "tb"
    names = {}
    for name in ("one", "two", "three"):
        with exp.start_logging(display_name=name, logs_dir=logs):
            time.sleep(0.05)  # file times are coarse (a few ms): keep this run's writes clearly after its start
            names[name] = write_events(logs / "train", name)
        if name == "two":
            export_to_tensorboard(exp, tb)  # an export in between must not give "one" the files of "two"
    export_to_tensorboard(exp, tb)
    for name in ("one", "two", "three"):
        assert mirrored(tb, name) == [names[name]], name


def test_a_single_run_still_mirrors_files_written_before_it_started(store, tmp_path):
    logs, tb = tmp_path / "logs", tmp_path / "tb"
    old = write_events(logs, "old")
    run = Experiment("attach", store=store).start_logging(display_name="late")
    run.attach_logs(logs)
    run.complete()
    export_to_tensorboard(run, tb)
    assert mirrored(tb, "late") == [old]


def test_folders_inside_one_another_count_as_the_same(store, tmp_path):
    # A run following ./logs mirrors everything below it: ./logs/b of another live run would leak into it.
    exp = Experiment("nested", store=store)
    logs, tb = tmp_path / "logs", tmp_path / "tb"
    outer = exp.start_logging(display_name="outer", logs_dir=logs)
    with pytest.raises(ConflictError, match="outer"):
        exp.start_logging(display_name="inner", logs_dir=logs / "b")
    with pytest.raises(ConflictError, match="outer"):
        exp.start_logging(display_name="around", logs_dir=tmp_path)
    time.sleep(0.05)
    mine = write_events(logs / "a", "outer")
    outer.complete()
    with exp.start_logging(display_name="inner", logs_dir=logs / "b"):  # after it ended: fine, and separated
        time.sleep(0.05)
        theirs = write_events(logs / "b", "inner")
    export_to_tensorboard(exp, tb)
    assert mirrored(tb, "outer") == [mine] and mirrored(tb, "inner") == [theirs]
