"""Params: typed, add-only hyperparameters, on every store (SQLite, PostgreSQL, the REST client)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from tb_runhistory_plugin import ConflictError, Experiment, InvalidArgumentError, NotFoundError, RunFilter
from tb_runhistory_plugin.store import SQLiteStore


@pytest.fixture
def run(store):
    exp = Experiment("params", store=store)
    with exp.start_logging("r") as run:
        yield run


# -- unhappy paths first -------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, match",
    [
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (None, "bool, int, float or str"),
        ([1, 2], "bool, int, float or str"),
        ({"a": 1}, "bool, int, float or str"),
        ("bad\x00text", "NUL"),
        ("bad\ud800", "Unicode"),
        (2**63, "'p'"),
    ],
)
def test_bad_param_values_are_refused_naming_the_key(run, value, match):
    with pytest.raises(InvalidArgumentError, match=match):
        run.log_param("p", value)
    assert run.get_params() == {}


@pytest.mark.parametrize("name", ["", " ", "a\x00b", "a\nb", "x" * 256, "bad\ud800", 3])
def test_bad_param_names_are_refused(run, name):
    with pytest.raises(InvalidArgumentError):
        run.log_params({"fine": 1, name: 1})
    assert run.get_params() == {}  # nothing of a refused call is kept


@pytest.mark.parametrize(
    "first, second",
    [(0.1, 0.2), (1, 1.0), (1, True), ("adam", "sgd"), (True, False), (3, "3")],
)
def test_a_param_cannot_change_value_or_type(run, first, second):
    run.log_param("p", first)
    with pytest.raises(ConflictError) as caught:
        run.log_param("p", second)
    message = str(caught.value)
    assert "'p'" in message and repr(first) in message and repr(second) in message
    assert run.get_params() == {"p": first}
    assert type(run.get_params()["p"]) is type(first)


def test_the_same_value_again_is_fine(run):
    run.log_params({"alpha": 0.1, "optimizer": "adam", "layers": 3, "dropout": False})
    run.log_params({"alpha": 0.1, "optimizer": "adam"})
    run.log_param("layers", 3)
    assert run.get_params() == {"alpha": 0.1, "optimizer": "adam", "layers": 3, "dropout": False}


def test_a_conflicting_call_keeps_none_of_its_new_params(run):
    run.log_param("alpha", 0.1)
    with pytest.raises(ConflictError):
        run.log_params({"beta": 2, "alpha": 0.5})
    assert run.get_params() == {"alpha": 0.1}


def test_params_of_a_missing_run(store):
    store.get_or_create_experiment("e")
    with pytest.raises(NotFoundError):
        store.add_params("no-such-run", {"a": 1})


# -- values round-trip with their types ---------------------------------------------------------
def test_typed_values_round_trip(run):
    values = {
        "alpha": 0.1,
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "layers": 3,
        "big": 2**62 + 1,  # beyond float64: kept exactly
        "neg": -(2**63),
        "flag": True,
        "off": False,
        "optimizer": "adam",
        "empty": "",
        "unicode": "ß → 数据 ✓",
        "quote": 'it\'s "quoted"; DROP TABLE params; --',
        "np_float": np.float32(0.5),
        "np_int": np.int64(7),
    }
    run.log_params(values)
    got = run.get_params()
    expected = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}
    assert got == expected
    for key, value in expected.items():
        assert type(got[key]) is type(value), key
    assert dict(run.params) == expected
    assert run.info().params == expected


def test_params_mapping_is_read_only(run):
    run.log_param("alpha", 0.1)
    with pytest.raises(TypeError):
        run.params["alpha"] = 0.2  # type: ignore[index]
    assert run.get_params() == {"alpha": 0.1}


def test_params_are_listed_with_runs(store):
    exp = Experiment("listed", store=store)
    with exp.start_logging("a") as a:
        a.log_params({"lr": 0.01})
    with exp.start_logging("b"):
        pass
    infos = {i.display_name: i for i in store.list_runs(exp.id)}
    assert infos["a"].params == {"lr": 0.01}
    assert infos["b"].params == {}


def test_concurrent_writers_of_one_new_key_cannot_both_win(store):
    import threading

    exp = Experiment("race", store=store)
    run = exp.start_logging("r")
    outcomes: list[str] = []

    def write(value: int) -> None:
        try:
            store.add_params(run.id, {"seed": value})
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(v,)) for v in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("conflict") == 7
    assert list(run.get_params()) == ["seed"]
    run.complete()


# -- metric summaries maintained on write -----------------------------------------------------------
def test_metric_summaries_follow_the_nan_rule(store):
    exp = Experiment("summaries", store=store)
    run = exp.start_logging("r")
    for value in (3.0, float("nan"), -1.0, float("inf"), 2.0):
        run.log("x", value)
    for value in (float("nan"), float("nan")):
        run.log("allnan", value)
    run.complete()
    runs = lambda q: [r.display_name for r in exp.get_runs(filter=q)]  # noqa: E731
    assert runs("metrics.x.min = -1 and metrics.x.max = 3 and metrics.x.count = 5 and metrics.x = 2") == ["r"]
    assert runs("metrics.x.mean > 1.333 and metrics.x.mean < 1.334") == ["r"]
    assert runs("metrics.allnan.count = 2 and metrics.allnan exists") == ["r"]
    assert runs("metrics.allnan.min < 0 or metrics.allnan.min >= 0 or metrics.allnan < 0 or metrics.allnan >= 0") == []


def test_summaries_accumulate_over_many_batches_and_chunks(store):
    exp = Experiment("chunks", store=store)
    run = exp.start_logging("r")
    values = np.random.default_rng(3).normal(size=10_000)
    for part in np.array_split(values, 7):
        run.log_list("y", part)
    run.complete()
    lo, hi = float(values.min()), float(values.max())
    found = exp.get_runs(filter=f"metrics.y.min = {lo!r} and metrics.y.max = {hi!r} and metrics.y.count = 10000")
    assert [r.display_name for r in found] == ["r"]


def test_migration_backfills_summaries_of_an_old_sqlite_store(tmp_path):
    path = tmp_path / "old"
    store = SQLiteStore(path)
    exp = Experiment("old", store=store)
    run = exp.start_logging("r")
    for v in (5.0, float("nan"), 1.0, 7.0, 4.0):
        run.log("m", v)
    run.complete()
    store.close()
    # Make the store look as it did before the migration: summaries empty, migration not applied.
    conn = sqlite3.connect(path / "runhistory.db")
    conn.execute("UPDATE metrics SET s_last = NULL, s_min = NULL, s_max = NULL, s_sum = 0, s_finite = 0")
    conn.execute("DELETE FROM migrations WHERE name = '0003_params_and_metric_summaries'")
    for statement in ("DROP TABLE params", "DROP INDEX metrics_by_name"):
        conn.execute(statement)
    for column in ("s_last", "s_min", "s_max", "s_sum", "s_finite"):
        conn.execute(f"ALTER TABLE metrics DROP COLUMN {column}")
    conn.commit()
    conn.close()
    reopened = SQLiteStore(path)
    exp2 = Experiment("old", store=reopened)
    found = exp2.get_runs(filter="metrics.m.min = 1 and metrics.m.max = 7 and metrics.m = 4 and metrics.m.count = 5 and metrics.m.mean = 4.25")
    assert [r.display_name for r in found] == ["r"]
    reopened.close()


def test_migration_backfills_postgres(tmp_path):
    pytest.importorskip("psycopg")
    from backends_extra import make_postgresql

    store = make_postgresql(tmp_path)
    exp = Experiment("old", store=store)
    run = exp.start_logging("r")
    for v in (5.0, float("nan"), 1.0, 7.0, 4.0):
        run.log("m", v)
    run.complete()
    schema = store.schema
    store._tx(lambda cur: cur.execute("UPDATE metrics SET s_last = NULL, s_min = NULL, s_max = NULL, s_sum = 0, s_finite = 0"))
    store._tx(lambda cur: store._backfill_summaries(cur))
    found = exp.get_runs(filter="metrics.m.min = 1 and metrics.m.max = 7 and metrics.m = 4 and metrics.m.count = 5 and metrics.m.mean = 4.25")
    assert [r.display_name for r in found] == ["r"], schema
    store.close()


def test_params_stay_add_only_after_the_run_ended(run):
    run.log_param("seed", 1)
    run.complete()
    run.log_param("seed", 1)
    with pytest.raises(ConflictError):
        run.log_param("seed", 2)
    assert run.get_params() == {"seed": 1}


def test_filter_by_param_on_every_store(store):
    exp = Experiment("sweep", store=store)
    with exp.start_logging("root") as root:
        for alpha, opt in ((0.1, "adam"), (0.3, "sgd"), (0.5, "adam")):
            with root.child_run(f"a{alpha}") as child:
                child.log_params({"alpha": alpha, "optimizer": opt})
    found = store.list_runs(exp.id, RunFilter(query='params.alpha >= 0.3 and params.optimizer = "adam"'))
    assert [r.display_name for r in found] == ["a0.5"]
