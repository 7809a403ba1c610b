"""A real TensorBoard serving the plugin over a socket: in-process, and the installed `tensorboard` command."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from importlib import metadata

import pytest
from tensorboard_server import serve_tensorboard

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.plugin import PLUGIN_NAME

ENTRY_POINT = "tb_runhistory_plugin.plugin.loader:RunHistoryLoader"


def registered() -> bool:
    """Whether the package is installed with its tensorboard_plugins entry point."""
    return any(ep.name == PLUGIN_NAME and ep.value == ENTRY_POINT for ep in metadata.entry_points(group="tensorboard_plugins"))


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, response.read()


@pytest.fixture
def store(tmp_path):
    exp = Experiment("socket", store=str(tmp_path / "store"))
    with exp.start_logging("over-the-wire") as run:
        run.log_list("loss", [3.0, 2.0, float("nan"), 1.0])
    return str(tmp_path / "store"), run.id


def check_served(base: str, run_id: str) -> None:
    """plugins_listing shows an enabled IFRAME tab, and a data route answers over the socket."""
    status, _, body = fetch(base + "data/plugins_listing")
    entry = json.loads(body)[PLUGIN_NAME]
    assert entry["enabled"] is True and entry["tab_name"] == "Run History"
    assert entry["loading_mechanism"] == {"type": "IFRAME", "module_path": f"/data/plugin/{PLUGIN_NAME}/index.js"}
    status, headers, body = fetch(base + f"data/plugin/{PLUGIN_NAME}/experiments")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    assert [e["name"] for e in json.loads(body)["experiments"]] == ["socket"]
    status, _, body = fetch(base + f"data/plugin/{PLUGIN_NAME}/series?run={run_id}&name=loss")
    assert json.loads(body)["buckets"]["first"] == [3.0, 2.0, "NaN", 1.0]
    status, headers, _ = fetch(base + f"data/plugin/{PLUGIN_NAME}/vendor/uPlot.esm.js")
    assert headers["Content-Type"].startswith("text/javascript")
    status, _, body = fetch(base + f"data/plugin_entry.html?name={PLUGIN_NAME}")
    assert b'import("./index.js")' in body or b"index.js" in body


def test_in_process_tensorboard(tmp_path, store):
    path, run_id = store
    with serve_tensorboard(tmp_path / "empty-logdir", "--load_fast", "false", "--runhistory_store", path) as url:
        check_served(url, run_id)


def _tensorboard_command() -> list[str]:
    found = shutil.which("tensorboard")
    return [found] if found else [sys.executable, "-m", "tensorboard.main"]


def test_the_entry_point_is_registered():
    assert registered(), f"entry point {PLUGIN_NAME} = {ENTRY_POINT} is not installed (pip install -e .)"


def test_the_tensorboard_command_loads_the_installed_plugin(tmp_path, store):
    path, run_id = store
    (tmp_path / "logs").mkdir()
    command = _tensorboard_command() + ["--logdir", str(tmp_path / "logs"), "--host", "127.0.0.1", "--port", "0", "--runhistory_store", path]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, text=True, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen = []
    try:
        while True:
            try:
                line = lines.get(timeout=90)
            except queue.Empty:
                pytest.fail("tensorboard printed no URL within 90 s:\n" + "".join(seen))
            seen.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
            if match:
                break
            if process.poll() is not None:
                pytest.fail("tensorboard exited:\n" + "".join(seen))
        check_served(match.group(1), run_id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
