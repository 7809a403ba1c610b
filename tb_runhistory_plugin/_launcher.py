"""``Tensorboard``: serve runs in TensorBoard with one call, kept in sync while they are live.

Design: TensorBoard runs as a managed child process (``python -m tb_runhistory_plugin._launcher``)
that starts ``tensorboard.program.TensorBoard`` with a captured werkzeug server, writes the URL it
bound (so ``port=0`` works and nothing is scraped from a pipe) into a status file, then serves
until its stdin closes. ``stop()`` closes that pipe: the child shuts its server down and exits,
and TensorBoard's Rust data server, which dies when its own stdin closes, follows; the launcher
waits for both (and kills what is left after a grace period), so the port is free and no process
or thread remains when ``stop()`` returns. If the Python process dies, the pipe closes too.
A child process keeps TensorBoard's threads, gRPC channel and global state out of the caller's
process, which is what makes a clean, repeatable stop possible.

Sync: ``start()`` exports the given runs and all their descendants into ``local_root`` (and
mirrors each run's own event-file folder), then a background thread repeats that incremental
export every ``sync_interval`` seconds while any of those runs is live, and stops by itself when
all have ended (an ended run gets no new children); given an Experiment, it follows it until
``stop()``, since new runs may start in it. ``stop()`` does one last sync. The Run History tab is pointed at the same store
(``--runhistory_store``) when its TensorBoard plugin is installed.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any, Self

import psutil

from . import _portal
from ._experiment import Experiment
from ._run import Run
from .errors import ConflictError, InvalidArgumentError, RunHistoryError
from .store import resolve_store

logger = logging.getLogger(__name__)

PLUGIN_ENTRY_POINT = "runhistory"  # name in the `tensorboard_plugins` entry-point group
_STORE_FLAG = "--runhistory_store"
TOKEN_ENV = "RUNHISTORY_TOKEN"  # what HttpStore reads when given no token
_POLL = 0.05  # seconds between checks while waiting for the child
_STOP_GRACE = 10.0  # seconds the child gets to exit after its stdin closes
_LOG_TAIL = 4000  # characters of the child's output quoted in a start-up error


def plugin_installed() -> bool:
    """Whether the Run History TensorBoard plugin's entry point is installed."""
    from importlib.metadata import entry_points

    return any(ep.name == PLUGIN_ENTRY_POINT for ep in entry_points(group="tensorboard_plugins"))


def _check_port_free(host: str, port: int) -> None:
    """Raise ConflictError if something already listens on (host, port)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InvalidArgumentError(f"cannot resolve host {host!r}: {exc}") from None
    if not infos:
        return
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConflictError(f"port {port} on {host} is already in use (another TensorBoard?); pass another port, or port=0 for a free one") from None
            # Anything else (no IPv6, a privileged port) TensorBoard reports itself, in its words.


def _descendants(pid: int) -> list[psutil.Process]:
    """Every live process below ``pid``; psutil remembers each one's start time, so a reused pid is never mistaken for it."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class Tensorboard:
    """A TensorBoard serving ``local_root``, kept in sync with runs while they are live.

    ``with Tensorboard([run]) as tb: print(tb.url)``; ``Tensorboard([], local_root=d)`` just
    serves ``d``.
    """

    def __init__(
        self,
        runs: Any = (),
        local_root: str | os.PathLike[str] | None = None,
        port: int = 6006,
        *,
        host: str = "127.0.0.1",
        store: Any = None,
        sync_interval: float = 2.0,
        reload_interval: int = 2,
        tensorboard_args: Sequence[str] = (),
        startup_timeout: float = 90.0,
    ) -> None:
        """Configure; nothing starts before start().

        Args:
            runs: a Run, an Experiment, run ids (with ``store``), or a list of them; each is
                followed with all its descendants.
            local_root: TensorBoard's logdir; a temporary directory (removed by stop) when None.
            port: the port to serve on; 0 picks a free one.
            host: the interface to bind.
            store: the store of run ids and of the Run History tab (default: the runs' store).
            sync_interval: seconds between syncs while a run is live.
            reload_interval: TensorBoard's ``--reload_interval`` (whole seconds).
            tensorboard_args: more ``tensorboard`` flags, e.g. ``["--samples_per_plugin", "scalars=10000"]``.
            startup_timeout: seconds to wait for TensorBoard to serve.

        Raises:
            InvalidArgumentError: a bad port, interval or argument.
        """
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidArgumentError(f"port must be an int in 0..65535, got {port!r}")
        if not sync_interval > 0:
            raise InvalidArgumentError(f"sync_interval must be positive, got {sync_interval!r}")
        if isinstance(tensorboard_args, str):
            raise InvalidArgumentError("tensorboard_args must be a list of arguments, not a string")
        self.runs = runs
        self.port, self.host, self.store = port, host, store
        self.sync_interval = float(sync_interval)
        self.reload_interval = max(1, int(reload_interval))
        self.tensorboard_args = [str(a) for a in tensorboard_args]
        self.startup_timeout = startup_timeout
        self._root_arg = None if local_root is None else os.path.abspath(os.fspath(local_root))
        self.local_root: str | None = self._root_arg
        self.url: str | None = None
        self.last_error: BaseException | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._children: list[psutil.Process] = []
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        self._temp_root = False
        self._log_path: str | None = None
        self._status_dir: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, start_browser: bool = False) -> str:
        """Sync, start TensorBoard and the sync thread; returns the URL (the same one if started already).

        Raises:
            ConflictError: the port is already in use.
            InvalidArgumentError: local_root is a file or not writable, or a bad run or argument.
            NotFoundError: a run id that is not in the store.
            RunHistoryError: TensorBoard did not start (its output is quoted).
        """
        with self._lock:
            if self.url is not None:
                return self.url
            _check_port_free(self.host, self.port)
            if self._root_arg is None:
                self.local_root = tempfile.mkdtemp(prefix="tb-runhistory-")
                self._temp_root = True
            else:
                self.local_root = self._root_arg
                if os.path.exists(self.local_root) and not os.path.isdir(self.local_root):
                    raise InvalidArgumentError(f"local_root {self.local_root!r} is a file, not a directory")
                try:
                    os.makedirs(self.local_root, exist_ok=True)
                except OSError as exc:
                    raise InvalidArgumentError(f"cannot create local_root {self.local_root!r}: {exc.strerror or exc}") from None
            try:
                live = self.sync() if self._has_runs() else 0
                url = self._launch()
            except BaseException:
                self._cleanup_files()
                raise
            atexit.register(self.stop)
            store = self._store_obj()
            _portal.serving(store.uri if store is not None else None, url)  # Run.get_portal_url() points here
            if live or self._follows_experiment():
                self._stop_event.clear()
                self._thread = threading.Thread(target=self._loop, name="tb-runhistory-sync", daemon=True)
                self._thread.start()
        if start_browser:
            import webbrowser

            with contextlib.suppress(Exception):
                webbrowser.open(url)
        return url

    def stop(self) -> None:
        """Final sync, then stop the sync thread and TensorBoard and free the port; safe to call twice."""
        with self._lock:
            if self.url is None and self._proc is None and self._thread is None:
                return
            self._stop_event.set()
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if self._has_runs():
                try:
                    self.sync()
                except Exception as exc:  # noqa: BLE001 - stopping must not fail on a sync error
                    self.last_error = exc
                    logger.warning("final sync of %s failed: %s", self.local_root, exc)
            self._terminate()
            self._cleanup_files()
            if self.url is not None:
                _portal.stopped(self.url)
            self.url = None
            atexit.unregister(self.stop)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The TensorBoard child process id while serving."""
        return self._proc.pid if self._proc is not None else None

    # -- sync ----------------------------------------------------------------------------------
    def _has_runs(self) -> bool:
        runs = self.runs
        return runs is not None and not (isinstance(runs, (list, tuple, set, frozenset)) and not runs)

    def sync(self) -> int:
        """Export what is new now; returns how many of the followed runs are still live."""
        from .export import export_to_tensorboard  # protobuf and the writers load on first use

        if self.local_root is None:
            raise InvalidArgumentError("sync() needs a local_root: give one, or call start() first")
        with self._sync_lock:
            report = export_to_tensorboard(self.runs, self.local_root, store=self.store, progress=None)
        return report.live_runs

    def _follows_experiment(self) -> bool:
        items = self.runs if isinstance(self.runs, (list, tuple, set, frozenset)) else [self.runs]
        return any(isinstance(item, Experiment) for item in items)

    def _loop(self) -> None:
        forever = self._follows_experiment()  # an experiment may start new runs at any time
        while not self._stop_event.wait(self.sync_interval):
            try:
                if self.sync() == 0 and not forever:
                    return  # every run ended, and an ended run gets no new children
            except Exception as exc:  # noqa: BLE001 - keep following; the error stays visible
                self.last_error = exc
                logger.warning("syncing %s failed: %s", self.local_root, exc)

    # -- the child process ---------------------------------------------------------------------
    def _store_obj(self) -> Any:
        if self.store is not None:
            return resolve_store(self.store)
        items = self.runs if isinstance(self.runs, (list, tuple, set, frozenset)) else [self.runs]
        for item in items:
            if isinstance(item, Run):
                return item._store
            if isinstance(item, Experiment):
                return item.store
        return None

    def _launch(self) -> str:
        assert self.local_root is not None  # start() sets it first
        self._status_dir = tempfile.mkdtemp(prefix="tb-runhistory-launch-")
        status = os.path.join(self._status_dir, "status.json")
        self._log_path = os.path.join(self._status_dir, "tensorboard.log")
        args = ["--logdir", self.local_root, "--host", self.host, "--port", str(self.port), "--reload_interval", str(self.reload_interval)]
        store = self._store_obj()
        env = dict(os.environ)
        if store is not None and plugin_installed():
            args += [_STORE_FLAG, store.uri]
            # A server's token goes through the environment, never the command line (ps shows that).
            if getattr(store, "token", None):
                env[TOKEN_ENV] = store.token
        args += self.tensorboard_args
        with open(self._log_path, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tb_runhistory_plugin._launcher", status, *args],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                close_fds=True,
                env=env,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if os.path.exists(status):
                with open(status, encoding="utf-8") as handle:
                    result = json.load(handle)
                break
            if self._proc.poll() is not None or time.monotonic() > deadline:
                result = {
                    "error": f"TensorBoard exited with code {self._proc.poll()}"
                    if self._proc.poll() is not None
                    else f"TensorBoard did not start within {self.startup_timeout:g} s"
                }
                break
            time.sleep(_POLL)
        if "url" not in result:
            output = self._log_tail()
            self._terminate()
            if result.get("port_in_use"):
                raise ConflictError(f"port {self.port} on {self.host} is already in use (another TensorBoard?); pass another port, or port=0 for a free one")
            raise RunHistoryError(f"TensorBoard did not start: {result.get('error')}\n{output}".rstrip())
        url: str = result["url"]
        self.url = url
        self._children = _descendants(self._proc.pid)
        return url

    def _log_tail(self) -> str:
        path = self._log_path
        if path is None:
            return ""
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("utf-8", "replace")[-_LOG_TAIL:]
        except (OSError, TypeError):
            return ""

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        children = self._children or _descendants(proc.pid)
        with contextlib.suppress(OSError):
            if proc.stdin is not None:  # always a pipe here
                proc.stdin.close()
        for child in children:  # the Rust data server would only notice its closed stdin later
            if _alive(child):
                with contextlib.suppress(psutil.Error):
                    child.terminate()
        try:
            proc.wait(_STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        deadline = time.monotonic() + _STOP_GRACE
        for child in children:  # the Rust data server exits once its stdin pipe closes
            while _alive(child) and time.monotonic() < deadline:
                time.sleep(_POLL)
            if _alive(child):
                with contextlib.suppress(psutil.Error):
                    child.kill()
        self._children = []

    def _cleanup_files(self) -> None:
        if self._status_dir is not None:
            shutil.rmtree(self._status_dir, ignore_errors=True)
            self._status_dir = None
        if self._temp_root and self.local_root is not None:
            shutil.rmtree(self.local_root, ignore_errors=True)
            self._temp_root = False

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.url else "stopped"
        return f"Tensorboard(local_root={self.local_root!r}, {state})"


# -- the child ---------------------------------------------------------------------------------


def _write_status(path: str, data: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def _reap_children() -> None:
    """Stop and wait for this process's children (the data server), so none outlives it as a zombie."""
    children = [child.pid for child in _descendants(os.getpid())]
    for pid in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(_POLL / 5)
    for pid in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _serve(argv: Sequence[str]) -> int:
    """Child process: serve TensorBoard until stdin closes; report the URL or the error in a file."""
    status, args = argv[0], list(argv[1:])
    from tensorboard import default, program

    servers: list[Any] = []

    def factory(app: Any, flags: Any) -> Any:
        server = program.create_port_scanning_werkzeug_server(app, flags)
        servers.append(server)
        return server

    tensorboard = program.TensorBoard(plugins=default.get_plugins(), server_class=factory)
    try:
        tensorboard.configure(argv=[None, *args])
        url = tensorboard.launch()
    except SystemExit as exc:
        _write_status(status, {"error": f"bad tensorboard arguments {args!r} (exit code {exc.code})"})
        return 2
    except program.TensorBoardPortInUseError as exc:
        _write_status(status, {"error": exc.msg, "port_in_use": True})
        return 1
    except program.TensorBoardServerException as exc:
        _write_status(status, {"error": exc.msg})
        return 1
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        _write_status(status, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    _write_status(status, {"url": url, "pid": os.getpid()})
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()  # returns when the parent closes the pipe, or dies
    for server in servers:
        server.shutdown()
        server.server_close()
    handle = getattr(getattr(tensorboard, "_ingester", None), "_stdin_handle", None)
    if handle is not None:  # the Rust data server exits when this pipe closes
        with contextlib.suppress(OSError):
            handle.close()
    _reap_children()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # TensorBoard's daemon threads and gRPC channel need no orderly teardown


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1:]))
