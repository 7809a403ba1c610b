"""Nothing handed to log() is lost: many processes, SIGTERM, SIGKILL, exit, a locked database."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from tb_runhistory_plugin import Experiment, RunFilter, Status, _run, _writer, open_store

STORE_DIR = "store"


def _spawn(code: str, store: str, *args: str) -> subprocess.Popen:
    script = textwrap.dedent(code)
    return subprocess.Popen([sys.executable, "-c", script, store, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_line(proc: subprocess.Popen, expected: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(expected):
            return line.strip()
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited {proc.returncode} before {expected!r}: {proc.stderr.read()}")
    raise AssertionError(f"no {expected!r} from child within {timeout} s")


def _only_run(store_path: str):
    store = open_store(store_path)
    (exp,) = store.list_experiments()
    (info,) = store.list_runs(exp.id)
    return store, info


WRITER = """
import sys
from tb_runhistory_plugin import Experiment
store, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
run = Experiment("parallel", store=store).start_logging(display_name=f"worker{worker}")
for step in range(count):
    run.log("value", worker * 1_000_000 + step)
    if step % 5000 == 0:
        run.log("progress", step)
run.complete()
"""


def test_four_processes_log_into_one_store_and_nothing_is_lost(tmp_path):
    store_path = str(tmp_path / STORE_DIR)
    Experiment("parallel", store=store_path)  # created first so the children only race on runs and points
    children = [_spawn(WRITER, store_path, str(worker), "50000") for worker in range(4)]
    for child in children:
        _, err = child.communicate(timeout=240)
        assert child.returncode == 0, err
        assert "locked" not in err

    store = open_store(store_path)
    (exp,) = store.list_experiments()
    runs = store.list_runs(exp.id)
    assert sorted(r.display_name for r in runs) == [f"worker{w}" for w in range(4)]
    total = 0
    for info in runs:
        worker = int(info.display_name.removeprefix("worker"))
        history = store.read_scalars(info.id, "value")
        assert np.array_equal(history.values, worker * 1_000_000 + np.arange(50_000))
        assert np.array_equal(history.steps, np.arange(50_000))
        assert info.status == Status.COMPLETED
        total += len(history)
    assert total == 200_000


SLEEPER = """
import sys, time
from tb_runhistory_plugin import Experiment, _writer
store, count = sys.argv[1], int(sys.argv[2])
run = Experiment("term", store=store).start_logging(display_name="victim")
child = run.child_run("child")
# Only the SIGTERM handler may write these points: no background write happens before it.
_writer.writer_for(run._store).interval = 3600
for step in range(count):
    run.log("loss", step * 0.5)
    child.log("acc", step)
print("logged", count, flush=True)
time.sleep(120)
"""


def test_sigterm_writes_every_logged_point_and_ends_the_runs(tmp_path):
    store_path = str(tmp_path / STORE_DIR)
    proc = _spawn(SLEEPER, store_path, "30000")
    _wait_for_line(proc, "logged")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGTERM  # still dies of SIGTERM, as its parent expects

    store = open_store(store_path)
    (exp,) = store.list_experiments()
    (root,) = store.list_runs(exp.id, RunFilter(parent_id="__roots__"))
    (child,) = store.list_runs(exp.id, RunFilter(parent_id=root.id))
    assert np.array_equal(store.read_scalars(root.id, "loss").values, np.arange(30_000) * 0.5)
    assert np.array_equal(store.read_scalars(child.id, "acc").values, np.arange(30_000))
    assert root.status == child.status == Status.CANCELED
    assert "SIGTERM" in root.error


BUSY = """
import sys
from tb_runhistory_plugin import Experiment
store = sys.argv[1]
run = Experiment("busy", store=store).start_logging(display_name="busy")
step = 0
while True:
    run.log("x", step)
    step += 1
    if step % 20000 == 0:
        print("progress", step, flush=True)
"""


def test_sigterm_during_a_busy_logging_loop_keeps_a_gapless_prefix(tmp_path):
    store_path = str(tmp_path / STORE_DIR)
    proc = _spawn(BUSY, store_path)
    seen = 0
    while seen < 200_000:
        seen = int(_wait_for_line(proc, "progress").split()[1])
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    _, info = _only_run(store_path)
    values = open_store(store_path).read_scalars(info.id, "x").values
    assert len(values) >= seen  # everything reported as logged before the signal is there
    assert np.array_equal(values, np.arange(len(values)))  # and nothing is missing in between
    assert info.status == Status.CANCELED


KILLED = """
import sys
from tb_runhistory_plugin import Experiment
store = sys.argv[1]
run = Experiment("kill", store=store).start_logging(display_name="killed")
run.log_row("config", lr=0.1)
for step in range(50_000):
    run.log("x", step)
run.flush()
print("flushed", 50_000, flush=True)
step = 50_000
while True:
    run.log("x", step)
    step += 1
"""


def test_sigkill_leaves_a_readable_store_with_everything_flushed(tmp_path):
    store_path = str(tmp_path / STORE_DIR)
    proc = _spawn(KILLED, store_path)
    _wait_for_line(proc, "flushed")
    time.sleep(1.5)  # let background writes be under way when the kill lands
    proc.kill()
    proc.wait(timeout=30)

    db = sqlite3.connect(os.path.join(store_path, "runhistory.db"))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    store, info = _only_run(store_path)
    values = store.read_scalars(info.id, "x").values
    assert len(values) >= 50_000
    assert np.array_equal(values, np.arange(len(values)))
    assert info.status == Status.RUNNING  # reads NotResponding once heartbeats are overdue
    assert store.read_records(info.id, "config")[0].meta == {"row": {"lr": 0.1}}


EXITS = """
import sys
from tb_runhistory_plugin import Experiment
store, mode = sys.argv[1], sys.argv[2]
run = Experiment("exit", store=store).start_logging(display_name=mode)
child = run.child_run("child")
for step in range(1000):
    child.log("x", step)
if mode == "raise":
    raise RuntimeError("boom in training")
"""


@pytest.mark.parametrize("mode, status", [("clean", Status.COMPLETED), ("raise", Status.FAILED)])
def test_interpreter_exit_flushes_and_ends_open_runs(tmp_path, mode, status):
    store_path = str(tmp_path / STORE_DIR)
    proc = _spawn(EXITS, store_path, mode)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode == 0) == (mode == "clean"), err
    store = open_store(store_path)
    (exp,) = store.list_experiments()
    (root,) = store.list_runs(exp.id, RunFilter(parent_id="__roots__"))
    (child,) = store.list_runs(exp.id, RunFilter(parent_id=root.id))
    assert len(store.read_scalars(child.id, "x")) == 1000
    assert root.status == child.status == status
    if mode == "raise":
        assert "boom in training" in root.error
        assert "RuntimeError" in root.traceback


def test_a_locked_database_delays_writes_but_loses_nothing(tmp_path, monkeypatch):
    store_path = str(tmp_path / STORE_DIR)
    run = Experiment("locked", store=store_path).start_logging()
    run.log("x", -1.0)
    run.flush()
    # Another process-like connection holds the write lock for a while.
    blocker = sqlite3.connect(os.path.join(store_path, "runhistory.db"), isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(2.0, lambda: blocker.execute("COMMIT"))
    release.start()
    for step in range(10_000):
        run.log("x", float(step))
    run.flush()  # waits out the lock instead of failing
    release.join()
    blocker.close()
    assert np.array_equal(run.get_metric_history("x").values, np.concatenate([[-1.0], np.arange(10_000.0)]))
    run.complete()


def test_log_waits_instead_of_growing_without_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(_writer, "MAX_BUFFERED", 2_000)
    monkeypatch.setattr(_run, "_WAKE_WORDS", 3 * 100)
    store_path = str(tmp_path / STORE_DIR)
    run = Experiment("bounded", store=store_path).start_logging()
    run.log("x", 0)
    run.flush()
    blocker = sqlite3.connect(os.path.join(store_path, "runhistory.db"), isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    done = threading.Event()

    def produce() -> None:
        for step in range(1, 20_001):
            run.log("x", step)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    peak = 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        buf = run._scalars.get("x")  # idle buffers leave the run, so look it up each time
        peak = max(peak, len(buf) if buf is not None else 0)
        time.sleep(0.01)
    assert not done.is_set()  # the producer is held back while the store cannot take more
    assert peak <= 2_000
    blocker.execute("COMMIT")
    blocker.close()
    producer.join(timeout=60)
    assert done.is_set()
    assert np.array_equal(run.get_metric_history("x").values, np.arange(20_001.0))
    run.complete()


def _forked_child(store_path: str) -> None:
    run = Experiment("forked", store=store_path).start_logging(display_name="child-process")
    for step in range(5_000):
        run.log("x", step)
    run.complete()


def test_a_forked_process_logs_with_its_own_connections(tmp_path):
    import multiprocessing

    store_path = str(tmp_path / STORE_DIR)
    parent = Experiment("forked", store=store_path).start_logging(display_name="parent-process")
    for step in range(1_000):
        parent.log("x", step)
    parent.flush()
    child = multiprocessing.get_context("fork").Process(target=_forked_child, args=(store_path,))
    child.start()
    for step in range(1_000, 2_000):
        parent.log("x", step)
    child.join(timeout=60)
    assert child.exitcode == 0
    parent.complete()
    store = open_store(store_path)
    (exp,) = store.list_experiments()
    lengths = {info.display_name: len(store.read_scalars(info.id, "x")) for info in store.list_runs(exp.id)}
    assert lengths == {"parent-process": 2_000, "child-process": 5_000}


FORKER = """
import os, sys
from tb_runhistory_plugin import Experiment
run = Experiment("forked", store=sys.argv[1]).start_logging(display_name="parent-process")
run.log("x", 1)
pid = os.fork()
if pid == 0:
    sys.exit(0)  # a normal interpreter exit in the child: atexit handlers run there
os.waitpid(pid, 0)
print("status after child exit:", run.status, flush=True)
run.complete()
"""


def test_a_forked_child_exiting_normally_leaves_the_parents_runs_open(tmp_path):
    proc = _spawn(FORKER, str(tmp_path / STORE_DIR))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "status after child exit: Running" in out


FLAT_OUT = """
import sys, time
from tb_runhistory_plugin import Experiment
run = Experiment("killed", store=sys.argv[1]).start_logging()
run.log("wall", time.time())
run.flush()
print("logging", flush=True)
log, now = run.log, time.time
while True:
    for name in ("wall", "a", "b", "c"):
        log(name, now())
"""

HARD_KILL_LOSS = 1.0  # seconds of values a SIGKILL may lose at full logging speed (the README's promise)


def test_sigkill_at_full_logging_speed_loses_at_most_the_last_second(tmp_path):
    store_path = str(tmp_path / STORE_DIR)
    proc = _spawn(FLAT_OUT, store_path)
    _wait_for_line(proc, "logging")
    time.sleep(3.0)  # well past the first background writes
    killed_at = time.time()
    proc.kill()
    proc.wait(timeout=30)
    store, info = _only_run(store_path)
    walls = store.read_scalars(info.id, "wall").values
    assert len(walls) > 1_000 and np.all(np.diff(walls) >= 0)
    lost = killed_at - walls[-1]
    print(f"SIGKILL at full speed lost the last {lost:.3f} s")
    assert lost <= HARD_KILL_LOSS, f"{lost:.2f} s of values lost"
