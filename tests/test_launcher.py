"""The Tensorboard launcher: a managed TensorBoard child process, live sync, and a clean stop."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import urllib.parse
import urllib.request

import psutil
import pytest
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.summary import Writer

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin._launcher import Tensorboard, _alive, _descendants, plugin_installed
from tb_runhistory_plugin.errors import (
    ConflictError,
    InvalidArgumentError,
    RunHistoryError,
)
from tb_runhistory_plugin.export._eventfile import EventFileWriter
from tb_runhistory_plugin.store import SQLiteStore

SAMPLES = ["--samples_per_plugin", "scalars=100000"]


def get(url: str, path: str) -> object:
    with urllib.request.urlopen(url.rstrip("/") + path, timeout=30) as response:
        return json.loads(response.read())


def scalars(url: str, run: str, tag: str) -> list:
    return get(url, "/data/plugin/scalars/scalars?" + urllib.parse.urlencode({"run": run, "tag": tag}))


def wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for TensorBoard")
        time.sleep(0.3)


def port_of(url: str) -> int:
    return int(re.match(r"http://127\.0\.0\.1:(\d+)/$", url).group(1))


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def assert_nothing_left(pid: int, children: list, port: int, threads_before: set[int]) -> None:
    assert not psutil.pid_exists(pid), "the TensorBoard process is still there"
    assert not any(_alive(child) for child in children), "the data server is still there"
    assert port_is_free(port)
    assert {t.ident for t in threading.enumerate()} <= threads_before, "a thread was left behind"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("launcher")
    store = SQLiteStore(base / "store")
    run = Experiment("live", store=store).start_logging(display_name="main")
    run.log_list("loss", [1.0, 0.5])
    board = Tensorboard([run], local_root=base / "tb", port=0, store=store, sync_interval=0.3, reload_interval=1, tensorboard_args=SAMPLES)
    board.start()
    yield {"board": board, "run": run, "store": store, "base": base}
    board.stop()
    if run.status == "Running":
        run.complete()
    store.close()


def test_start_returns_the_url_once(served):
    board = served["board"]
    assert port_of(board.url) > 0 and board.pid is not None
    assert board.start() == board.url
    assert wait_for(lambda: len(scalars(board.url, "main", "loss")) == 2)


def test_live_runs_children_and_their_own_logs_are_followed(served, tmp_path):
    board, run = served["board"], served["run"]
    for value in (0.25, 0.125):
        run.log("loss", value)
    with run.child_run("child") as child:
        child.log("acc", 0.9)
    run.attach_logs(tmp_path / "own")
    writer = Writer(str(tmp_path / "own"))
    writer.add_scalar("native", 7.0, step=3)
    writer.flush()
    run.flush()
    assert wait_for(lambda: [p[2] for p in scalars(board.url, "main", "loss")] == [1.0, 0.5, 0.25, 0.125])
    assert wait_for(lambda: scalars(board.url, "main/child", "acc"))
    assert wait_for(lambda: [p[1:] for p in scalars(board.url, "main/logs", "native")] == [[3, 7.0]])
    writer.add_scalar("native", 8.0, step=4)
    writer.close()
    assert wait_for(lambda: len(scalars(board.url, "main/logs", "native")) == 2)


def test_run_history_tab_is_pointed_at_the_store_when_installed(served):
    board = served["board"]
    args = psutil.Process(board.pid).cmdline()
    assert ("--runhistory_store" in args) == plugin_installed()
    if "--runhistory_store" in args:
        assert args[args.index("--runhistory_store") + 1] == served["store"].uri


def test_busy_port_raises_a_clear_error(served, tmp_path):
    port = port_of(served["board"].url)
    with pytest.raises(ConflictError, match=f"port {port} on 127.0.0.1 is already in use"):
        Tensorboard([], local_root=tmp_path, port=port).start()


def test_bad_arguments(tmp_path):
    for port in (-1, 70000, "6006", True):
        with pytest.raises(InvalidArgumentError, match="port"):
            Tensorboard([], port=port)
    with pytest.raises(InvalidArgumentError, match="sync_interval"):
        Tensorboard([], sync_interval=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        Tensorboard([], local_root=tmp_path / "file", port=0).start()
    with pytest.raises(InvalidArgumentError, match="cannot create local_root .*Not a directory"):
        Tensorboard([], local_root=tmp_path / "file" / "tb", port=0).start()


def test_tensorboard_that_cannot_start_raises_and_leaves_nothing(tmp_path):
    board = Tensorboard([], local_root=tmp_path, port=0, tensorboard_args=["--no_such_flag"])
    with pytest.raises(RunHistoryError, match="bad tensorboard arguments"):
        board.start()
    assert board.url is None and board.pid is None
    board.stop()


def test_context_manager_serves_a_folder_and_stops_cleanly(tmp_path):
    with EventFileWriter(tmp_path / "theirs") as writer:
        writer.write_scalars("x", [0, 1], [1.0, 2.0], [3.0, 4.0])
    threads_before = {t.ident for t in threading.enumerate()}
    with Tensorboard([], local_root=tmp_path, port=0, reload_interval=1) as board:
        url, pid = board.url, board.pid
        children = _descendants(pid)
        assert children, "TensorBoard's Rust data server should be running"
        assert wait_for(lambda: [p[2] for p in scalars(url, "theirs", "x")] == [3.0, 4.0])
    assert_nothing_left(pid, children, port_of(url), threads_before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs"]  # nothing added to a folder it only serves
    board.stop()  # a second stop is harmless


def test_stop_syncs_one_last_time_and_frees_everything(tmp_path):
    store = SQLiteStore(tmp_path / "store")
    run = Experiment("final", store=store).start_logging(display_name="r")
    run.log("x", 1.0)
    threads_before = {t.ident for t in threading.enumerate()}
    board = Tensorboard(run, local_root=tmp_path / "tb", port=0, sync_interval=60)
    url = board.start()
    pid, children = board.pid, _descendants(board.pid)
    assert board._thread is not None and board._thread.is_alive()  # the run is live: it is followed
    run.log("x", 2.0)
    run.complete()
    board.stop()
    assert_nothing_left(pid, children, port_of(url), threads_before)
    values, info = [], []
    for path in sorted((tmp_path / "tb" / "r").glob("*tfevents*")):
        for event in event_file_loader.EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.tag == "x":
                    values.append(value.tensor.float_val[0])
                elif value.tag == "run_history/info":
                    info.append(value.tensor.string_val[0].decode())
    assert values == [1.0, 2.0] and "Completed" in info[-1]
    board.stop()
    assert board.start() != ""  # it can serve again after a stop
    board.stop()
    store.close()


def test_temporary_local_root_is_removed(tmp_path):
    board = Tensorboard([], port=0)
    board.start()
    root = board.local_root
    assert os.path.isdir(root)
    board.stop()
    assert not os.path.exists(root)


@pytest.mark.parametrize("kind", ["postgresql", "http"])
def test_the_launcher_serves_a_team_store_unchanged(tmp_path, kind):
    """The Tensorboard launcher over a PostgreSQL store and over a server URL with a token."""
    import requests
    from backends_extra import make_http, make_postgresql

    store = make_postgresql(tmp_path) if kind == "postgresql" else make_http(tmp_path)
    try:
        exp = Experiment(f"team-{kind}", store=store)
        with exp.start_logging(display_name="shared") as run:
            run.log_list("loss", [3.0, 2.0, 1.0])
        with Tensorboard([run], local_root=str(tmp_path / "tb"), port=0) as tb:
            base = tb.url + "data/plugin/runhistory"
            listing = requests.get(tb.url + "data/plugins_listing", timeout=30).json()
            assert listing["runhistory"]["enabled"]
            names = [e["name"] for e in requests.get(base + "/experiments", timeout=30).json()["experiments"]]
            assert exp.name in names
            series = requests.get(base + "/series", params={"run": run.id, "name": "loss", "raw": 1}, timeout=30).json()
            assert series["points"]["value"] == [3.0, 2.0, 1.0]
    finally:
        store.close()


def test_portal_url_points_at_the_launched_tensorboard(served, monkeypatch):
    monkeypatch.setenv("TB_RUNHISTORY_URL", "http://elsewhere:1/")  # the launcher of this store wins over the variable
    board, run = served["board"], served["run"]
    assert run.get_portal_url().startswith(board.url.rstrip("/") + "/#runhistory&p.runhistory.exp=")
    other = Experiment("other", store=served["base"] / "other-store").start_logging()
    assert other.get_portal_url().startswith("http://elsewhere:1/#runhistory&")  # a store it does not serve
    other.complete()
