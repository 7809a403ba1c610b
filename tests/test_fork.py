"""A child made by os.fork() or multiprocessing (fork) logs through the Run it inherited: every point arrives."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from forking import in_forked_child

from tb_runhistory_plugin import Experiment, open_store

PARENT_POINTS = 3_000
CHILD_POINTS = 20_000


def _child_logs(run, child: int) -> None:
    for step in range(CHILD_POINTS):
        run.log("shared", child * 1_000_000 + step)  # a series the parent had buffered points in
        run.log(f"child{child}", step)  # a series only the child logs


def _parent_run(tmp_path):
    run = Experiment("forked", store=str(tmp_path / "store")).start_logging()
    for step in range(PARENT_POINTS):
        run.log("shared", -1 - step)  # still buffered when the fork happens
    return run


def _check(run, children: int) -> None:
    store = open_store(run._store.uri)
    shared = store.read_scalars(run.id, "shared").values
    assert len(shared) == PARENT_POINTS + children * CHILD_POINTS
    assert np.array_equal(np.sort(shared[shared < 0]), -np.arange(PARENT_POINTS, 0, -1, dtype=float))  # each exactly once
    for child in range(children):
        mine = shared[(shared >= child * 1_000_000) & (shared < (child + 1) * 1_000_000)]
        assert np.array_equal(mine, child * 1_000_000 + np.arange(CHILD_POINTS, dtype=float))
        assert np.array_equal(store.read_scalars(run.id, f"child{child}").values, np.arange(CHILD_POINTS, dtype=float))


def test_an_os_fork_child_logging_only_into_inherited_series_loses_nothing(tmp_path):
    run = _parent_run(tmp_path)

    def child() -> None:
        for step in range(CHILD_POINTS):
            run.log("shared", step)
        run.flush()

    assert in_forked_child(child) == 0
    run.flush()
    shared = run.get_metric_history("shared").values
    assert len(shared) == PARENT_POINTS + CHILD_POINTS
    assert np.array_equal(shared[shared >= 0], np.arange(CHILD_POINTS, dtype=float))
    run.complete()


def test_an_os_fork_child_logging_through_the_inherited_run_loses_nothing(tmp_path):
    run = _parent_run(tmp_path)

    def child() -> None:
        _child_logs(run, 0)
        run.flush()

    assert in_forked_child(child) == 0
    run.flush()
    _check(run, 1)
    run.complete()


def _mp_target(run, child: int) -> None:
    _child_logs(run, child)  # no flush: the child ends with os._exit, atexit does not run


@pytest.mark.parametrize("children", [1, 3])
def test_multiprocessing_fork_children_logging_through_the_inherited_run_lose_nothing(tmp_path, children):
    run = _parent_run(tmp_path)
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_mp_target, args=(run, child)) for child in range(children)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    run.flush()
    _check(run, children)
    run.complete()


_pool_run = None  # the Run a fork pool's workers inherit (a Run is not pickled to them)


def _pool_task(child: int) -> int:
    for step in range(1_000):
        _pool_run.log("pool", child * 1_000 + step, step=child * 1_000 + step)
    _pool_run.flush()  # a pool worker lives on after the task, so the task flushes what it logged
    return child


def test_a_fork_pool_whose_tasks_flush_keeps_every_point(tmp_path, monkeypatch):
    run = Experiment("forked", store=str(tmp_path / "store")).start_logging()
    run.log("pool", -1.0, step=10**9)
    monkeypatch.setitem(globals(), "_pool_run", run)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert sorted(pool.map(_pool_task, range(6))) == list(range(6))
    run.flush()
    history = run.get_metric_history("pool")
    assert len(history) == 6_001
    mask = history.steps < 10**9
    assert np.array_equal(history.steps[mask].astype(float), history.values[mask])
    run.complete()
