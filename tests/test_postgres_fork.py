"""A forked child (os.fork, multiprocessing fork) uses an inherited PostgreSQL store and Run with its own connections.

Sharing the parent's sockets would interleave two processes' messages on one connection (protocol
corruption, answers read by the wrong process); the child must open its own, log everything, and
leave the parent's connections working.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from backends_extra import make_postgresql
from forking import in_forked_child

from tb_runhistory_plugin import Experiment

POINTS = 5_000
ROUNDS = 200  # store calls each side makes while the other is busy too


def _busy_with_store(store, run_id: str, who: str) -> None:
    """Many small transactions, each checked: a shared connection would answer some with another process's rows."""
    for i in range(ROUNDS):
        store.set_tags(run_id, {who: str(i)})
        assert store.get_run(run_id).tags[who] == str(i)
        names = {m.name for m in store.list_metrics(run_id)}
        assert "parent" in names


def _child(run, store, child: int) -> None:
    for step in range(POINTS):
        run.log(f"child{child}", step)
        run.log("shared", 1_000_000 * (child + 1) + step)
    _busy_with_store(store, run.id, f"child{child}")
    run.flush()
    assert len(store.read_scalars(run.id, f"child{child}")) == POINTS


@pytest.fixture
def pg_run():
    store = make_postgresql()
    run = Experiment("forked", store=store).start_logging()
    for step in range(POINTS):
        run.log("parent", step)
        run.log("shared", -1 - step)
    run.flush()
    _busy_with_store(store, run.id, "parent")  # the pool holds idle connections when the fork happens
    yield store, run
    store.close()


def _check(store, run, children: int) -> None:
    run.flush()
    assert np.array_equal(store.read_scalars(run.id, "parent").values, np.arange(POINTS, dtype=float))
    shared = store.read_scalars(run.id, "shared").values
    assert len(shared) == POINTS * (children + 1)
    for child in range(children):
        assert np.array_equal(store.read_scalars(run.id, f"child{child}").values, np.arange(POINTS, dtype=float))
        mine = shared[(shared >= 1_000_000 * (child + 1)) & (shared < 1_000_000 * (child + 2))]
        assert np.array_equal(mine, 1_000_000 * (child + 1) + np.arange(POINTS, dtype=float))
        assert store.get_run(run.id).tags[f"child{child}"] == str(ROUNDS - 1)


def test_an_os_fork_child_uses_its_own_postgresql_connections(pg_run):
    store, run = pg_run
    # The parent keeps using the store while the child does.
    assert in_forked_child(lambda: _child(run, store, 0), lambda: _busy_with_store(store, run.id, "parent")) == 0
    _busy_with_store(store, run.id, "parent")  # and after it exited: its exit closed nothing of ours
    _check(store, run, 1)
    run.complete()


@pytest.mark.parametrize("children", [1, 3])
def test_multiprocessing_fork_children_use_their_own_postgresql_connections(pg_run, children):
    store, run = pg_run
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_child, args=(run, store, child)) for child in range(children)]
    for proc in procs:
        proc.start()
    _busy_with_store(store, run.id, "parent")
    for proc in procs:
        proc.join(timeout=300)
        assert proc.exitcode == 0
    _busy_with_store(store, run.id, "parent")
    _check(store, run, children)
    run.complete()
