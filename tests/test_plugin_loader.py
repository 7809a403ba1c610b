"""The loader's flag, store discovery, the empty state, laziness and the read-only promise."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time

import pytest
from tensorboard.backend import application
from tensorboard.plugins import base_plugin
from werkzeug.test import Client

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.plugin import RunHistoryLoader, RunHistoryPlugin
from tb_runhistory_plugin.store import SQLiteStore

PREFIX = "/data/plugin/runhistory"


def parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--logdir", default="")
    RunHistoryLoader().define_flags(parser)
    return parser.parse_args(argv)


def plugin_for(flags) -> RunHistoryPlugin:
    return RunHistoryLoader().load(base_plugin.TBContext(logdir=flags.logdir, flags=flags))


def client_for(plugin):
    return Client(application.TensorBoardWSGI([plugin]))


def get(client, path):
    response = client.get(PREFIX + path)
    return response.status_code, json.loads(response.data)


def make_store(path, runs=1, name="exp"):
    exp = Experiment(name, store=SQLiteStore(path))
    for _ in range(runs):
        exp.start_logging().complete()
    exp.store.close()
    return str(path)


# -- the flag ---------------------------------------------------------------------------------


def test_the_flag_is_added_and_optional():
    assert parse([]).runhistory_store is None
    assert parse(["--runhistory_store", "/x/y"]).runhistory_store == "/x/y"


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://host/store", "unknown scheme 'ftp'"),
        ("sqlite://", "names no path"),
    ],
)
def test_a_bad_flag_is_a_flags_error(value, fragment):
    with pytest.raises(base_plugin.FlagsError, match=fragment) as raised:
        RunHistoryLoader().fix_flags(parse(["--runhistory_store", value]))
    assert "--runhistory_store" in str(raised.value)


def test_a_file_that_is_not_sqlite_is_a_flags_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(base_plugin.FlagsError, match="not a SQLite database"):
        RunHistoryLoader().fix_flags(parse(["--runhistory_store", str(tmp_path / "notes.txt")]))
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "runhistory.db").write_text("garbage")
    with pytest.raises(base_plugin.FlagsError, match="not a SQLite database"):
        RunHistoryLoader().fix_flags(parse(["--runhistory_store", str(tmp_path / "dir")]))


def test_good_and_future_stores_pass(tmp_path):
    store = make_store(tmp_path / "store")
    for value in (store, os.path.join(store, "runhistory.db"), "sqlite:///" + store.lstrip("/"), str(tmp_path / "not-yet")):
        RunHistoryLoader().fix_flags(parse(["--runhistory_store", value]))
    assert not (tmp_path / "not-yet").exists()  # checking never creates


def test_a_bad_environment_variable_is_a_flags_error_unless_the_flag_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNHISTORY_STORE", "mysql://nope")
    with pytest.raises(base_plugin.FlagsError, match=r"\$RUNHISTORY_STORE"):
        RunHistoryLoader().fix_flags(parse([]))
    RunHistoryLoader().fix_flags(parse(["--runhistory_store", str(tmp_path)]))


def test_tensorboard_configure_raises_the_flags_error(tmp_path):
    from tensorboard import default, program

    plugins = default.get_plugins()  # holds the loader class once the entry point is installed
    if not any(p is RunHistoryLoader or isinstance(p, RunHistoryLoader) for p in plugins):
        plugins = plugins + [RunHistoryLoader()]
    tb = program.TensorBoard(plugins=plugins)
    with pytest.raises(base_plugin.FlagsError, match="unknown scheme"):
        tb.configure(argv=[None, "--logdir", str(tmp_path), "--runhistory_store", "ftp://x"])


# -- discovery --------------------------------------------------------------------------------


def source_of(plugin):
    status, body = get(client_for(plugin), "/experiments")
    assert status == 200
    return body["store"], [e["name"] for e in body["experiments"]]


def test_discovery_order(tmp_path, monkeypatch):
    logdir = tmp_path / "logs"
    make_store(tmp_path / "runhistory", name="cwd")  # ./runhistory (the cwd is tmp_path)
    flags = parse(["--logdir", str(logdir)])
    assert source_of(plugin_for(flags))[1] == ["cwd"]
    make_store(logdir / "runhistory", name="logdir")
    assert source_of(plugin_for(flags))[1] == ["logdir"]
    make_store(tmp_path / "env", name="env")
    monkeypatch.setenv("RUNHISTORY_STORE", str(tmp_path / "env"))
    store, names = source_of(plugin_for(flags))
    assert names == ["env"] and store["source"] == "$RUNHISTORY_STORE"
    make_store(tmp_path / "flag", name="flag")
    store, names = source_of(plugin_for(parse(["--logdir", str(logdir), "--runhistory_store", str(tmp_path / "flag")])))
    assert names == ["flag"] and store["source"] == "--runhistory_store"
    assert store["uri"].endswith("flag/runhistory.db")


def test_a_configured_store_that_does_not_exist_yet_is_not_replaced_by_a_default(tmp_path, monkeypatch):
    make_store(tmp_path / "runhistory", name="cwd")
    monkeypatch.setenv("RUNHISTORY_STORE", str(tmp_path / "later"))
    store, names = source_of(plugin_for(parse([])))
    assert names == [] and store["found"] is False
    assert store["looked_in"] == [{"location": str(tmp_path / "later"), "source": "$RUNHISTORY_STORE"}]


# -- no store yet -----------------------------------------------------------------------------


def test_no_store_is_an_empty_state_with_a_hint_until_one_appears(tmp_path):
    plugin = plugin_for(parse(["--logdir", str(tmp_path / "logs")]))
    client = client_for(plugin)
    assert plugin.is_active() is False
    status, body = get(client, "/experiments")
    assert status == 200 and body["experiments"] == [] and body["store"]["found"] is False
    assert str(tmp_path / "logs" / "runhistory") in body["hint"] and str(tmp_path / "runhistory") in body["hint"]
    status, body = get(client, "/runs?experiment=x")
    assert status == 200 and body["runs"] == [] and body["total"] == 0 and "Looked in" in body["hint"]
    assert get(client, "/runs")[0] == 400  # bad requests are still bad
    for path in (
        "/run?id=x",
        "/series?run=x&name=y",
        "/compare?runs=x&name=y",
        "/sweep?parent=x",
        "/table?run=x&name=y",
        "/image?run=x&name=y",
        "/images?run=x&name=y",
        "/histograms?run=x&name=y",
        "/download?run=x",
    ):
        status, body = get(client, path)
        assert status == 404 and "no run history store yet" in body["error"] and body["hint"], path
    assert not (tmp_path / "runhistory").exists() and not (tmp_path / "logs").exists()  # never created

    make_store(tmp_path / "logs" / "runhistory")  # a training script starts logging
    assert plugin.is_active() is True
    assert get(client, "/experiments")[1]["experiments"][0]["run_count"] == 1


def test_an_experiment_without_runs_is_not_active(tmp_path):
    make_store(tmp_path / "runhistory", runs=0)
    assert plugin_for(parse([])).is_active() is False


def test_a_corrupt_store_is_503_and_inactive(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "runhistory.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    plugin = plugin_for(parse(["--runhistory_store", str(tmp_path / "bad")]))  # constructing never opens
    assert plugin.is_active() is False
    status, body = get(client_for(plugin), "/experiments")
    assert status == 503 and "cannot open the run history store" in body["error"]


# -- laziness and read-only -------------------------------------------------------------------


def test_the_loader_and_constructor_open_nothing(tmp_path, monkeypatch):
    from tb_runhistory_plugin.plugin import _discovery

    opened = []
    monkeypatch.setattr(_discovery, "open_store", lambda *a, **k: opened.append(a) or pytest.fail("opened"))
    make_store(tmp_path / "runhistory")
    plugin = plugin_for(parse([]))
    plugin.get_plugin_apps()
    plugin.frontend_metadata()
    assert opened == []


def test_the_entry_point_module_is_light():
    """The loader module itself imports neither the plugin nor werkzeug routing code."""
    import subprocess

    code = (
        "import sys; import tb_runhistory_plugin.plugin.loader as m; "
        "print(int('tb_runhistory_plugin.plugin.plugin' in sys.modules), int('tb_runhistory_plugin.plugin._respond' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "0"]


def _digest(folder) -> dict[str, str]:
    # -wal and -shm are SQLite's coordination files: a WAL reader, even read-only, may create them.
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in sorted(os.listdir(folder))
        if (folder / name).is_file() and not name.endswith(("-wal", "-shm"))
    }


def test_serving_never_writes_to_the_store(tmp_path):
    folder = tmp_path / "store"
    exp = Experiment("ro", store=SQLiteStore(folder))
    with exp.start_logging("parent") as parent:
        with parent.child_run("child") as child:
            child.log("loss", 1.0)
            child.log_row("t", a=1)
    exp.store.close()
    before = _digest(folder)
    mtime = os.stat(folder / "runhistory.db").st_mtime_ns
    time.sleep(0.01)
    plugin = plugin_for(parse(["--runhistory_store", str(folder)]))
    client = client_for(plugin)
    for path in (
        "/experiments",
        "/runs?experiment=ro&parent=*",
        f"/run?id={child.id}",
        f"/series?run={child.id}&name=loss",
        f"/sweep?parent={parent.id}",
        f"/download?run={child.id}&format=json",
    ):
        assert client.get(PREFIX + path).status_code == 200, path
    assert plugin.is_active()
    plugin._store_ref().close()
    assert _digest(folder) == before
    assert os.stat(folder / "runhistory.db").st_mtime_ns == mtime
