"""Store contract for what the original API's surface needs: runs created in one call, run types, error codes."""

from __future__ import annotations

import pytest

from tb_runhistory_plugin import ConflictError, InvalidArgumentError, NotFoundError, Status
from tb_runhistory_plugin._types import NewRun


def test_create_runs_makes_parents_and_children_at_once(store):
    exp = store.get_or_create_experiment("batch")
    news = [
        NewRun("parent", "parent", 100.0),
        NewRun("kid-0", "kid 0", 101.0, parent_id="parent", tags={"fold": "0"}, properties={"lr": 0.1}),
        NewRun("kid-1", "kid 1", 101.0, parent_id="parent", run_type="trial"),
    ]
    made = store.create_runs(exp.id, news)
    assert [r.id for r in made] == ["parent", "kid-0", "kid-1"]
    assert [r.run_type for r in made] == ["interactive", "child", "trial"]
    assert made[1].tags == {"fold": "0"} and made[1].properties == {"lr": 0.1}
    assert store.get_run("parent").child_count == 2
    assert store.get_run("kid-1").run_type == "trial"
    assert store.create_runs(exp.id, []) == []


def test_create_runs_is_all_or_none(store):
    exp = store.get_or_create_experiment("batch")
    store.create_run(exp.id, run_id="taken", display_name="taken", start_time=1.0)
    with pytest.raises(ConflictError, match="'taken'"):
        store.create_runs(exp.id, [NewRun("fresh", "fresh", 2.0), NewRun("taken", "again", 2.0)])
    with pytest.raises(NotFoundError):
        store.get_run("fresh")  # the first run of the refused batch was not kept
    with pytest.raises(ConflictError, match="'twice'"):
        store.create_runs(exp.id, [NewRun("twice", "a", 2.0), NewRun("twice", "b", 2.0)])
    with pytest.raises(NotFoundError, match="'ghost'"):
        store.create_runs(exp.id, [NewRun("orphan", "orphan", 2.0, parent_id="ghost")])
    with pytest.raises(NotFoundError, match="'nope'"):
        store.create_runs("nope", [NewRun("x", "x", 2.0)])
    assert [r.id for r in store.list_runs(exp.id)] == ["taken"]


def test_failed_run_keeps_its_error_code(store):
    exp = store.get_or_create_experiment("codes")
    store.create_run(exp.id, run_id="r", display_name="r", start_time=1.0)
    store.create_run(exp.id, run_id="ok", display_name="ok", start_time=1.0)
    failed = store.set_run_status("r", Status.FAILED, error="out of memory", error_code="OOM")
    assert (failed.status, failed.error, failed.error_code) == ("Failed", "out of memory", "OOM")
    assert store.get_run("r").error_code == "OOM"
    assert store.set_run_status("ok", Status.COMPLETED).error_code is None


def test_old_runs_read_back_with_a_type(store):
    exp = store.get_or_create_experiment("types")
    top = store.create_run(exp.id, run_id="top", display_name="top", start_time=1.0)
    kid = store.create_run(exp.id, run_id="kid", display_name="kid", parent_id="top", start_time=2.0)
    script = store.create_run(exp.id, run_id="s", display_name="s", start_time=3.0, run_type="script")
    assert (top.run_type, kid.run_type, script.run_type) == ("interactive", "child", "script")
    assert {r.id: r.run_type for r in store.list_descendants("top")} == {"kid": "child"}


def test_sqlite_migration_types_existing_children(tmp_path):
    """A store made before run types existed: its children read back as 'child', top-level runs as 'interactive'."""
    import sqlite3

    from tb_runhistory_plugin.store import SQLiteStore

    path = tmp_path / "old"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path / "runhistory.db")
    conn.executescript(
        "DELETE FROM migrations WHERE name = '0004_error_code_and_type';"
        "ALTER TABLE runs DROP COLUMN error_code; ALTER TABLE runs DROP COLUMN run_type;"
        "INSERT INTO experiments VALUES ('e', 'old', 0);"
        "INSERT INTO runs (id, experiment_id, parent_id, display_name, status, start_time) VALUES ('p', 'e', NULL, 'p', 'Completed', 1), ('c', 'e', 'p', 'c', 'Completed', 2);"
    )
    conn.commit()
    conn.close()
    with SQLiteStore(path) as store:
        assert (store.get_run("p").run_type, store.get_run("c").run_type) == ("interactive", "child")
        assert store.get_run("c").error_code is None


@pytest.mark.parametrize("code", ["", "bad\ncode", "x" * 256, 7])
def test_server_refuses_a_bad_error_code(tmp_path, code):
    """The REST server checks an error code as the tracking API does (400 naming it); the run stays open."""
    from backends_extra import make_http

    with make_http(tmp_path) as store:
        exp = store.get_or_create_experiment("codes")
        store.create_run(exp.id, run_id="r", display_name="r", start_time=1.0)
        with pytest.raises(InvalidArgumentError, match="error code"):
            store.set_run_status("r", Status.FAILED, error="boom", error_code=code)
        assert not store.get_run("r").is_terminal


def test_server_refuses_a_bad_batch(tmp_path):
    from backends_extra import make_http

    with make_http(tmp_path) as store:
        exp = store.get_or_create_experiment("batch")
        for body, message in (({"runs": "x"}, "'runs' must be a list"), ({"runs": [7]}, "JSON object"), ({"runs": [{"run_id": "a"}]}, "display name")):
            with pytest.raises(InvalidArgumentError, match=message):
                store._json("POST", f"/experiments/{exp.id}/runs/batch", body=body)
        with pytest.raises(InvalidArgumentError, match="run type"):
            store.create_runs(exp.id, [NewRun("a", "a", 1.0, run_type="bad\x00type")])
        assert store.list_runs(exp.id) == []
