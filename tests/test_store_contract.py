"""Contract tests of the Store protocol; every backend in tests/backends.py runs this whole file.

Only the protocol's public methods are used here, so PostgreSQL and HTTP backends reuse it as is.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tb_runhistory_plugin import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    RunHistoryError,
    Status,
)
from tb_runhistory_plugin._types import (
    NOT_RESPONDING_AFTER,
    Record,
    RecordBatch,
    ScalarBatch,
)
from tb_runhistory_plugin.store import ROOTS, RunFilter
from tb_runhistory_plugin.store._chunks import CHUNK_POINTS

_RNG = np.random.default_rng(20250101)


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def exp(store):
    """A fresh experiment in the store under test."""
    return store.get_or_create_experiment("contract")


@pytest.fixture
def t0():
    """A start time in the recent past; runs started after it are not stale."""
    return time.time() - 10.0


def _run(store, exp, run_id, t, *, parent=None, name=None, tags=None, properties=None, description=""):
    return store.create_run(
        exp.id,
        run_id=run_id,
        display_name=name if name is not None else run_id,
        parent_id=parent,
        description=description,
        tags=tags,
        properties=properties,
        start_time=t,
    )


def _scalars(run_id, name, values, *, steps=None, walls=None, value_type="float"):
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    steps = np.full(n, -1, np.int64) if steps is None else np.asarray(steps, dtype=np.int64)
    walls = np.linspace(1000.0, 1000.0 + n, n) if walls is None else np.asarray(walls, dtype=np.float64)
    return ScalarBatch(run_id, name, steps, walls, values, value_type)


def _ids(infos):
    return [info.id for info in infos]


# --- experiments ---------------------------------------------------------------------------


def test_get_or_create_experiment_is_idempotent(store):
    first = store.get_or_create_experiment("alpha")
    again = store.get_or_create_experiment("alpha")
    other = store.get_or_create_experiment("beta")
    assert again == first
    assert first.name == "alpha" and other.name == "beta"
    assert other.id != first.id
    assert [e.name for e in store.list_experiments()] == ["alpha", "beta"]


def test_get_experiment_by_id_and_by_name(store):
    created = store.get_or_create_experiment("gamma")
    store.get_or_create_experiment("delta")
    assert store.get_experiment(created.id) == created
    assert store.get_experiment("gamma") == created


def test_get_experiment_not_found_names_it(store):
    store.get_or_create_experiment("present")
    with pytest.raises(NotFoundError, match="missing-exp"):
        store.get_experiment("missing-exp")


# --- runs ----------------------------------------------------------------------------------


def test_create_run_and_get_run(store, exp, t0):
    created = _run(
        store,
        exp,
        "run-a",
        t0,
        name="first run",
        description="a description",
        tags={"team": "vision", "empty": ""},
        properties={"sha": "abc", "n": 3, "lr": 0.25, "flag": True, "none": None},
    )
    fetched = store.get_run("run-a")
    assert fetched == created
    assert fetched.id == "run-a"
    assert fetched.experiment_id == exp.id
    assert fetched.parent_id is None
    assert fetched.display_name == "first run"
    assert fetched.description == "a description"
    assert fetched.status == Status.RUNNING
    assert not fetched.is_terminal
    assert fetched.start_time == t0
    assert fetched.end_time is None
    assert dict(fetched.tags) == {"team": "vision", "empty": ""}
    props = dict(fetched.properties)
    assert props == {"sha": "abc", "n": 3, "lr": 0.25, "flag": True, "none": None}
    assert type(props["n"]) is int and type(props["flag"]) is bool and type(props["lr"]) is float
    assert fetched.child_count == 0


def test_create_run_duplicate_id_conflicts(store, exp, t0):
    _run(store, exp, "dup", t0, name="original")
    with pytest.raises(ConflictError, match="dup"):
        _run(store, exp, "dup", t0 + 1, name="second")
    assert store.get_run("dup").display_name == "original"


def test_create_run_missing_parent_or_experiment(store, exp, t0):
    with pytest.raises(NotFoundError, match="no-such-parent"):
        _run(store, exp, "orphan", t0, parent="no-such-parent")
    with pytest.raises(NotFoundError):
        store.create_run("no-such-experiment", run_id="lost", display_name="lost", start_time=t0)
    assert store.list_runs(exp.id) == []
    with pytest.raises(NotFoundError, match="orphan"):
        store.get_run("orphan")


def test_child_count_and_parent_id(store, exp, t0):
    _run(store, exp, "root", t0)
    _run(store, exp, "kid1", t0 + 1, parent="root")
    _run(store, exp, "kid2", t0 + 2, parent="root")
    assert store.get_run("root").child_count == 2
    assert store.get_run("kid1").parent_id == "root"
    assert store.get_run("kid1").child_count == 0


def test_list_runs_by_parent(store, exp, t0):
    other = store.get_or_create_experiment("other")
    _run(store, exp, "root1", t0)
    _run(store, exp, "child1", t0 + 1, parent="root1")
    _run(store, exp, "root2", t0 + 2)
    _run(store, exp, "grand1", t0 + 3, parent="child1")
    _run(store, exp, "child2", t0 + 4, parent="root1")
    _run(store, other, "elsewhere", t0 + 5)
    assert _ids(store.list_runs(exp.id, RunFilter(parent_id=ROOTS))) == ["root1", "root2"]
    assert _ids(store.list_runs(exp.id, RunFilter(parent_id="root1"))) == ["child1", "child2"]
    assert _ids(store.list_runs(exp.id, RunFilter(parent_id="child1"))) == ["grand1"]
    assert _ids(store.list_runs(exp.id, RunFilter(parent_id="root2"))) == []
    assert _ids(store.list_runs(exp.id)) == ["root1", "child1", "root2", "grand1", "child2"]
    assert _ids(store.list_runs(other.id)) == ["elsewhere"]
    assert store.count_runs(exp.id) == 5
    assert store.count_runs(exp.id, RunFilter(parent_id=ROOTS)) == 2
    assert store.count_runs(exp.id, RunFilter(parent_id="root1")) == 2


@pytest.fixture
def status_zoo(store, exp, t0):
    """One run in each status, including one whose heartbeats stopped."""
    for i, run_id in enumerate(["live", "done", "broke", "stopped", "stale"]):
        _run(store, exp, run_id, t0 + i)
    store.set_run_status("done", Status.COMPLETED)
    store.set_run_status("broke", Status.FAILED, error="boom")
    store.set_run_status("stopped", Status.CANCELED)
    store.heartbeat(["stale"], time=time.time() - NOT_RESPONDING_AFTER - 60)
    return exp


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([Status.RUNNING], ["live"]),
        ([Status.NOT_RESPONDING], ["stale"]),
        ([Status.COMPLETED], ["done"]),
        ([Status.FAILED], ["broke"]),
        ([Status.CANCELED], ["stopped"]),
        ([Status.COMPLETED, Status.FAILED, Status.CANCELED], ["done", "broke", "stopped"]),
        ([Status.RUNNING, Status.NOT_RESPONDING], ["live", "stale"]),
        (None, ["live", "done", "broke", "stopped", "stale"]),
    ],
)
def test_list_runs_status_filter(store, status_zoo, statuses, expected):
    runs = store.list_runs(status_zoo.id, RunFilter(statuses=statuses))
    assert _ids(runs) == expected
    assert store.count_runs(status_zoo.id, RunFilter(statuses=statuses)) == len(expected)
    if statuses:
        assert {r.status for r in runs} <= set(statuses)


def test_not_responding_is_computed_from_the_heartbeat(store, status_zoo):
    assert store.get_run("stale").status == Status.NOT_RESPONDING
    assert store.get_run("live").status == Status.RUNNING
    # A heartbeat brings it back; heartbeats never touch a run that ended.
    store.heartbeat(["stale", "done"], time=time.time())
    assert store.get_run("stale").status == Status.RUNNING
    assert store.get_run("done").status == Status.COMPLETED
    assert _ids(store.list_runs(status_zoo.id, RunFilter(statuses=[Status.NOT_RESPONDING]))) == []
    # A stale run can still be ended.
    store.heartbeat(["stale"], time=time.time() - NOT_RESPONDING_AFTER - 60)
    assert store.set_run_status("stale", Status.FAILED, error="lost").status == Status.FAILED


def test_list_runs_unknown_status_is_rejected(store, exp):
    with pytest.raises(InvalidArgumentError, match="Exploded"):
        store.list_runs(exp.id, RunFilter(statuses=["Exploded"]))


def test_list_runs_tag_filters(store, exp, t0):
    _run(store, exp, "r1", t0, tags={"team": "vision", "size": "big"})
    _run(store, exp, "r2", t0 + 1, tags={"team": "speech"})
    _run(store, exp, "r3", t0 + 2, tags={"size": "small"})
    _run(store, exp, "r4", t0 + 3)

    def check(tags, expected):
        assert _ids(store.list_runs(exp.id, RunFilter(tags=tags))) == expected
        assert store.count_runs(exp.id, RunFilter(tags=tags)) == len(expected)

    check({"team": None}, ["r1", "r2"])
    check({"team": "vision"}, ["r1"])
    check({"team": "vision", "size": None}, ["r1"])
    check({"team": None, "size": "small"}, [])
    check({"size": None}, ["r1", "r3"])
    check({"nope": None}, [])
    check({}, ["r1", "r2", "r3", "r4"])


def test_list_runs_text_filter(store, exp, t0):
    _run(store, exp, "id-one", t0, name="lr_sweep")
    _run(store, exp, "id-two", t0 + 1, name="lr%sweep")
    _run(store, exp, "id-three", t0 + 2, name="lrxsweep")
    _run(store, exp, "id-four", t0 + 3, name="plain", tags={"owner": "marie"})
    _run(store, exp, "zz9", t0 + 4, name="other")

    def check(text, expected):
        assert _ids(store.list_runs(exp.id, RunFilter(text=text))) == expected
        assert store.count_runs(exp.id, RunFilter(text=text)) == len(expected)

    check("sweep", ["id-one", "id-two", "id-three"])
    check("_", ["id-one"])  # '_' is a literal, not a one-character wildcard
    check("%", ["id-two"])  # '%' is a literal, not a wildcard
    check("lr_s", ["id-one"])
    check("r%s", ["id-two"])
    check("zz9", ["zz9"])  # the id
    check("id-t", ["id-two", "id-three"])
    check("marie", ["id-four"])  # a tag value
    check("owner", ["id-four"])  # a tag key
    check("absent", [])
    check("\\", [])


def test_list_runs_limit_offset_and_count(store, exp, t0):
    ids = [f"run{i}" for i in range(7)]
    for i, run_id in enumerate(ids):
        _run(store, exp, run_id, t0 + i, tags={"even": "yes"} if i % 2 == 0 else None)
    assert _ids(store.list_runs(exp.id, limit=3)) == ids[:3]
    assert _ids(store.list_runs(exp.id, limit=3, offset=3)) == ids[3:6]
    assert _ids(store.list_runs(exp.id, limit=3, offset=6)) == ids[6:]
    assert _ids(store.list_runs(exp.id, offset=5)) == ids[5:]
    assert _ids(store.list_runs(exp.id, offset=10)) == []
    assert _ids(store.list_runs(exp.id, limit=0)) == []
    assert _ids(store.list_runs(exp.id, RunFilter(tags={"even": None}), limit=2, offset=1)) == ["run2", "run4"]
    assert store.count_runs(exp.id) == 7
    assert store.count_runs(exp.id, RunFilter(tags={"even": None})) == 4
    # Paging through covers every run exactly once.
    pages = [_ids(store.list_runs(exp.id, limit=2, offset=o)) for o in range(0, 7, 2)]
    assert [run_id for page in pages for run_id in page] == ids


def test_list_descendants_depth_first_parents_before_children(store, exp, t0):
    # Created out of order, so only the tree (not creation order) can give the expected order.
    _run(store, exp, "top", t0)
    _run(store, exp, "b", t0 + 2, parent="top")
    _run(store, exp, "b1", t0 + 7, parent="b")
    _run(store, exp, "a", t0 + 1, parent="top")
    _run(store, exp, "a2", t0 + 5, parent="a")
    _run(store, exp, "a1", t0 + 3, parent="a")
    _run(store, exp, "a1x", t0 + 4, parent="a1")
    _run(store, exp, "a1y", t0 + 6, parent="a1")
    _run(store, exp, "unrelated", t0 + 8)
    assert _ids(store.list_descendants("top")) == ["a", "a1", "a1x", "a1y", "a2", "b", "b1"]
    assert _ids(store.list_descendants("a")) == ["a1", "a1x", "a1y", "a2"]
    assert _ids(store.list_descendants("a1x")) == []
    with pytest.raises(NotFoundError, match="ghost"):
        store.list_descendants("ghost")


def test_list_descendants_siblings_with_equal_start_times(store, exp, t0, request):
    _run(store, exp, "top", t0)
    _run(store, exp, "ab", t0 + 1, parent="top")
    _run(store, exp, "abc", t0 + 1, parent="top")
    _run(store, exp, "ab-kid", t0 + 2, parent="ab")
    assert _ids(store.list_descendants("top")) in (["ab", "ab-kid", "abc"], ["abc", "ab", "ab-kid"])


def test_set_run_status_transitions(store, exp, t0):
    for run_id in ("c", "f", "x"):
        _run(store, exp, run_id, t0)
    done = store.set_run_status("c", Status.COMPLETED, end_time=t0 + 5)
    assert done.status == Status.COMPLETED and done.end_time == t0 + 5 and done.is_terminal
    assert done.error is None and done.traceback is None
    failed = store.set_run_status("f", Status.FAILED, error="ValueError: bad", traceback="Traceback ...\nValueError: bad")
    assert failed.status == Status.FAILED
    assert failed.error == "ValueError: bad" and failed.traceback.endswith("ValueError: bad")
    assert failed.end_time is not None and failed.end_time >= t0
    assert store.set_run_status("x", Status.CANCELED).status == Status.CANCELED
    assert store.get_run("f") == failed


def test_set_run_status_second_end_conflicts(store, exp, t0):
    _run(store, exp, "once", t0)
    store.set_run_status("once", Status.COMPLETED, end_time=t0 + 1)
    for status in (Status.FAILED, Status.COMPLETED, Status.CANCELED):
        with pytest.raises(ConflictError, match="once"):
            store.set_run_status("once", status, error="late")
    after = store.get_run("once")
    assert after.status == Status.COMPLETED and after.end_time == t0 + 1 and after.error is None


def test_set_run_status_rejects_non_terminal_and_unknown_run(store, exp, t0):
    _run(store, exp, "r", t0)
    with pytest.raises(InvalidArgumentError):
        store.set_run_status("r", Status.RUNNING)
    with pytest.raises(NotFoundError, match="nobody"):
        store.set_run_status("nobody", Status.COMPLETED)
    assert store.get_run("r").status == Status.RUNNING


def test_tags_set_overwrite_remove(store, exp, t0):
    _run(store, exp, "r", t0, tags={"a": "1"})
    store.set_tags("r", {"b": "2", "c": "3"})
    assert dict(store.get_run("r").tags) == {"a": "1", "b": "2", "c": "3"}
    store.set_tags("r", {"a": "changed"})
    assert dict(store.get_run("r").tags) == {"a": "changed", "b": "2", "c": "3"}
    store.remove_tags("r", ["b", "never-set"])
    assert dict(store.get_run("r").tags) == {"a": "changed", "c": "3"}
    store.remove_tags("r", [])
    assert dict(store.get_run("r").tags) == {"a": "changed", "c": "3"}
    with pytest.raises(NotFoundError):
        store.set_tags("ghost", {"a": "b"})
    with pytest.raises(NotFoundError):
        store.remove_tags("ghost", ["a"])


def test_add_properties_is_add_only(store, exp, t0):
    _run(store, exp, "r", t0, properties={"sha": "abc"})
    store.add_properties("r", {"epochs": 10, "lr": 0.1})
    store.add_properties("r", {"sha": "abc", "epochs": 10})  # the same values again: fine
    assert dict(store.get_run("r").properties) == {"sha": "abc", "epochs": 10, "lr": 0.1}
    with pytest.raises(ConflictError, match="sha") as caught:
        store.add_properties("r", {"new": 1, "sha": "def"})
    assert "abc" in str(caught.value)
    # The failed call added nothing, not even its valid key.
    assert dict(store.get_run("r").properties) == {"sha": "abc", "epochs": 10, "lr": 0.1}
    with pytest.raises(NotFoundError):
        store.add_properties("ghost", {"a": 1})


def test_add_properties_change_of_type_conflicts(store, exp, t0, request):
    _run(store, exp, "r", t0, properties={"flag": 1})
    with pytest.raises(ConflictError, match="flag"):
        store.add_properties("r", {"flag": True})


# --- scalar metrics ------------------------------------------------------------------------


def test_scalar_auto_explicit_and_mixed_steps_across_writes(store, exp, t0):
    _run(store, exp, "r", t0)
    store.write_metrics([_scalars("r", "loss", [0.5, 0.4, 0.3], walls=[1.0, 2.0, 3.0])])
    store.write_metrics([_scalars("r", "loss", [0.2, 0.1], steps=[10, 20], walls=[4.0, 5.0])])
    store.write_metrics([_scalars("r", "loss", [0.05, 0.04], walls=[6.0, 7.0])])
    store.write_metrics([_scalars("r", "loss", [9.0, 8.0, 7.0], steps=[-1, 50, -1], walls=[8.0, 9.0, 10.0])])
    history = store.read_scalars("r", "loss")
    assert history.name == "loss"
    assert history.steps.tolist() == [0, 1, 2, 10, 20, 21, 22, 23, 50, 51]
    assert history.wall_times.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert history.values.tolist() == [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.04, 9.0, 8.0, 7.0]
    assert history.steps.dtype == np.int64 and history.values.dtype == np.float64
    (info,) = store.list_metrics("r")
    assert (info.name, info.kind, info.count) == ("loss", "scalar", 10)
    assert (info.last_step, info.last_value, info.last_wall_time) == (51, 7.0, 10.0)


def test_scalar_series_are_independent(store, exp, t0):
    _run(store, exp, "r", t0)
    _run(store, exp, "s", t0 + 1)
    store.write_metrics([_scalars("r", "a", [1, 2]), _scalars("r", "b", [3]), _scalars("s", "a", [4, 5, 6])])
    store.write_metrics([_scalars("r", "a", [7])])
    assert store.read_scalars("r", "a").steps.tolist() == [0, 1, 2]
    assert store.read_scalars("r", "a").values.tolist() == [1, 2, 7]
    assert store.read_scalars("r", "b").steps.tolist() == [0]
    assert store.read_scalars("s", "a").values.tolist() == [4, 5, 6]
    assert [m.name for m in store.list_metrics("r")] == ["a", "b"]


def _write_uneven(store, run_id, name, sizes, *, explicit_every=0):
    """Write batches of the given sizes; return the expected (steps, walls, values)."""
    steps_all, walls_all, values_all = [], [], []
    next_step, wall = 0, 5000.0
    for b, size in enumerate(sizes):
        values = _RNG.normal(size=size)
        walls = wall + np.arange(size) * 0.001
        wall = float(walls[-1]) + 0.001
        if explicit_every and b % explicit_every == 1:
            steps = next_step + 3 + np.arange(size) * 2  # explicit, with gaps
            given = steps
        else:
            steps = next_step + np.arange(size)
            given = np.full(size, -1)
        next_step = int(steps[-1]) + 1
        store.write_metrics([_scalars(run_id, name, values, steps=given, walls=walls)])
        steps_all.append(steps)
        walls_all.append(walls)
        values_all.append(values)
    return np.concatenate(steps_all), np.concatenate(walls_all), np.concatenate(values_all)


_UNEVEN = [1, 4094, 1, 1, 3000, 1100, 4096, 1, 2000, 7, 4095]  # 18,396 points


@pytest.fixture
def long_series(store, exp, t0):
    """A scalar series of 18,396 points written in uneven batches across several chunks."""
    _run(store, exp, "long", t0)
    return _write_uneven(store, "long", "x", _UNEVEN, explicit_every=3)


def test_chunk_boundaries_read_back_exactly(store, long_series):
    steps, walls, values = long_series
    assert len(steps) == sum(_UNEVEN) > 10_000
    history = store.read_scalars("long", "x")
    np.testing.assert_array_equal(history.steps, steps)
    np.testing.assert_array_equal(history.wall_times, walls)
    np.testing.assert_array_equal(history.values, values)
    (info,) = store.list_metrics("long")
    assert info.count == len(steps)
    assert info.last_step == steps[-1] and info.last_value == values[-1] and info.last_wall_time == walls[-1]


def test_tail_chunk_is_rewritten_not_fragmented(store, long_series):
    n = len(long_series[0])
    summaries = store.read_summaries("long", "x")
    assert summaries.offsets.tolist() == list(range(0, n, CHUNK_POINTS))
    expected_counts = [CHUNK_POINTS] * (n // CHUNK_POINTS) + ([n % CHUNK_POINTS] if n % CHUNK_POINTS else [])
    assert summaries.counts.tolist() == expected_counts


def _expected_summaries(steps, walls, values, offsets, counts):
    rows = []
    for offset, count in zip(offsets, counts):
        s, w, v = steps[offset : offset + count], walls[offset : offset + count], values[offset : offset + count]
        finite = v[np.isfinite(v)]
        rows.append(
            {
                "step_min": s.min(),
                "step_max": s.max(),
                "wall_min": w.min(),
                "wall_max": w.max(),
                "vmin": finite.min() if len(finite) else math.nan,
                "vmax": finite.max() if len(finite) else math.nan,
                "first": v[0],
                "last": v[-1],
                "total": finite.sum() if len(finite) else 0.0,
                "finite": len(finite),
            }
        )
    return rows


def _check_summaries(summaries, steps, walls, values):
    assert int(summaries.counts.sum()) == len(steps)
    assert summaries.offsets[0] == 0
    np.testing.assert_array_equal(summaries.offsets[1:], (summaries.offsets + summaries.counts)[:-1])
    expected = _expected_summaries(steps, walls, values, summaries.offsets, summaries.counts)
    for field in ("step_min", "step_max", "wall_min", "wall_max", "vmin", "vmax", "first", "last", "finite"):
        np.testing.assert_array_equal(getattr(summaries, field), [row[field] for row in expected], err_msg=field)
    np.testing.assert_allclose(summaries.total, [row["total"] for row in expected], rtol=1e-12, atol=1e-9)


def test_read_summaries_match_the_points(store, long_series):
    _check_summaries(store.read_summaries("long", "x"), *long_series)


def test_summaries_with_non_finite_values(store, exp, t0):
    _run(store, exp, "r", t0)
    n = 2 * CHUNK_POINTS + 100
    values = _RNG.normal(size=n)
    values[[0, 17, 4095]] = [np.nan, np.inf, -np.inf]  # first point of chunk 0 is NaN
    values[CHUNK_POINTS + 5] = np.nan
    values[2 * CHUNK_POINTS :] = np.where(np.arange(100) % 2, np.nan, np.inf)  # last chunk: nothing finite
    walls = 100.0 + np.arange(n, dtype=np.float64)
    store.write_metrics([_scalars("r", "x", values[:5000], walls=walls[:5000])])
    store.write_metrics([_scalars("r", "x", values[5000:], walls=walls[5000:])])
    steps = np.arange(n)
    summaries = store.read_summaries("r", "x")
    assert len(summaries) == 3
    _check_summaries(summaries, steps, walls, values)
    assert summaries.finite.tolist() == [CHUNK_POINTS - 3, CHUNK_POINTS - 1, 0]
    assert np.isnan(summaries.first[0]) and np.isnan(summaries.vmin[2]) and summaries.total[2] == 0.0


def test_nan_and_infinities_are_preserved(store, exp, t0):
    _run(store, exp, "r", t0)
    values = [1.5, math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]
    store.write_metrics([_scalars("r", "x", values)])
    store.write_metrics([_scalars("r", "y", [2.0, math.nan])])
    got = store.read_scalars("r", "x").values
    assert got[0] == 1.5 and math.isnan(got[1])
    assert got[2] == math.inf and got[3] == -math.inf
    assert got[4] == 0.0 and math.copysign(1.0, got[4]) == -1.0
    assert got[5] == 1e308 and got[6] == 5e-324
    metrics = {m.name: m for m in store.list_metrics("r")}
    assert metrics["x"].last_value == 5e-324
    assert math.isnan(metrics["y"].last_value)


@pytest.mark.parametrize(
    "start, stop",
    [
        (0, None),
        (10, 20),  # inside the first chunk
        (4090, 4100),  # straddling a chunk boundary
        (CHUNK_POINTS, 2 * CHUNK_POINTS),  # exactly one chunk
        (100, 13_000),  # across several chunks
        (18_390, None),  # the tail
        (18_390, 50_000),  # stop beyond the end
        (30_000, None),  # start beyond the end
        (30_000, 40_000),
        (500, 500),  # empty
        (0, 0),
        (600, 500),  # stop before start
        (18_395, 18_396),  # the very last point
    ],
)
def test_read_scalars_ranges(store, long_series, start, stop):
    steps, walls, values = long_series
    history = store.read_scalars("long", "x", start=start, stop=stop)
    end = len(steps) if stop is None else stop
    np.testing.assert_array_equal(history.steps, steps[start:end])
    np.testing.assert_array_equal(history.wall_times, walls[start:end])
    np.testing.assert_array_equal(history.values, values[start:end])
    assert len(history) == len(steps[start:end])


def test_read_scalars_negative_range_is_rejected(store, exp, t0):
    _run(store, exp, "r", t0)
    store.write_metrics([_scalars("r", "x", [1.0, 2.0])])
    with pytest.raises(InvalidArgumentError):
        store.read_scalars("r", "x", start=-1)


def test_read_unknown_metric_or_run(store, exp, t0):
    _run(store, exp, "r", t0)
    with pytest.raises(NotFoundError, match="nothing"):
        store.read_scalars("r", "nothing")
    with pytest.raises(NotFoundError, match="nothing"):
        store.read_records("r", "nothing")
    with pytest.raises(NotFoundError):
        store.read_summaries("r", "nothing")
    with pytest.raises(NotFoundError):
        store.read_scalars("ghost", "x")
    with pytest.raises(NotFoundError):
        store.list_metrics("ghost")
    assert store.list_metrics("r") == []


def test_value_type_promotion(store, exp, t0):
    _run(store, exp, "r", t0)

    def write_and_type(values, value_type):
        store.write_metrics([_scalars("r", "m", values, value_type=value_type)])
        (info,) = store.list_metrics("r")
        return info.value_type

    assert write_and_type([1, 0], "bool") == "bool"
    assert write_and_type([1], "bool") == "bool"
    assert write_and_type([5], "int") == "int"
    assert write_and_type([0], "bool") == "int"  # never narrows
    assert write_and_type([2.5], "float") == "float"
    assert write_and_type([3], "int") == "float"
    assert write_and_type([1], "bool") == "float"
    assert store.read_scalars("r", "m").values.tolist() == [1, 0, 1, 5, 0, 2.5, 3, 1]
    store.write_metrics([_scalars("r", "i", [1, 2], value_type="int")])
    assert {m.name: m.value_type for m in store.list_metrics("r")} == {"i": "int", "m": "float"}


# --- records -------------------------------------------------------------------------------


def test_records_of_each_kind_with_steps(store, exp, t0):
    _run(store, exp, "r", t0)
    table = RecordBatch(
        "r",
        "by_alpha",
        "table",
        (Record(-1, 10.0, {"row": {"alpha": 0.1, "mse": 3.2}}), Record(-1, 11.0, {"columns": {"alpha": [0.2, 0.3], "mse": [1, None]}})),
    )
    image = RecordBatch("r", "img", "image", (Record(5, 12.0, {"content_type": "image/png", "width": 2, "height": 1}, b"\x89PNG fake"),))
    hist = RecordBatch("r", "w", "histogram", (Record(3, 13.0, {"counts": [1, 2], "edges": [0.0, 0.5, 1.0]}),))
    store.write_metrics(records=[table, image, hist])
    store.write_metrics(
        records=[
            RecordBatch("r", "by_alpha", "table", (Record(-1, 14.0, {"row": {"alpha": 0.4, "note": "text"}}),)),
            RecordBatch("r", "img", "image", (Record(-1, 15.0, {"content_type": "image/png"}, b"\x00\x01\xff"),)),
            RecordBatch("r", "w", "histogram", (Record(9, 16.0, {"counts": [3]}), Record(-1, 17.0, {"counts": [4]}))),
        ]
    )
    rows = store.read_records("r", "by_alpha")
    assert [r.step for r in rows] == [0, 1, 2]
    assert [r.wall_time for r in rows] == [10.0, 11.0, 14.0]
    assert rows[0].meta == {"row": {"alpha": 0.1, "mse": 3.2}}
    assert rows[1].meta == {"columns": {"alpha": [0.2, 0.3], "mse": [1, None]}}
    assert rows[2].meta == {"row": {"alpha": 0.4, "note": "text"}}
    assert all(r.data is None for r in rows)
    images = store.read_records("r", "img")
    assert [r.step for r in images] == [5, 6]
    assert [bytes(r.data) for r in images] == [b"\x89PNG fake", b"\x00\x01\xff"]
    assert images[0].meta == {"content_type": "image/png", "width": 2, "height": 1}
    hists = store.read_records("r", "w")
    assert [r.step for r in hists] == [3, 9, 10]
    assert [r.meta["counts"] for r in hists] == [[1, 2], [3], [4]]
    metrics = {m.name: m for m in store.list_metrics("r")}
    assert {n: (m.kind, m.count, m.last_step) for n, m in metrics.items()} == {
        "by_alpha": ("table", 3, 2),
        "img": ("image", 2, 6),
        "w": ("histogram", 3, 10),
    }
    assert metrics["w"].last_wall_time == 17.0
    # Ranges work as for scalars.
    assert [r.step for r in store.read_records("r", "w", start=1)] == [9, 10]
    assert [r.step for r in store.read_records("r", "w", start=1, stop=2)] == [9]
    assert store.read_records("r", "w", start=5) == []


def test_reading_the_wrong_kind_is_rejected(store, exp, t0):
    _run(store, exp, "r", t0)
    store.write_metrics([_scalars("r", "s", [1.0])], [RecordBatch("r", "t", "table", (Record(-1, 1.0, {"row": {"a": 1}}),))])
    with pytest.raises(InvalidArgumentError, match="'t'"):
        store.read_scalars("r", "t")
    with pytest.raises(InvalidArgumentError, match="'s'"):
        store.read_records("r", "s")


def test_kind_clash_conflicts_and_writes_nothing(store, exp, t0):
    _run(store, exp, "r", t0)
    store.write_metrics([_scalars("r", "x", [1.0, 2.0])], [RecordBatch("r", "t", "table", (Record(-1, 1.0, {"row": {"a": 1}}),))])
    with pytest.raises(ConflictError, match="'x'"):
        store.write_metrics(records=[RecordBatch("r", "x", "table", (Record(-1, 1.0, {"row": {"a": 1}}),))])
    with pytest.raises(ConflictError, match="'t'"):
        store.write_metrics([_scalars("r", "t", [1.0])])
    with pytest.raises(ConflictError, match="'t'"):
        store.write_metrics(records=[RecordBatch("r", "t", "image", (Record(-1, 1.0, {}, b"x"),))])
    # One write is atomic: a valid batch beside a clashing one is not kept either.
    with pytest.raises(ConflictError):
        store.write_metrics(
            [_scalars("r", "x", [3.0]), _scalars("r", "fresh", [1.0])],
            [RecordBatch("r", "x", "histogram", (Record(-1, 1.0, {}),))],
        )
    assert store.read_scalars("r", "x").values.tolist() == [1.0, 2.0]
    assert [m.name for m in store.list_metrics("r")] == ["t", "x"]
    assert len(store.read_records("r", "t")) == 1


def test_writing_to_an_ended_run_conflicts(store, exp, t0):
    _run(store, exp, "r", t0)
    store.write_metrics([_scalars("r", "x", [1.0])])
    store.set_run_status("r", Status.COMPLETED)
    with pytest.raises(ConflictError, match="'r'"):
        store.write_metrics([_scalars("r", "x", [2.0])])
    with pytest.raises(ConflictError):
        store.write_metrics(records=[RecordBatch("r", "t", "table", (Record(-1, 1.0, {"row": {"a": 1}}),))])
    assert store.read_scalars("r", "x").values.tolist() == [1.0]
    assert [m.name for m in store.list_metrics("r")] == ["x"]


def test_writing_to_an_unknown_run_is_not_found(store, exp):
    with pytest.raises(NotFoundError, match="ghost"):
        store.write_metrics([_scalars("ghost", "x", [1.0])])


def test_last_values_for_several_runs(store, exp, t0):
    for i, run_id in enumerate(("a", "b", "c")):
        _run(store, exp, run_id, t0 + i)
    store.write_metrics(
        [
            _scalars("a", "loss", [0.9, 0.5], steps=[0, 7], walls=[1.0, 2.0]),
            _scalars("a", "acc", [0.1], walls=[3.0]),
            _scalars("b", "loss", [0.4, math.nan], walls=[4.0, 5.0]),
        ],
        [RecordBatch("b", "tbl", "table", (Record(4, 6.0, {"row": {"a": 1}}),))],
    )
    found = store.last_values(["a", "b", "c"])
    assert set(found) == {"a", "b", "c"}
    assert [(m.name, m.last_step, m.last_value, m.last_wall_time, m.count) for m in found["a"]] == [
        ("acc", 0, 0.1, 3.0, 1),
        ("loss", 7, 0.5, 2.0, 2),
    ]
    by_name = {m.name: m for m in found["b"]}
    assert set(by_name) == {"loss", "tbl"}
    assert math.isnan(by_name["loss"].last_value) and by_name["loss"].last_step == 1
    assert by_name["tbl"].kind == "table" and by_name["tbl"].last_step == 4
    assert found["c"] == []
    assert found["a"] == store.list_metrics("a")
    assert store.last_values([]) == {}


# --- files ---------------------------------------------------------------------------------


def test_files_put_list_read_replace(store, exp, t0):
    _run(store, exp, "r", t0)
    _run(store, exp, "s", t0 + 1)
    assert store.list_files("r") == []
    info = store.put_file("r", "outputs/model.bin", b"\x00\x01binary\xff")
    assert (info.name, info.size) == ("outputs/model.bin", 9)
    store.put_file("r", "notes.txt", b"hello")
    store.put_file("s", "notes.txt", b"other run")
    assert [(f.name, f.size) for f in store.list_files("r")] == [("notes.txt", 5), ("outputs/model.bin", 9)]
    assert store.read_file("r", "outputs/model.bin") == b"\x00\x01binary\xff"
    assert store.read_file("s", "notes.txt") == b"other run"
    store.put_file("r", "notes.txt", b"replaced, longer")
    assert store.read_file("r", "notes.txt") == b"replaced, longer"
    assert [(f.name, f.size) for f in store.list_files("r")] == [("notes.txt", 16), ("outputs/model.bin", 9)]
    store.put_file("r", "empty", b"")
    assert store.read_file("r", "empty") == b""


def test_files_not_found(store, exp, t0):
    _run(store, exp, "r", t0)
    store.put_file("r", "a.txt", b"a")
    with pytest.raises(NotFoundError, match="b.txt"):
        store.read_file("r", "b.txt")
    with pytest.raises(NotFoundError):
        store.read_file("ghost", "a.txt")
    with pytest.raises(NotFoundError):
        store.list_files("ghost")
    with pytest.raises(NotFoundError):
        store.put_file("ghost", "a.txt", b"a")


@pytest.mark.parametrize("name", ["../escape", "../../escape", "a/../../escape", "..", ".", ""])
def test_files_path_traversal_rejected(store, exp, t0, tmp_path, name):
    _run(store, exp, "r", t0)
    _run(store, exp, "escape", t0 + 1)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidArgumentError):
        store.put_file("r", name, b"evil")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert store.list_files("r") == [] and store.list_files("escape") == []
    with pytest.raises((InvalidArgumentError, NotFoundError)):
        store.read_file("r", name)


@pytest.mark.parametrize("run_id", ["../r", "r/../../x"])
def test_files_path_traversal_through_run_id_rejected(store, exp, t0, tmp_path, run_id):
    _run(store, exp, "r", t0)
    with pytest.raises((InvalidArgumentError, NotFoundError)):
        store.put_file(run_id, "x", b"evil")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name, alias", [("a/../b", "b"), ("a//b", "a/b"), ("/abs", "abs")])
def test_files_non_canonical_names_rejected(store, exp, t0, name, alias, request):
    _run(store, exp, "r", t0)
    store.put_file("r", alias, b"original")
    try:
        store.put_file("r", name, b"overwrites the alias")
    except InvalidArgumentError:
        pass
    assert store.read_file("r", alias) == b"original"
    assert [f.name for f in store.list_files("r")] == [alias]


def test_errors_are_run_history_errors(store):
    with pytest.raises(RunHistoryError):
        store.get_run("ghost")


# --- maintenance ---------------------------------------------------------------------------


def test_maintain_keeps_every_point(store, exp, t0):
    _run(store, exp, "kept", t0)
    values = np.linspace(0.0, 1.0, CHUNK_POINTS + 10)
    store.write_metrics([ScalarBatch("kept", "m", np.full(len(values), -1, np.int64), np.full(len(values), t0), values)])
    dry = store.maintain(dry_run=True)
    report = store.maintain()
    if report is None:  # a server's store: its maintenance is the server's business
        assert dry is None
    else:
        assert dry["compacted"] is False and report["compacted"] is True and "error" not in report
        assert report["bytes_after"] > 0
    assert np.array_equal(store.read_scalars("kept", "m").values, values)
