"""Servers stay bounded: thousands of requests, each on a new thread, leave descriptors and memory flat.

The REST server and TensorBoard's werkzeug server answer each request on a fresh thread. The
store must not keep a connection per thread that ever ran, or every request leaks descriptors
(and the page cache of a connection) until the process dies; under `ulimit -n 128` the server
must keep answering. Real servers, real sockets, real SQLite files; psutil counts.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import psutil
from tensorboard_server import serve_tensorboard
from werkzeug.serving import WSGIRequestHandler, make_server

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.server import RunHistoryApp
from tb_runhistory_plugin.store import SQLiteStore
from tb_runhistory_plugin.store._http import HttpStore

REQUESTS = 2_000
WARM_UP = 200  # requests before the baseline: caches, lazy imports and the pool fill up
MAX_FD_GROWTH = 8  # descriptors; a leak is 2 per request
MAX_RSS_GROWTH = 40 << 20  # bytes over REQUESTS requests; a leak is hundreds of MB
ULIMIT = 128


def _fill(path) -> tuple[str, str]:
    """A store with one run holding a scalar series; returns (experiment id, run id)."""
    exp = Experiment("bounded", store=str(path))
    with exp.start_logging(display_name="r", tags={"k": "v"}) as run:
        run.log_list("loss", np.linspace(1.0, 0.0, 10_000))
    exp.store.close()
    return exp.id, run.id


def _get(url: str) -> bytes:
    # urllib opens a new connection per request, so each request gets a new server thread.
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def _hammer(urls: list[str], count: int) -> None:
    for i in range(count):
        _get(urls[i % len(urls)])


def _usage(process: psutil.Process) -> tuple[int, int]:
    gc.collect()
    time.sleep(0.2)  # request threads finish after the response is sent
    return process.num_fds(), process.memory_info().rss


def _assert_flat(process: psutil.Process, urls: list[str]) -> None:
    _hammer(urls, WARM_UP)
    fds0, rss0 = _usage(process)
    _hammer(urls, REQUESTS)
    fds1, rss1 = _usage(process)
    assert fds1 - fds0 <= MAX_FD_GROWTH, f"{fds1 - fds0} descriptors more after {REQUESTS} requests ({fds0} -> {fds1})"
    assert rss1 - rss0 <= MAX_RSS_GROWTH, f"RSS grew by {(rss1 - rss0) >> 20} MB after {REQUESTS} requests"


def test_rest_server_stays_flat_over_2000_requests(tmp_path):
    exp_id, run_id = _fill(tmp_path / "store")
    store = SQLiteStore(tmp_path / "store")
    server = make_server("127.0.0.1", 0, RunHistoryApp(store), threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1"
    try:
        urls = [f"{base}/runs/{run_id}", f"{base}/experiments/{exp_id}/runs", f"{base}/runs/{run_id}/scalars?name=loss&start=0&stop=100"]
        _assert_flat(psutil.Process(), urls)
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def test_tensorboard_plugin_stays_flat_over_2000_requests(tmp_path):
    exp_id, run_id = _fill(tmp_path / "store")
    with serve_tensorboard(tmp_path / "logs", "--load_fast", "false", "--runhistory_store", str(tmp_path / "store")) as url:
        prefix = f"{url}data/plugin/runhistory"
        urls = [f"{prefix}/runs?experiment={exp_id}", f"{prefix}/series?run={run_id}&name=loss", f"{prefix}/run?id={run_id}"]
        _assert_flat(psutil.Process(), urls)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _limit_descriptors() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (ULIMIT, hard))


def test_rest_server_keeps_answering_under_ulimit_128(tmp_path):
    exp_id, run_id = _fill(tmp_path / "store")
    port = _free_port()
    command = [sys.executable, "-m", "tb_runhistory_plugin.cli", "server", "--store", str(tmp_path / "store"), "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), os.getcwd()) if p)}
    log = open(tmp_path / "server.log", "wb")  # a file, not a pipe: the server logs every request and a full pipe blocks it
    proc = subprocess.Popen(command, stdout=log, stderr=log, preexec_fn=_limit_descriptors, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(base + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(0.1)
        server = psutil.Process(proc.pid)
        assert server.rlimit(psutil.RLIMIT_NOFILE)[0] == ULIMIT
        urls = [f"{base}/api/v1/runs/{run_id}", f"{base}/api/v1/runs/{run_id}/metrics"]
        failures = []
        for i in range(REQUESTS):
            try:
                _get(urls[i % len(urls)])
            except (urllib.error.URLError, ConnectionError) as exc:
                failures.append(f"request {i}: {exc}")
                if len(failures) > 5:
                    break
        assert not failures, (failures, (tmp_path / "server.log").read_text()[-2000:])
        body = json.loads(_get(f"{base}/api/v1/runs/{run_id}"))
        assert body["id"] == run_id
        assert server.num_fds() < ULIMIT // 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


class _KeepAlive(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # as waitress or gunicorn answer: connections stay open between requests


def test_http_store_used_from_a_new_thread_per_call_stays_flat(tmp_path):
    """The plugin may read a server URL: its HttpStore is called from a new thread per request too."""
    exp_id, run_id = _fill(tmp_path / "store")
    backing = SQLiteStore(tmp_path / "store")
    server = make_server("127.0.0.1", 0, RunHistoryApp(backing), threaded=True, request_handler=_KeepAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = HttpStore(f"http://127.0.0.1:{server.server_port}")
    process = psutil.Process()

    def calls(count: int) -> None:
        for _ in range(count):
            thread = threading.Thread(target=lambda: store.get_run(run_id))
            thread.start()
            thread.join()

    try:
        calls(WARM_UP)
        fds0, rss0 = _usage(process)
        calls(REQUESTS)
        fds1, rss1 = _usage(process)
        assert fds1 - fds0 <= MAX_FD_GROWTH, f"{fds1 - fds0} descriptors more after {REQUESTS} calls ({fds0} -> {fds1})"
        assert rss1 - rss0 <= MAX_RSS_GROWTH, f"RSS grew by {(rss1 - rss0) >> 20} MB after {REQUESTS} calls"
    finally:
        store.close()
        server.shutdown()
        server.server_close()
        backing.close()
