"""Run.get_context() and `tb-runhistory run`: the same script logs into the tool's run, or into its own, with real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from backends_extra import make_http, make_postgresql

from tb_runhistory_plugin import Experiment, Run
from tb_runhistory_plugin.store import open_store

SCRIPT = textwrap.dedent(
    """
    import sys
    from tb_runhistory_plugin import Run
    run = Run.get_context()
    assert Run.get_context() is run  # one run per process
    run.log("loss", 0.25)
    run.tag("seen", run.id)
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    if mode == "raise":
        raise ValueError("broken script")
    if mode == "exit":
        sys.exit(3)
    if mode == "self":
        run.fail("gave up", "GaveUp")
    print("RUN", run.id, run.type)
    """
)


def _cli(tmp_path, store_arg, *args, env=None):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, "-m", "tb_runhistory_plugin.cli", "run", "--store", store_arg, "--", sys.executable, str(script), *args]
    full_env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
    full_env.pop("TB_RUNHISTORY_RUN_ID", None)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=full_env, cwd=tmp_path)


@pytest.fixture(params=["sqlite", "postgresql", "http"])
def store_uri(request, tmp_path):
    """A store URI every process can open: a SQLite folder, a PostgreSQL schema, a REST server."""
    if request.param == "sqlite":
        yield str(tmp_path / "store")
        return
    made = make_postgresql(tmp_path) if request.param == "postgresql" else make_http(tmp_path)
    yield made.uri
    made.close()


def _only_run(store_uri, env=None):
    token = (env or {}).get("RUNHISTORY_TOKEN")
    store = open_store(store_uri, token=token) if token else open_store(store_uri)
    runs = Experiment("train", store=store).get_runs()
    assert len(runs) == 1
    return runs[0]


def _env_for(store_uri):
    return {"RUNHISTORY_TOKEN": "contract-token"} if store_uri.startswith("http") else {}


@pytest.mark.parametrize(
    ("mode", "code", "status", "error_code"),
    [("ok", 0, "Completed", None), ("exit", 3, "Failed", "ExitCode3"), ("raise", 1, "Failed", None), ("self", 0, "Failed", "GaveUp")],
)
def test_cli_run_ends_the_run_from_the_exit_code(tmp_path, store_uri, mode, code, status, error_code):
    env = _env_for(store_uri)
    done = _cli(tmp_path, store_uri, mode, env=env)
    assert done.returncode == code, done.stderr
    run = _only_run(store_uri, env)
    assert run.status == status and run.type == "script" and run.display_name == "train.py"
    assert run.get_tags() == {"seen": run.id}  # the script logged into the tool's run
    assert run.get_metrics()["loss"] == 0.25
    assert run.info().error_code == error_code
    if mode == "ok":
        assert f"RUN {run.id} script" in done.stdout
    if mode == "raise":  # the script's own process knew the traceback: kept
        assert "ValueError: broken script" in run.info().traceback
    if mode == "exit":
        assert "exited with code 3" in run.info().error


def test_cli_run_of_a_missing_command_fails_the_run(tmp_path):
    store = str(tmp_path / "store")
    done = subprocess.run(
        [sys.executable, "-m", "tb_runhistory_plugin.cli", "run", "--store", store, "--experiment", "train", "--", "no-such-program-xyz"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 127 and "no-such-program-xyz" in done.stderr
    run = _only_run(store)
    assert run.status == "Failed" and run.info().error_code == "CommandNotFound"


def test_cli_run_without_a_command_is_a_usage_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "tb_runhistory_plugin.cli", "run", "--store", str(tmp_path / "s"), "--"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "give the command" in done.stderr


def test_outside_the_tool_the_script_gets_a_run_of_its_own(tmp_path):
    script = tmp_path / "my-script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "RUNHISTORY_STORE": str(tmp_path / "store"), "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TB_RUNHISTORY_RUN_ID", None)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = Experiment("my-script", store=str(tmp_path / "store")).get_runs()
    assert len(runs) == 1 and runs[0].status == "Completed" and runs[0].type == "interactive"
    assert runs[0].get_metrics()["loss"] == 0.25


def test_get_context_in_process_attaches_to_the_named_run(tmp_path, monkeypatch):
    from tb_runhistory_plugin import _context

    store = str(tmp_path / "store")
    owner = Experiment("attached", store=store).start_logging()
    monkeypatch.setenv("TB_RUNHISTORY_RUN_ID", owner.id)
    monkeypatch.setenv("TB_RUNHISTORY_STORE", store)
    monkeypatch.setattr(_context, "_runs", {})
    run = Run.get_context()
    assert run.id == owner.id and run is Run.get_context()
    monkeypatch.setattr(_context, "_runs", {})
    monkeypatch.setenv("TB_RUNHISTORY_RUN_ID", "../escape")
    with pytest.raises(Exception, match="run id"):
        Run.get_context()
    monkeypatch.setenv("TB_RUNHISTORY_RUN_ID", "nobody")
    with pytest.raises(Exception, match="'nobody'"):
        Run.get_context()
    owner.complete()


@pytest.mark.parametrize(
    ("argv0", "name"), [("train.py", "train"), ("/x/my model!.py", "my_model_"), ("-c", "interactive"), ("", "interactive"), ("...", "interactive")]
)
def test_experiment_named_after_the_script(argv0, name):
    from tb_runhistory_plugin._context import experiment_for_script

    assert experiment_for_script(argv0) == name
