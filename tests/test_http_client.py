"""The HTTP client: retries, idempotent batches, server restarts, timeouts, and the background writer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import requests
from backends import make_sqlite
from backends_extra import ServedStore, drop_schema, new_schema_url, require_postgres

from tb_runhistory_plugin import Experiment, StoreError
from tb_runhistory_plugin._types import Record, RecordBatch, ScalarBatch
from tb_runhistory_plugin.store import _http
from tb_runhistory_plugin.store._http import HttpStore

TOKEN = "restart-token"


class Faults:
    """WSGI middleware injecting faults into chosen requests.

    drop(n, path): apply the next n requests to `path`, then cut the connection before any answer
    (a lost response). fail(n, status): answer the next n requests with `status` without applying them.
    """

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.drops: dict[str, int] = {}
        self.drop_until = 0.0
        self.failures: list[int] = []
        self.retry_after: str | None = None
        self.seen: list[tuple[str, str, int]] = []
        self.down = False
        self.metrics_requests = 0
        self.lose_from: tuple[int, float] | None = None

    def lose_metrics_answers(self, *, from_request: int, seconds: float) -> None:
        """From the n-th write of points on, apply writes but lose their answers for some seconds."""
        self.lose_from = (self.metrics_requests + from_request, seconds)

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        self.seen.append((method, path, int(environ.get("CONTENT_LENGTH") or 0)))
        with self.lock:
            if path == "/api/v1/metrics":
                self.metrics_requests += 1
                if self.lose_from and self.metrics_requests == self.lose_from[0]:
                    self.drop_until = time.monotonic() + self.lose_from[1]
            fail = self.failures.pop(0) if self.failures else (503 if self.down else None)
            drop = self.drops.get(path, 0) > 0 or (path == "/api/v1/metrics" and time.monotonic() < self.drop_until)
            if self.drops.get(path, 0) > 0:
                self.drops[path] -= 1
        if fail:
            headers = [("Content-Type", "application/json")] + ([("Retry-After", self.retry_after)] if self.retry_after else [])
            start_response(f"{fail} Injected", headers)
            return [b'{"error": {"status": %d, "type": "StoreError", "message": "injected"}}' % fail]
        if drop:
            for _ in self.app(environ, lambda *args, **kwargs: None):
                pass  # the store applied the request ...
            sock = environ["werkzeug.socket"]
            sock.shutdown(socket.SHUT_RDWR)  # ... and its answer is lost
            sock.close()
            raise ConnectionAbortedError("response dropped on purpose")
        return self.app(environ, start_response)


@pytest.fixture
def served(tmp_path):
    store = ServedStore(make_sqlite(tmp_path), token=TOKEN, timeout=5, middleware=Faults)
    yield store
    store.close()


def faults(served) -> Faults:
    return served.server.app


def _run(store, run_id="r"):
    exp = store.get_or_create_experiment("e")
    return store.create_run(exp.id, run_id=run_id, display_name=run_id, start_time=time.time())


def _auto(run_id, name, n, start=0.0):
    return ScalarBatch(run_id, name, np.full(n, -1, np.int64), np.full(n, 1.0), np.arange(start, start + n, dtype=np.float64))


def _exact(store, run_id, name, n):
    history = store.read_scalars(run_id, name)
    assert len(history) == n
    assert np.array_equal(history.steps, np.arange(n))
    assert np.array_equal(history.values, np.arange(n, dtype=np.float64))


# -- lost responses --------------------------------------------------------------
def test_retry_after_a_lost_response_does_not_duplicate(served):
    _run(served)
    faults(served).drops["/api/v1/metrics"] = 1
    served.write_metrics([_auto("r", "x", 5000)])
    assert [p for _, p, _ in faults(served).seen].count("/api/v1/metrics") == 2  # sent twice, applied once
    _exact(served, "r", "x", 5000)


@pytest.mark.slow  # kept out of the quick loop: waits out timeouts and retries on purpose
def test_failed_call_resent_by_the_caller_does_not_duplicate(served, monkeypatch):
    """A call that gave up (StoreError) after some requests succeeded: passing the same batches again
    skips what was applied and resends the unanswered request under its first batch id."""
    monkeypatch.setattr(_http, "_REQUEST_BYTES", 40_000)  # about 1,200 points per request
    served.timeout = 1.0
    _run(served)
    batch = _auto("r", "x", 10_000)
    table = RecordBatch("r", "t", "table", tuple(Record(-1, 1.0, {"i": i}) for i in range(50)))
    faults(served).lose_metrics_answers(from_request=3, seconds=1.5)
    with pytest.raises(StoreError, match="within 1 s"):
        served.write_metrics([batch], [table])
    assert 2 < len(served.read_scalars("r", "x")) < 10_000  # partly written
    time.sleep(0.6)  # the answers come back
    served.write_metrics([batch], [table])
    _exact(served, "r", "x", 10_000)
    assert [r.meta["i"] for r in served.read_records("r", "t")] == list(range(50))


def test_writer_one_by_one_after_a_refusal_does_not_resend_applied_batches(served, monkeypatch):
    """The background writer retries batch by batch after a 4xx: batches already applied are skipped."""
    monkeypatch.setattr(_http, "_REQUEST_BYTES", 40_000)
    _run(served, "ok")
    _run(served, "ended")
    served.set_run_status("ended", "Completed")
    good, bad = _auto("ok", "x", 3000), _auto("ended", "x", 10)
    with pytest.raises(Exception, match="already ended"):
        served.write_metrics([good, bad])
    served.write_metrics([good])
    with pytest.raises(Exception, match="already ended"):
        served.write_metrics([bad])
    _exact(served, "ok", "x", 3000)
    served.write_metrics([good])  # after a successful call, the same objects are new points again
    assert len(served.read_scalars("ok", "x")) == 6000


def test_create_run_and_end_run_survive_lost_responses(served):
    exp = served.get_or_create_experiment("e")
    faults(served).drops[f"/api/v1/experiments/{exp.id}/runs"] = 1
    info = served.create_run(exp.id, run_id="r", display_name="r", start_time=123.0)
    assert info.id == "r" and info.start_time == 123.0
    faults(served).drops["/api/v1/runs/r/status"] = 1
    assert served.set_run_status("r", "Completed", end_time=200.0).end_time == 200.0


@pytest.mark.slow  # kept out of the quick loop: waits out timeouts and retries on purpose
def test_background_writer_with_lost_responses_and_failures(served):
    exp = Experiment("e", store=served)
    run = exp.start_logging("r")
    faults(served).drops["/api/v1/metrics"] = 2
    for i in range(30_000):
        run.log("x", float(i))
    run.flush(timeout=30)
    faults(served).failures = [503, 502, 500]
    for i in range(30_000, 60_000):
        run.log("x", float(i))
    run.complete()
    _exact(served, run.id, "x", 60_000)


# -- retries and timeouts --------------------------------------------------------
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retries_transient_statuses(served, status):
    faults(served).failures = [status, status]
    faults(served).retry_after = "0"
    assert served.get_or_create_experiment("e").name == "e"
    assert len(faults(served).seen) == 3


@pytest.mark.slow  # kept out of the quick loop: waits out timeouts and retries on purpose
def test_a_failing_server_gives_store_error_after_the_timeout(served):
    served.timeout = 1.0
    faults(served).down = True
    started = time.monotonic()
    with pytest.raises(StoreError, match="no answer"):
        served.list_experiments()
    assert 0.9 < time.monotonic() - started < 3.0
    assert len(faults(served).seen) >= 3  # it retried with backoff before giving up


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_nothing_listening_gives_store_error_quickly():
    store = HttpStore(f"http://127.0.0.1:{_free_port()}", timeout=1.5)
    started = time.monotonic()
    with pytest.raises(StoreError, match="within 2 s|within 1 s"):
        store.get_run("r")
    assert time.monotonic() - started < 3.0


@pytest.mark.slow  # kept out of the quick loop: waits out timeouts and retries on purpose
def test_a_server_that_never_answers_gives_store_error_not_a_hang():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # accepts connections into the backlog, never answers
        store = HttpStore(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=1.5)
        started = time.monotonic()
        with pytest.raises(StoreError):
            store.list_experiments()
        assert time.monotonic() - started < 4.0


@pytest.mark.slow  # kept out of the quick loop: waits out timeouts and retries on purpose
def test_writer_keeps_points_while_the_server_fails(served):
    served.timeout = 0.5
    exp = Experiment("e", store=served)
    run = exp.start_logging("r")
    faults(served).down = True
    for i in range(20_000):
        run.log("x", float(i))
    with pytest.raises(StoreError):
        run.flush(timeout=2)
    faults(served).down = False
    run.flush(timeout=30)
    run.complete()
    _exact(served, run.id, "x", 20_000)


# -- wire format -----------------------------------------------------------------
def test_points_travel_as_base64_not_json_lists(served):
    _run(served)
    served.write_metrics([_auto("r", "x", 100_000)])
    sizes = [n for m, p, n in faults(served).seen if p == "/api/v1/metrics"]
    assert len(sizes) == 1 and sizes[0] < 100_000 * 33  # 24 raw bytes per point, 32 once base64
    _exact(served, "r", "x", 100_000)


def test_big_batches_are_split_into_requests_in_order(served, monkeypatch):
    monkeypatch.setattr(_http, "_REQUEST_BYTES", 100_000)
    _run(served)
    served.write_metrics([_auto("r", "x", 30_000), _auto("r", "y", 10)])
    assert sum(p == "/api/v1/metrics" for _, p, _ in faults(served).seen) > 5
    _exact(served, "r", "x", 30_000)
    _exact(served, "r", "y", 10)


def test_token_defaults_to_the_environment(served, monkeypatch):
    monkeypatch.setenv("RUNHISTORY_TOKEN", TOKEN)
    store = HttpStore(served.uri)
    assert store.list_experiments() == []
    store.close()


# -- a real server process killed and restarted ----------------------------------
_SERVER = """
import os, sys
kind, target, port, crash_after = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "postgresql":
    from tb_runhistory_plugin.store._postgres import PostgresStore
    store = PostgresStore(target)
else:
    from tb_runhistory_plugin.store import SQLiteStore
    store = SQLiteStore(target)
from tb_runhistory_plugin.server import RunHistoryApp
from werkzeug.serving import run_simple
app = RunHistoryApp(store, token=os.environ["RUNHISTORY_TOKEN"])
writes = [0]

def crashing(environ, start_response):
    # With crash_after=N, the N-th write of points commits, then the process dies before answering.
    if environ["PATH_INFO"] == "/api/v1/metrics":
        writes[0] += 1
        if writes[0] == crash_after:
            for _ in app(environ, lambda *a, **k: None):
                pass
            os._exit(17)
    return app(environ, start_response)

run_simple("127.0.0.1", port, crashing, threaded=True)
"""


def _start_server(tmp_path, kind, target, port, crash_after=0):
    script = tmp_path / "server.py"
    script.write_text(_SERVER)
    proc = subprocess.Popen(
        [sys.executable, str(script), kind, target, str(port), str(crash_after)],
        env={**os.environ, "RUNHISTORY_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


def _backing(kind, tmp_path):
    if kind == "postgresql":
        require_postgres()
        url, schema = new_schema_url()
        return url, lambda: drop_schema(schema)
    return str(tmp_path / "store"), lambda: None


@pytest.mark.slow  # kept out of the quick loop (-m 'not slow'): seconds of waiting
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_kill_and_restart_the_server_mid_run(tmp_path, kind):
    """The server dies right after committing a batch (its answer lost), later is killed outright;
    each time it comes back, the writer retries: nothing lost, nothing duplicated."""
    target, cleanup = _backing(kind, tmp_path)
    port = _free_port()
    proc = _start_server(tmp_path, kind, target, port, crash_after=2)
    store = HttpStore(f"http://127.0.0.1:{port}", token=TOKEN, timeout=2)
    try:
        run = Experiment("restarts", store=store).start_logging("r")
        total, restarts = 120_000, 0
        for i in range(total):
            run.log("loss", float(i))
            run.log("acc", float(i))
            if i % 10_000 == 9_999:
                try:
                    run.flush(timeout=3)  # one write of points per block: the second one crashes the server
                except StoreError:
                    pass  # the server is down; the writer keeps the points
                if proc.poll() is not None:  # it crashed after a commit: bring it back
                    proc = _start_server(tmp_path, kind, target, port)
                    restarts += 1
            if i == 70_000:
                proc.kill()  # and once more without warning
                proc.wait()
                time.sleep(1.0)
                proc = _start_server(tmp_path, kind, target, port)
                restarts += 1
        run.flush(timeout=120)
        run.complete()
        assert restarts == 2
        for name in ("loss", "acc"):
            _exact(store, run.id, name, total)
    finally:
        store.close()
        proc.kill()
        proc.wait()
        cleanup()
