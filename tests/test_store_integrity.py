"""Damaged data and impossible numbers raise typed errors naming what is wrong, on every SQL store.

A chunk whose stored arrays disagree with its count, a missing chunk, a corrupt database page and
undecodable JSON must surface as StoreError naming the run and metric (never as uninitialised
memory or a raw driver exception); numbers no store can keep raise InvalidArgumentError naming the key.
"""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest
from backends_extra import make_postgresql
from test_plugin_routes import make_client

from tb_runhistory_plugin import Experiment, InvalidArgumentError, RunHistoryError, StoreError
from tb_runhistory_plugin.plugin._download import plan_download
from tb_runhistory_plugin.store import SQLiteStore
from tb_runhistory_plugin.store._chunks import CHUNK_POINTS

POINTS = 5_000  # one full chunk and one partial chunk
PREFIX = "/data/plugin/runhistory"


def _sqlite(tmp_path):
    return SQLiteStore(tmp_path / "store")


def _sql(store, statement: str, args=()) -> None:
    """Run one raw statement against the store's database, behind its back."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.db_path) as conn:
            conn.execute(statement.replace("%s", "?"), args)
        conn.close()
    else:
        store._tx(lambda cur: cur.execute(statement, args))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A fresh SQL store (the HTTP store reads through one of these)."""
    made = _sqlite(tmp_path) if request.param == "sqlite" else make_postgresql()
    yield made
    made.close()


@pytest.fixture
def logged(store):
    """A run with POINTS scalar points in `loss` (two chunks), a table and properties."""
    exp = Experiment("integrity", store=store)
    run = exp.start_logging(display_name="victim", properties={"seed": 1})
    for step in range(POINTS):
        run.log("loss", 1.0 / (step + 1), step=step * 2)
    run.log_row("scores", mse=0.5)
    run.flush()
    yield run
    run.complete()


def _damage_chunk(store, run, column: str, blob: bytes, offset: int = 0) -> None:
    _sql(
        store,
        f'UPDATE chunks SET {column} = %s WHERE "offset" = %s AND metric_id = (SELECT id FROM metrics WHERE run_id = %s AND name = %s)',
        (blob, offset, run.id, "loss"),
    )


def _assert_names_run_and_metric(exc: BaseException, run) -> None:
    message = str(exc)
    assert run.id in message and "'loss'" in message, message


@pytest.mark.parametrize(
    "column, blob, offset",
    [
        pytest.param("vals", b"\x00" * 4, 0, id="vals-4-bytes"),
        pytest.param("vals", b"\x00" * 8 * (CHUNK_POINTS - 1), 0, id="vals-one-short"),
        pytest.param("vals", b"\x00" * 8 * (POINTS - CHUNK_POINTS + 1), CHUNK_POINTS, id="tail-vals-one-long"),
        pytest.param("wall_times", b"\x00" * 12, 0, id="walls"),
        pytest.param("steps", b"\x00" * 16, 0, id="steps"),
        pytest.param("summary", b"\x00" * 5, 0, id="summary"),
    ],
)
def test_a_chunk_array_that_disagrees_with_its_count_is_a_store_error(store, logged, column, blob, offset):
    _damage_chunk(store, logged, column, blob, offset)
    readers = [
        lambda: logged.get_metric_history("loss"),
        lambda: store.read_scalars(logged.id, "loss"),
        lambda: store.read_summaries(logged.id, "loss"),
    ]
    failures = 0
    for read in readers:
        try:
            history = read()
        except StoreError as exc:
            _assert_names_run_and_metric(exc, logged)
            failures += 1
        else:  # only the summary damage leaves the points readable, and then they are right
            if hasattr(history, "values"):
                assert column == "summary"
                assert np.array_equal(history.values, 1.0 / (np.arange(POINTS) + 1))
    assert failures >= (1 if column == "summary" else 2)


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_a_short_tail_chunk_is_not_appended_to(store, logged):
    kept = store.read_scalars(logged.id, "loss", start=CHUNK_POINTS).values.astype("<f8").tobytes()
    _damage_chunk(store, logged, "vals", b"\x00" * 4, offset=CHUNK_POINTS)
    logged.log("loss", 1.0, step=POINTS * 2)
    with pytest.raises(StoreError) as caught:
        logged.flush(timeout=2)
    _assert_names_run_and_metric(caught.value, logged)
    _damage_chunk(store, logged, "vals", kept, offset=CHUNK_POINTS)  # repaired: the held point goes in
    logged.flush(timeout=30)
    assert store.read_scalars(logged.id, "loss").values[-1] == 1.0


def test_a_missing_chunk_is_a_store_error(store, logged):
    _sql(store, 'DELETE FROM chunks WHERE "offset" = 0 AND metric_id = (SELECT id FROM metrics WHERE run_id = %s AND name = %s)', (logged.id, "loss"))
    with pytest.raises(StoreError) as caught:
        store.read_scalars(logged.id, "loss")
    _assert_names_run_and_metric(caught.value, logged)
    # A page that lies wholly in the missing chunk fails the same way.
    with pytest.raises(StoreError):
        store.read_scalars(logged.id, "loss", start=10, stop=20)
    assert len(store.read_scalars(logged.id, "loss", start=CHUNK_POINTS).values) == POINTS - CHUNK_POINTS


def test_a_damaged_chunk_is_503_on_the_plugin_and_fails_the_download(store, logged, tmp_path):
    _damage_chunk(store, logged, "vals", b"\x00" * 4)
    client, _ = make_client(tmp_path, store=store)
    response = client.get(f"{PREFIX}/series?run={logged.id}&name=loss")
    assert response.status_code == 503, response.data[:300]
    assert logged.id.encode() in response.data and b"loss" in response.data
    response = client.get(f"{PREFIX}/series?run={logged.id}&name=loss&raw=1&limit=10")
    assert response.status_code == 503, response.data[:300]
    for fmt in ("csv", "json"):
        _, body = plan_download(store, logged.id, "loss", fmt)
        with pytest.raises(StoreError) as caught:
            b"".join(body())
        _assert_names_run_and_metric(caught.value, logged)


def test_undecodable_record_and_property_json_is_a_store_error(store, logged):
    _sql(store, "UPDATE records SET meta = %s WHERE metric_id = (SELECT id FROM metrics WHERE run_id = %s AND name = %s)", ("{not json", logged.id, "scores"))
    with pytest.raises(StoreError) as caught:
        store.read_records(logged.id, "scores")
    assert logged.id in str(caught.value) and "'scores'" in str(caught.value)
    _sql(store, "UPDATE properties SET value = %s WHERE run_id = %s", ("{not json", logged.id))
    with pytest.raises(StoreError) as caught:
        store.get_run(logged.id)
    assert logged.id in str(caught.value) and "'seed'" in str(caught.value)
    _sql(store, "UPDATE properties SET value = %s WHERE run_id = %s", ("1", logged.id))


def test_a_corrupt_database_page_is_a_store_error(tmp_path):
    path = tmp_path / "store"
    exp = Experiment("pages", store=str(path))
    run_ids = []
    for r in range(4):
        with exp.start_logging(display_name=f"r{r}") as run:
            run.log_list("loss", np.linspace(0, 1, 3 * CHUNK_POINTS))
            run.log_row("t", a=r)
        run_ids.append(run.id)
    exp.store.close()
    db = path / "runhistory.db"
    size = os.path.getsize(db)
    page = 65_536
    with open(db, "r+b") as handle:  # every page but the first (the header and schema) becomes garbage
        for at in range(page, size, page):
            handle.seek(at)
            handle.write(b"\xa5" * min(page, size - at))
    errors = []
    try:  # opening reads the migrations table, which may be what broke
        store = SQLiteStore(path)
    except RunHistoryError as exc:
        errors.append(exc)
    else:
        calls = [lambda: store.list_runs(store.get_experiment("pages").id)]
        for run_id in run_ids:
            calls += [
                lambda run_id=run_id: store.get_run(run_id),
                lambda run_id=run_id: store.list_metrics(run_id),
                lambda run_id=run_id: store.read_scalars(run_id, "loss"),
                lambda run_id=run_id: store.read_summaries(run_id, "loss"),
            ]
        for call in calls:
            try:
                call()
            except RunHistoryError as exc:
                errors.append(exc)
        store.close()
    assert errors and all(isinstance(e, StoreError) for e in errors), errors
    assert all(str(path) in str(e) and "malformed" in str(e) for e in errors), errors


def test_a_corrupt_page_in_the_points_is_a_store_error_after_opening(tmp_path):
    path = tmp_path / "store"
    exp = Experiment("pages", store=str(path))
    with exp.start_logging(display_name="r") as run:
        run.log_list("loss", np.linspace(0, 1, 40 * CHUNK_POINTS))
    exp.store.close()
    db = path / "runhistory.db"
    size = os.path.getsize(db)
    page = 65_536
    with open(db, "r+b") as handle:  # the last third of the file: chunk pages, far from the schema
        for at in range(size - size // 3 // page * page, size, page):
            handle.seek(at)
            handle.write(b"\xa5" * page)
    store = SQLiteStore(path)
    try:
        with pytest.raises(StoreError, match="malformed"):
            store.read_scalars(run.id, "loss")
    finally:
        store.close()


# --- numbers no store can keep --------------------------------------------------------------

HUGE = 10**5000  # beyond Python's int-to-text limit: json.dumps and repr fail on it


@pytest.fixture
def run(tmp_path):
    exp = Experiment("numbers", store=str(tmp_path / "store"))
    made = exp.start_logging()
    yield made
    made.complete()


@pytest.mark.parametrize(
    "call, key",
    [
        pytest.param(lambda run: run.add_properties({"n": HUGE}), "'n'", id="property"),
        pytest.param(lambda run: run.add_properties({"n": 2**64}), "'n'", id="property-beyond-int64"),
        pytest.param(lambda run: run.add_properties({"n": -(2**63) - 1}), "'n'", id="property-below-int64"),
        pytest.param(lambda run: run.tag("n", HUGE), "'n'", id="tag"),
        pytest.param(lambda run: run.log("m", HUGE), "'m'", id="log"),
        pytest.param(lambda run: run.log("m", 1.0, step=HUGE), "'m'", id="step"),
        pytest.param(lambda run: run.log_row("t", c=HUGE), "'c'", id="cell"),
    ],
)
def test_numbers_beyond_reach_are_invalid_arguments_naming_the_key(run, call, key):
    with pytest.raises(InvalidArgumentError) as caught:
        call(run)
    assert key in str(caught.value)
    assert run.get_properties() == {}


def test_the_largest_int64_properties_are_kept(run):
    run.add_properties({"hi": 2**63 - 1, "lo": -(2**63)})
    assert run.get_properties() == {"hi": 2**63 - 1, "lo": -(2**63)}


def test_the_store_itself_refuses_unstorable_property_values(store):
    exp = store.get_or_create_experiment("direct")
    store.create_run(exp.id, run_id="r1", display_name="r1", start_time=1.0)
    for value in (HUGE, float("nan"), object()):
        with pytest.raises(InvalidArgumentError) as caught:
            store.add_properties("r1", {"n": value})
        assert "'n'" in str(caught.value)
    assert store.get_run("r1").properties == {}
