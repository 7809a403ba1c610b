"""The command line: show, gc and demo (ls, export and import are covered beside their modules)."""

from __future__ import annotations

import io
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import redirect_stderr, redirect_stdout

import pytest

from tb_runhistory_plugin import Experiment, RunFilter, cli
from tb_runhistory_plugin._launcher import _alive, _descendants
from tb_runhistory_plugin.demos import run_sweep
from tb_runhistory_plugin.store import SQLiteStore
from tb_runhistory_plugin.store import _sqlite as sqlite_backend
from tb_runhistory_plugin.store import _sqlite_maintain as sqlite_maintain

DAY = 86400.0


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def swept(tmp_path):
    path = str(tmp_path / "store")
    return path, run_sweep(store=path)


# -- show ---------------------------------------------------------------------------------------


def test_show_prints_details_metrics_and_children(swept):
    path, root = swept
    code, out, err = run_cli("show", root.id, "--store", path)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ridge-sweep", "Completed"]
    assert f"  id           {root.id}" in lines and any(line.startswith("  experiment   diabetes-ridge (") for line in lines)
    assert "Tags" in lines and "  demo   sweep" in lines
    header = next(line for line in lines if line.lstrip().startswith("NAME") and "KIND" in line)
    assert header.split() == ["NAME", "KIND", "POINTS", "LAST", "STEP", "LAST", "VALUE"]
    by_alpha = next(line for line in lines if line.lstrip().startswith("by_alpha "))
    assert by_alpha.split() == ["by_alpha", "table", "7", "6", "—"]
    best = next(line for line in lines if line.lstrip().startswith("best_alpha "))
    assert best.split() == ["best_alpha", "scalar", "1", "0", "0.1"]
    assert "Children (7)" in lines
    children_header = next(line for line in lines if line.lstrip().startswith("NAME") and "STATUS" in line)
    assert children_header.split() == ["NAME", "STATUS", "DURATION", "MSE", "TRAIN_MSE", "ID"]  # alpha is a property
    first = root.get_children()[0]
    row = next(line for line in lines if line.lstrip().startswith("alpha0.1 "))
    assert row.split()[1] == "Completed" and row.endswith(first.id[:8])
    assert "Files (0)" in lines


def test_show_json_for_scripts(swept):
    path, root = swept
    code, out, _ = run_cli("show", root.id[:10], "--store", path, "--json")
    assert code == 0
    details = json.loads(out)
    assert details["id"] == root.id and details["status"] == "Completed" and details["parent"] is None
    assert details["experiment"]["name"] == "diabetes-ridge" and details["tags"] == {"demo": "sweep", "model": "ridge"}
    metrics = {m["name"]: m for m in details["metrics"]}
    assert metrics["best_alpha"]["kind"] == "scalar" and metrics["best_alpha"]["last_value"] == 0.1
    assert metrics["residuals"]["kind"] == "image" and metrics["residuals"]["last_value"] is None
    assert metrics["by_alpha"]["count"] == 7
    assert [c["display_name"] for c in details["children"]] == [f"alpha0.{i}" for i in range(1, 8)]
    assert sorted(details["children"][6]["metrics"]) == ["mse", "train_mse"]
    # A child shows its parent; a display name works when unique.
    code, out, _ = run_cli("show", "alpha0.3", "--store", path, "--json")
    child = json.loads(out)
    assert code == 0 and child["parent"] == {"id": root.id, "display_name": "ridge-sweep"}
    assert child["properties"] == {"alpha": 0.3}  # the sweep's hyperparameter


def test_show_failed_run_with_traceback_files_and_unprintable_text(tmp_path):
    path = str(tmp_path / "store")
    exp = Experiment("e", store=path)
    run = exp.start_logging("broken")
    run.log("nan", float("nan"))
    run.log("inf", float("inf"))
    (tmp_path / "f.txt").write_text("hello")
    run.upload_file("out/f.txt", tmp_path / "f.txt")
    try:
        raise ValueError("exploded")
    except ValueError as exc:
        run.fail(exc)
    exp.store.create_run(exp.id, run_id="c" * 32, display_name="evil\x1b[2Jname", start_time=time.time())
    code, out, _ = run_cli("show", "broken", "--store", path)
    assert code == 0
    assert ["error", "ValueError: exploded"] in [line.split(None, 1) for line in out.splitlines()]
    assert "Traceback (kept with the run)" in out and 'raise ValueError("exploded")' in out
    assert "Files (1)" in out and "out/f.txt  5 B" in out
    code, out, _ = run_cli("show", "broken", "--store", path, "--json")
    details = json.loads(out)  # strict JSON: no bare NaN
    assert {m["name"]: m["last_value"] for m in details["metrics"]} == {"inf": "Infinity", "nan": "NaN"}
    assert "NaN" not in out.replace('"NaN"', "")
    code, out, _ = run_cli("show", "c" * 32, "--store", path)
    assert code == 0 and "\x1b" not in out and "evil\\x1b[2Jname" in out


def test_show_errors_have_meaningful_exit_codes(swept, tmp_path):
    path, _ = swept
    code, out, err = run_cli("show", "no-such-run", "--store", path)
    assert (code, out) == (1, "") and "no run 'no-such-run'" in err
    code, _, err = run_cli("show", "alpha", "--store", path)  # the start of seven display names, no id
    assert code == 1 and "no run 'alpha'" in err
    store = SQLiteStore(path)
    exp_id = store.get_experiment("diabetes-ridge").id
    for suffix in "12":
        store.create_run(exp_id, run_id="abc" + suffix * 29, display_name="twin", start_time=time.time())
    for ref in ("abc", "twin"):
        code, _, err = run_cli("show", ref, "--store", path)
        assert code == 2 and "matches 2 runs" in err and "give more of the id" in err
    assert run_cli("show", "abc1", "--store", path)[0] == 0
    missing = tmp_path / "missing"
    code, _, err = run_cli("show", "x", "--store", str(missing))
    assert code == 1 and not missing.exists()
    with pytest.raises(SystemExit) as exc:
        run_cli("show")
    assert exc.value.code == 2


# -- gc -----------------------------------------------------------------------------------------


@pytest.fixture
def messy(tmp_path):
    """A store with a long-dead Running run, a live one, a finished one, and stray files."""
    path = tmp_path / "store"
    store = SQLiteStore(path)
    exp = Experiment("g", store=store)
    old = time.time() - 3 * DAY
    store.create_run(exp.id, run_id="d" * 32, display_name="dead", start_time=old)
    store.heartbeat(["d" * 32], old + 60)
    store.create_run(exp.id, run_id="f" * 32, display_name="quiet", start_time=time.time() - 600)  # NotResponding, not dead
    live = exp.start_logging("live")
    done = exp.start_logging("done")
    (tmp_path / "keep.txt").write_text("kept")
    done.upload_file("keep.txt", tmp_path / "keep.txt")
    done.complete()
    files = path / "files"
    stray = [files / ("e" * 32) / "sub" / "lost.bin", files / done.id / "keep.txt.0123.tmp"]
    for file in stray:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"x" * 1000)
    young = files / done.id / "uploading.tmp"
    young.write_bytes(b"y")
    for item in [*stray, stray[0].parent, stray[0].parent.parent]:
        os.utime(item, (old, old))
    yield str(path), store, live, done, stray, young
    live.complete()


def test_gc_dry_run_reports_and_changes_nothing(messy):
    path, store, live, done, stray, young = messy
    code, out, _ = run_cli("gc", "--store", path, "--dry-run")
    assert code == 0
    assert "Stale runs: 1 would be marked Failed" in out and "dead" in out and "quiet" not in out
    assert "Orphaned files: 2 would be deleted (2.0 KB)" in out
    assert "files/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/sub/lost.bin" in out
    assert store.get_run("d" * 32).status == "NotResponding"
    assert all(f.exists() for f in stray)


def test_gc_fails_dead_runs_deletes_orphans_and_compacts(messy):
    path, store, live, done, stray, young = messy
    code, out, _ = run_cli("gc", "--store", path, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["dry_run"] is False and report["stale_after"] == DAY
    (dead,) = report["stale_runs"]
    assert (dead["id"], dead["display_name"], dead["experiment"], dead["failed"]) == ("d" * 32, "dead", "g", True)
    info = store.get_run("d" * 32)
    assert info.status == "Failed" and "no heartbeat since" in info.error and "gc" in info.error
    assert info.end_time == pytest.approx(dead["last_heartbeat"])
    assert store.get_run("f" * 32).status == "NotResponding" and live.status == "Running"
    assert sorted(o["path"] for o in report["orphaned_files"]) == sorted(os.path.relpath(f, path).replace(os.sep, "/") for f in stray)
    assert not any(f.exists() for f in stray) and not stray[0].parent.parent.exists()
    assert young.exists() and done.download_file("keep.txt", os.path.join(path, "..", "back.txt"))
    assert report["database"]["compacted"] is True and report["database"]["bytes_after"] > 0
    # A second pass finds nothing; a shorter threshold catches the quiet run.
    code, out, _ = run_cli("gc", "--store", path, "--json")
    again = json.loads(out)
    assert again["stale_runs"] == [] and again["orphaned_files"] == []
    code, out, _ = run_cli("gc", "--store", path, "--stale-after", "5m")
    assert code == 0 and "Stale runs: 1 marked Failed" in out and "quiet" in out
    assert store.get_run("f" * 32).status == "Failed" and live.status == "Running"


def test_gc_reports_a_locked_database_after_doing_the_rest(messy, monkeypatch):
    path, store, *_ = messy
    monkeypatch.setattr(sqlite_maintain, "_VACUUM_PATIENCE", 0.2)
    writer = sqlite3.connect(store.db_path, isolation_level=None)
    real = sqlite_maintain.delete_orphans

    def then_lock(*args, **kwargs):
        found = real(*args, **kwargs)
        writer.execute("BEGIN IMMEDIATE")  # another process starts a long write just before the VACUUM
        return found

    monkeypatch.setattr(sqlite_backend, "delete_orphans", then_lock)
    try:
        code, out, _ = run_cli("gc", "--store", path)
    finally:
        if writer.in_transaction:
            writer.execute("ROLLBACK")
        writer.close()
    assert code == 1 and "Database: could not compact" in out and "database is locked" in out
    assert "Stale runs: 1 marked Failed" in out and "Orphaned files: 2 deleted" in out
    assert store.get_run("d" * 32).status == "Failed"


def test_gc_usage_and_store_errors(tmp_path):
    assert cli._duration_arg("90") == 90 and cli._duration_arg("30m") == 1800 and cli._duration_arg("1.5d") == 1.5 * DAY
    with pytest.raises(SystemExit) as exc:
        run_cli("gc", "--stale-after", "soon")
    assert exc.value.code == 2
    code, _, err = run_cli("gc", "--store", str(tmp_path / "missing"))
    assert code == 1 and "no run history store" in err and not (tmp_path / "missing").exists()
    SQLiteStore(tmp_path / "empty")
    code, out, _ = run_cli("gc", "--store", str(tmp_path / "empty"))
    assert code == 0 and "Stale runs: 0" in out and "Orphaned files: 0" in out


# -- demo ---------------------------------------------------------------------------------------


def test_demo_without_serving_can_run_twice(tmp_path, monkeypatch):
    import tb_runhistory_plugin.demos as demos

    real = demos.run_training
    monkeypatch.setattr(demos, "run_training", lambda store, logs_root: real(store, logs_root, epochs=2))
    path, logdir = str(tmp_path / "store"), str(tmp_path / "tb")
    for _ in range(2):
        code, out, err = run_cli("demo", "--store", path, "--no-serve", "--logdir", logdir)
        assert code == 0 and out == "" and "diabetes-ridge" in err and "digits-mlp" in err
    store = SQLiteStore(path)
    for name, children in (("diabetes-ridge", 7), ("digits-mlp", 3)):
        roots = store.list_runs(store.get_experiment(name).id, RunFilter(parent_id="__roots__"))
        assert len(roots) == 2 and all(r.status == "Completed" and r.child_count == children for r in roots)
    assert {"ridge-sweep", "ridge-sweep_2", "digits-mlp", "digits-mlp_2"} <= set(os.listdir(logdir))
    assert os.path.isdir(os.path.join(logdir, "digits-mlp", "logs", "train"))
    assert os.path.isdir(os.path.join(path, "logs"))  # the training's own event files live with the store


def test_demo_on_a_busy_port_is_an_error(tmp_path, monkeypatch):
    import tb_runhistory_plugin.demos as demos

    real = demos.run_training
    monkeypatch.setattr(demos, "run_training", lambda store, logs_root: real(store, logs_root, epochs=1, folds=0))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run_cli("demo", "--store", str(tmp_path / "s"), "--port", str(port), "--no-browser")
    assert code == 1 and out == "" and f"port {port}" in err and "already in use" in err


def _start_demo(tmp_path, *extra: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "tb_runhistory_plugin.cli", "demo", "--store", str(tmp_path / "store"), "--port", "0", "--no-browser", *extra]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 180
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
        if proc.poll() is not None or time.monotonic() > deadline:
            break
    if not line.startswith(b"http://"):
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"no URL from `tb-runhistory demo` (exit {proc.returncode}): {err.decode(errors='replace')[-3000:]}")
    return proc, line.decode().strip()


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _wait_for_runs(url: str, wanted: set[str], timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        runs = _get_json(url + "data/runs")
        if wanted <= set(runs) or time.monotonic() > deadline:
            return runs
        time.sleep(0.5)


def _stop_and_check(proc: subprocess.Popen, signum: int) -> str:
    children = _descendants(proc.pid)
    assert children, "the demo runs TensorBoard as a child process"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")
    left = [child.pid for child in children if _alive(child)]
    assert not left, f"processes left behind: {left}"
    return err.decode()


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_demo_serves_tensorboard_and_stops_on_ctrl_c(tmp_path):
    proc, url = _start_demo(tmp_path)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        listing = _get_json(url + "data/plugins_listing")
        assert {"scalars", "histograms", "images", "hparams"} <= {name for name, plugin in listing.items() if plugin["enabled"]}
        runs = _wait_for_runs(url, {"ridge-sweep/alpha0.1", "digits-mlp/fold1", "digits-mlp/logs/train"})
        assert {"ridge-sweep", "ridge-sweep/alpha0.1", "digits-mlp/fold1", "digits-mlp/logs/train"} <= set(runs)
    finally:
        err = _stop_and_check(proc, signal.SIGINT)
    assert "stopping TensorBoard" in err
    port = int(url.rsplit(":", 1)[1].strip("/"))
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # the port is free again
    store = SQLiteStore(tmp_path / "store")
    runs = store.list_runs(store.get_experiment("digits-mlp").id)
    assert [r.status for r in runs if r.display_name != "long-training"] == ["Completed"] * 4
    assert [r.status for r in runs if r.display_name == "long-training"] == ["Completed"]  # stopped with the demo


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_demo_keeps_one_run_training_after_the_url_is_printed(tmp_path):
    proc, url = _start_demo(tmp_path)
    try:
        experiments = _get_json(url + "data/plugin/runhistory/experiments")["experiments"]
        newest = max(experiments, key=lambda e: e["last_activity"])
        assert newest["name"] == "digits-mlp" and newest["status_counts"].get("Running") == 1  # the tab opens on it
        runs = _get_json(url + f"data/plugin/runhistory/runs?experiment={newest['id']}")["runs"]
        live = next(r for r in runs if r["status"] == "Running")
        points = lambda: _get_json(url + f"data/plugin/runhistory/series?run={live['id']}&name=train/loss")["total"]  # noqa: E731
        first = points()
        deadline = time.monotonic() + 30
        while points() <= first and time.monotonic() < deadline:
            time.sleep(0.5)
        assert points() > first, "the live run keeps logging"
    finally:
        _stop_and_check(proc, signal.SIGINT)


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
def test_demo_again_adds_runs_and_stops_on_sigterm(tmp_path):
    run_sweep(store=str(tmp_path / "store"))  # a store that already holds a sweep
    proc, url = _start_demo(tmp_path)
    try:
        runs = _wait_for_runs(url, {"ridge-sweep_2/alpha0.7"})
        assert {"ridge-sweep/alpha0.7", "ridge-sweep_2/alpha0.7"} <= set(runs)
    finally:
        _stop_and_check(proc, signal.SIGTERM)


def test_export_and_import_report_as_json(tmp_path, capsys):
    import json

    from tb_runhistory_plugin import Experiment
    from tb_runhistory_plugin.cli import main

    store = str(tmp_path / "store")
    with Experiment("json-report", store=store).start_logging(display_name="r") as run:
        run.log_list("loss", [3.0, 2.0, 1.0])
    capsys.readouterr()
    assert main(["export", str(tmp_path / "tb"), "--experiment", "json-report", "--store", store, "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["scalars"] == 3 and list(exported["run_dirs"]) == [run.id]
    assert main(["import", str(tmp_path / "tb"), "--experiment", "reimported", "--store", store, "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["experiment"] == "reimported" and imported["runs_created"] == 1 and imported["scalars"] == 3
    assert imported["ok"] is True
