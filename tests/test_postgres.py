"""PostgreSQL store specifics: migrations, schemas, several writer processes, files in the database.

The protocol itself is covered by test_store_contract.py (the `postgresql` backend).
"""

from __future__ import annotations

import multiprocessing
import threading
import time

import numpy as np
import pytest
from backends_extra import POSTGRES_URL, drop_schema, make_postgresql, new_schema_url, require_postgres
from tensorboard_server import serve_tensorboard

from tb_runhistory_plugin import Experiment, InvalidArgumentError, NotFoundError, StoreError
from tb_runhistory_plugin._types import ScalarBatch

pytestmark = pytest.mark.usefixtures("_postgres")


@pytest.fixture
def _postgres():
    require_postgres()


@pytest.fixture
def schema_url():
    """A URL in a fresh schema, dropped afterwards."""
    url, schema = new_schema_url()
    yield url
    drop_schema(schema)


@pytest.fixture
def pg():
    store = make_postgresql()
    yield store
    store.close()


def _open(url, **options):
    from tb_runhistory_plugin.store._postgres import PostgresStore

    return PostgresStore(url, **options)


def _auto(run_id, name, values, wall=1.0):
    values = np.asarray(values, dtype=np.float64)
    return ScalarBatch(run_id, name, np.full(len(values), -1, np.int64), np.full(len(values), wall), values)


def test_migrations_recorded_once(schema_url):
    with _open(schema_url) as store:
        store.get_or_create_experiment("e")
    with _open(schema_url) as store:  # reopening applies nothing twice and keeps the data
        assert [e.name for e in store.list_experiments()] == ["e"]
        names = store._tx(lambda cur: cur.execute("SELECT name FROM migrations ORDER BY name").fetchall())
    assert names == [("0001_initial",), ("0002_params_and_metric_summaries",), ("0003_error_code_and_type",)]


def _open_and_count(url, queue):
    try:
        with _open(url) as store:
            queue.put(len(store.list_experiments()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        queue.put(repr(exc))


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_concurrent_first_open_migrates_once(schema_url):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_open_and_count, args=(schema_url, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert results == [0, 0, 0, 0]


def test_create_false_needs_an_existing_schema(schema_url):
    with pytest.raises(NotFoundError, match="no run history store"):
        _open(schema_url, create=False)
    _open(schema_url).close()
    _open(schema_url, create=False).close()


def test_uri_hides_password_and_names_schema():
    from tb_runhistory_plugin.store._postgres import parse_uri

    conninfo, schema, shown = parse_uri("postgresql://alice:s3cret@db.example:5433/runs?schema=team_a&sslmode=require")
    assert schema == "team_a"
    assert "s3cret" not in shown and shown == "postgresql://alice@db.example:5433/runs?sslmode=require&schema=team_a"
    assert "s3cret" in conninfo and "schema" not in conninfo
    assert parse_uri("postgresql://u@h/db")[1] == "runhistory"


@pytest.mark.parametrize("schema", ["bad-name", "1abc", "x;drop", '"q"', "a" * 64])
def test_bad_schema_names_rejected(schema):
    from tb_runhistory_plugin.store._postgres import parse_uri

    with pytest.raises(InvalidArgumentError, match="schema"):
        parse_uri(f"postgresql://u@h/db?schema={schema}")
    with pytest.raises(InvalidArgumentError, match="schema"):
        _open(POSTGRES_URL, schema=schema)


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_unreachable_server_is_a_store_error_quickly():
    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot connect"):
        _open("postgresql://postgres@127.0.0.1:1/test")
    assert time.monotonic() - started < 15


def test_nan_and_inf_round_trip(pg):
    exp = pg.get_or_create_experiment("e")
    pg.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())
    pg.write_metrics([_auto("r", "x", [1.0, np.nan, np.inf, -np.inf, np.nan])])
    history = pg.read_scalars("r", "x")
    assert np.array_equal(history.values, [1.0, np.nan, np.inf, -np.inf, np.nan], equal_nan=True)
    assert np.isnan(pg.list_metrics("r")[0].last_value)


def test_batch_id_applies_a_batch_once_even_concurrently(pg):
    exp = pg.get_or_create_experiment("e")
    pg.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())
    batch = _auto("r", "x", np.arange(1000))
    threads = [threading.Thread(target=pg.write_metrics, args=([batch],), kwargs={"batch_id": "same"}) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pg.write_metrics([batch], batch_id="same")
    assert pg.list_metrics("r")[0].count == 1000
    pg.write_metrics([batch], batch_id="other")
    assert pg.list_metrics("r")[0].count == 2000


def _append(url, run_id, writes, per_write):
    with _open(url) as store:
        for _ in range(writes):
            store.write_metrics([_auto(run_id, "shared", np.ones(per_write))])


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_writer_processes_share_one_series(schema_url):
    """Four processes append to the same series at once: the row lock keeps auto steps unique."""
    with _open(schema_url) as store:
        exp = store.get_or_create_experiment("e")
        store.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append, args=(schema_url, "r", 25, 777)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    with _open(schema_url) as store:
        history = store.read_scalars("r", "shared")
        assert len(history) == 4 * 25 * 777
        assert np.array_equal(history.steps, np.arange(len(history)))
        summaries = store.read_summaries("r", "shared")
        assert int(summaries.counts.sum()) == len(history) and int(summaries.total.sum()) == len(history)


def test_files_live_in_the_database(schema_url, tmp_path):
    """A second machine (another store object, no shared disk) reads what the first stored."""
    with _open(schema_url) as first:
        exp = first.get_or_create_experiment("e")
        first.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())
        payload = bytes(range(256)) * 4096
        first.put_file("r", "logs/train.log", payload)
    assert not any(tmp_path.iterdir())
    with _open(schema_url) as second:
        assert second.read_file("r", "logs/train.log") == payload
        assert [(f.name, f.size) for f in second.list_files("r")] == [("logs/train.log", len(payload))]


def test_logging_api_end_to_end(pg):
    exp = Experiment("team", store=pg)
    with exp.start_logging("trial", tags={"lr": 0.1}) as run:
        for i in range(10_000):
            run.log("loss", 1.0 / (i + 1))
        with run.child_run("fold-0") as child:
            child.log("acc", 0.5)
    assert pg.get_run(run.id).status == "Completed"
    assert len(pg.read_scalars(run.id, "loss")) == 10_000
    assert [r.display_name for r in pg.list_descendants(run.id)] == ["fold-0"]


def test_ending_a_run_waits_for_writes_in_flight(pg):
    """set_run_status takes the run row FOR UPDATE, so it never lands between a write's check and its append."""
    exp = pg.get_or_create_experiment("e")
    pg.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())
    errors = []

    def write():
        for _ in range(50):
            try:
                pg.write_metrics([_auto("r", "x", np.ones(100))])
            except Exception as exc:  # noqa: BLE001 - the conflict after the end is expected
                errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.05)
    ended = pg.set_run_status("r", "Completed")
    thread.join()
    assert ended.is_terminal
    count = pg.list_metrics("r")[0].count
    assert count % 100 == 0 and count == len(pg.read_scalars("r", "x"))
    assert all("already ended" in str(e) for e in errors)


def test_tensorboard_reads_a_postgresql_store(schema_url, tmp_path):
    import requests

    with _open(schema_url) as writer:
        with Experiment("shared", store=writer).start_logging("r") as run:
            run.log_list("loss", [3.0, 2.0, float("nan"), 1.0])
    with serve_tensorboard(tmp_path, "--load_fast", "false", "--runhistory_store", schema_url) as base:
        experiments = requests.get(base + "data/plugin/runhistory/experiments", timeout=30).json()["experiments"]
        assert [e["name"] for e in experiments] == ["shared"]
        series = requests.get(base + f"data/plugin/runhistory/series?run={run.id}&name=loss", timeout=30).json()
        assert series["buckets"]["first"] == [3.0, 2.0, "NaN", 1.0]


def test_survives_a_database_restart_of_pooled_connections(pg):
    """Pooled connections killed by the server (as a restart does) are replaced on the next call."""
    import psycopg

    exp = pg.get_or_create_experiment("e")
    pg.create_run(exp.id, run_id="r", display_name="r", start_time=time.time())

    def kill_pooled():
        pids = [conn.info.backend_pid for conn in pg._pool._pool]  # psycopg_pool's idle connections
        assert pids
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)

    kill_pooled()
    assert pg.get_run("r").id == "r"  # a read, retried on a fresh connection
    kill_pooled()
    pg.set_run_status("r", "Completed")  # a non-idempotent write, retried too: it had not started
    assert pg.get_run("r").is_terminal
