"""The run-history REST server: the store protocol as a werkzeug WSGI app (documented in openapi.yaml).

Each route parses its request, calls the store and hands plain data to one JSON responder;
typed errors become JSON error responses in one place (`_error_response`).
"""

from __future__ import annotations

import collections
import hmac
import inspect
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .._validate import check_experiment_name, check_file_name, check_name
from ..errors import InvalidArgumentError, QueryError, RunHistoryError
from ..store import Store, open_store, wire
from . import _parse as parse

log = logging.getLogger(__name__)

TOKEN_ENV = wire.TOKEN_ENV
MAX_REQUEST_BYTES = 64 << 20  # bytes of one request body (write batches and files)
_RECENT_BATCHES = 100_000  # batch ids remembered in memory when the store cannot persist them
_BATCH_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

# (method, path, endpoint); openapi.yaml documents exactly these (a test checks it).
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/health", "health"),
    ("GET", "/api/v1/experiments", "list_experiments"),
    ("POST", "/api/v1/experiments", "get_or_create_experiment"),
    ("GET", "/api/v1/experiments/<name_or_id>", "get_experiment"),
    ("GET", "/api/v1/experiments/<experiment_id>/runs", "list_runs"),
    ("POST", "/api/v1/experiments/<experiment_id>/runs", "create_run"),
    ("GET", "/api/v1/experiments/<experiment_id>/runs/count", "count_runs"),
    ("POST", "/api/v1/experiments/<experiment_id>/runs/batch", "create_runs"),
    ("GET", "/api/v1/runs/<run_id>", "get_run"),
    ("GET", "/api/v1/runs/<run_id>/descendants", "list_descendants"),
    ("POST", "/api/v1/runs/<run_id>/status", "set_run_status"),
    ("POST", "/api/v1/heartbeats", "heartbeat"),
    ("POST", "/api/v1/runs/<run_id>/logs-dir", "set_logs_dir"),
    ("POST", "/api/v1/runs/<run_id>/tags", "set_tags"),
    ("POST", "/api/v1/runs/<run_id>/tags/remove", "remove_tags"),
    ("POST", "/api/v1/runs/<run_id>/properties", "add_properties"),
    ("POST", "/api/v1/runs/<run_id>/params", "add_params"),
    ("POST", "/api/v1/metrics", "write_metrics"),
    ("GET", "/api/v1/runs/<run_id>/metrics", "list_metrics"),
    ("POST", "/api/v1/last-values", "last_values"),
    ("GET", "/api/v1/runs/<run_id>/scalars", "read_scalars"),
    ("GET", "/api/v1/runs/<run_id>/summaries", "read_summaries"),
    ("GET", "/api/v1/runs/<run_id>/records", "read_records"),
    ("GET", "/api/v1/runs/<run_id>/files", "list_files"),
    ("PUT", "/api/v1/runs/<run_id>/files/<path:name>", "put_file"),
    ("GET", "/api/v1/runs/<run_id>/files/<path:name>", "read_file"),
]


class _RecentBatches:
    """Batch ids applied by this process, for stores without `write_metrics(batch_id=)`.

    Bounded and lost on restart, which is why stores that take batch ids are preferred.
    """

    def __init__(self, size: int = _RECENT_BATCHES) -> None:
        self._done: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._busy: set[str] = set()
        self._cond = threading.Condition()
        self._size = size

    def run_once(self, batch_id: str, fn: Callable[[], None]) -> None:
        """Run fn unless batch_id already ran; a concurrent duplicate waits for the first."""
        with self._cond:
            while batch_id in self._busy:
                self._cond.wait()
            if batch_id in self._done:
                return
            self._busy.add(batch_id)
        try:
            fn()
            with self._cond:
                self._done[batch_id] = None
                while len(self._done) > self._size:
                    self._done.popitem(last=False)
        finally:
            with self._cond:
                self._busy.discard(batch_id)
                self._cond.notify_all()


class RunHistoryApp:
    """WSGI app serving one store; with a token, every /api request needs `Authorization: Bearer <token>`."""

    def __init__(self, store: Store, *, token: str | None = None, max_request_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.store = store
        self._token = token.encode() if token else None
        self.max_request_bytes = max_request_bytes
        # No slash merging or redirects: a file name such as "a//b" must reach the name check, not be rewritten.
        self.url_map = Map([Rule(path, methods=[method], endpoint=endpoint) for method, path, endpoint in ROUTES], strict_slashes=False, merge_slashes=False)
        self._persistent_batches = "batch_id" in inspect.signature(store.write_metrics).parameters
        self._recent = _RecentBatches()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except RunHistoryError as exc:
            where = {"line": exc.line, "column": exc.column, "token": exc.token} if isinstance(exc, QueryError) else {}
            response = _error_response(exc.status, type(exc).__name__, str(exc), **where)
        except RequestEntityTooLarge:
            response = _error_response(413, "PayloadTooLargeError", f"request body over the limit of {self.max_request_bytes} bytes")
        except HTTPException as exc:
            response = _error_response(exc.code or 500, type(exc).__name__, exc.description or exc.name)
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
        except Exception:  # noqa: BLE001 - any bug becomes a JSON 500, with the traceback in the log
            log.exception("run history server: %s %s failed", request.method, request.path)
            response = _error_response(500, "InternalError", "internal server error; see the server log")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith("/api/") and not self._authorized(request):
            response = _error_response(401, "Unauthorized", "missing or wrong bearer token")
            response.headers["WWW-Authenticate"] = 'Bearer realm="tb-runhistory"'
            return response
        if request.content_length is not None and request.content_length > self.max_request_bytes:
            raise RequestEntityTooLarge()
        endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        return getattr(self, f"_{endpoint}")(request, **args)

    def _data(self, request: Request) -> bytes:
        """The request body, at most max_request_bytes (413 beyond, also for chunked bodies)."""
        if request.content_length is not None:
            return request.get_data(cache=True)  # its declared length was checked in _dispatch
        if not request.environ.get("wsgi.input_terminated"):
            return b""  # chunked without a server that ends the stream: unreadable (as werkzeug does)
        cached = request.environ.get("runhistory.body")
        if cached is None:
            cached = request.environ["wsgi.input"].read(self.max_request_bytes + 1)
            if len(cached) > self.max_request_bytes:
                raise RequestEntityTooLarge()
            request.environ["runhistory.body"] = cached
        return cached

    def _body(self, request: Request) -> dict[str, Any]:
        """The JSON object a request carries; 400 for anything else."""
        body = parse.parse_json(self._data(request) or b"{}", "request body")
        if not isinstance(body, dict):
            raise InvalidArgumentError(f"request body must be a JSON object, got {type(body).__name__}")
        return body

    def _authorized(self, request: Request) -> bool:
        if self._token is None:
            return True
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # Constant-time, so response timing tells nothing about how much of a guess was right.
        return hmac.compare_digest(given.strip().encode(), self._token) and scheme.lower() == "bearer"

    # -- routes: parse (as the Python API checks its arguments), call the store, respond --
    def _health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    def _list_experiments(self, request: Request) -> Response:
        return _json([wire.info_json(e) for e in self.store.list_experiments()])

    def _get_or_create_experiment(self, request: Request) -> Response:
        body = self._body(request)
        return _json(wire.info_json(self.store.get_or_create_experiment(check_experiment_name(body.get("name")))))

    def _get_experiment(self, request: Request, name_or_id: str) -> Response:
        return _json(wire.info_json(self.store.get_experiment(check_name(name_or_id, "experiment name or id"))))

    def _list_runs(self, request: Request, experiment_id: str) -> Response:
        check_name(experiment_id, "experiment id")
        limit, offset = parse.int_arg(request.args, "limit", None), parse.int_arg(request.args, "offset", 0)
        runs = self.store.list_runs(experiment_id, parse.run_filter(request.args), limit=limit, offset=offset)
        return _json([wire.info_json(r) for r in runs])

    def _count_runs(self, request: Request, experiment_id: str) -> Response:
        check_name(experiment_id, "experiment id")
        return _json({"count": self.store.count_runs(experiment_id, parse.run_filter(request.args))})

    def _create_run(self, request: Request, experiment_id: str) -> Response:
        check_name(experiment_id, "experiment id")
        new = parse.new_run(self._body(request))
        info = self.store.create_run(
            experiment_id,
            run_id=new.run_id,
            display_name=new.display_name,
            parent_id=new.parent_id,
            description=new.description,
            tags=new.tags,
            properties=new.properties,
            start_time=new.start_time,
            logs_dir=new.logs_dir,
            run_type=new.run_type,
        )
        return _json(wire.info_json(info), status=201)

    def _create_runs(self, request: Request, experiment_id: str) -> Response:
        check_name(experiment_id, "experiment id")
        infos = self.store.create_runs(experiment_id, parse.new_runs(self._body(request)))
        return _json([wire.info_json(info) for info in infos], status=201)

    def _get_run(self, request: Request, run_id: str) -> Response:
        return _json(wire.info_json(self.store.get_run(check_name(run_id, "run id"))))

    def _list_descendants(self, request: Request, run_id: str) -> Response:
        return _json([wire.info_json(r) for r in self.store.list_descendants(check_name(run_id, "run id"))])

    def _set_run_status(self, request: Request, run_id: str) -> Response:
        check_name(run_id, "run id")
        body = self._body(request)
        info = self.store.set_run_status(
            run_id,
            parse.ending_status(body.get("status")),
            end_time=parse.number(body.get("end_time"), "end_time", optional=True),
            error=parse.any_text(body.get("error"), "error"),
            traceback=parse.any_text(body.get("traceback"), "traceback"),
            error_code=parse.name(body, "error_code", "error code", optional=True),
        )
        return _json(wire.info_json(info))

    def _heartbeat(self, request: Request) -> Response:
        body = self._body(request)
        self.store.heartbeat(parse.names(body, "run_ids", "run id"), parse.number(body.get("time"), "time"))
        return _json({})

    def _set_logs_dir(self, request: Request, run_id: str) -> Response:
        check_name(run_id, "run id")
        self.store.set_logs_dir(run_id, parse.logs_dir(self._body(request).get("logs_dir")))
        return _json({})

    def _set_tags(self, request: Request, run_id: str) -> Response:
        check_name(run_id, "run id")
        self.store.set_tags(run_id, parse.tags(self._body(request).get("tags")))
        return _json({})

    def _remove_tags(self, request: Request, run_id: str) -> Response:
        check_name(run_id, "run id")
        self.store.remove_tags(run_id, parse.names(self._body(request), "keys", "tag name"))
        return _json({})

    def _add_properties(self, request: Request, run_id: str) -> Response:
        check_name(run_id, "run id")
        self.store.add_properties(run_id, parse.properties(self._body(request).get("properties")))
        return _json({})

    def _add_params(self, request: Request, run_id: str) -> Response:
        check_name(run_id, "run id")
        self.store.add_params(run_id, parse.params(self._body(request).get("params")))
        return _json({})

    def _write_metrics(self, request: Request) -> Response:
        body = self._body(request)
        given_scalars, given_records = body.get("scalars", []), body.get("records", [])
        if not isinstance(given_scalars, list) or not isinstance(given_records, list):
            raise InvalidArgumentError("'scalars' and 'records' must be lists of batches")
        try:
            scalars = [parse.scalar_batch(b) for b in given_scalars]
            records = [parse.record_batch(b) for b in given_records]
        except RunHistoryError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidArgumentError(f"malformed metrics batch: {type(exc).__name__}: {exc}") from exc
        batch_id = request.headers.get(wire.IDEMPOTENCY_HEADER)
        if batch_id is None:
            self.store.write_metrics(scalars, records)
        elif not _BATCH_ID.fullmatch(batch_id):
            raise InvalidArgumentError(f"{wire.IDEMPOTENCY_HEADER} must be 1-128 letters, digits or '._:-', got {batch_id[:140]!r}")
        elif self._persistent_batches:
            self.store.write_metrics(scalars, records, batch_id=batch_id)
        else:
            self._recent.run_once(batch_id, lambda: self.store.write_metrics(scalars, records))
        points = sum(len(b.steps) for b in scalars) + sum(len(b.records) for b in records)
        return _json({"points": points})

    def _list_metrics(self, request: Request, run_id: str) -> Response:
        return _json([wire.info_json(m) for m in self.store.list_metrics(check_name(run_id, "run id"))])

    def _last_values(self, request: Request) -> Response:
        found = self.store.last_values(parse.names(self._body(request), "run_ids", "run id"))
        return _json({run_id: [wire.info_json(m) for m in infos] for run_id, infos in found.items()})

    def _read_scalars(self, request: Request, run_id: str) -> Response:
        start, stop = parse.position_arg(request.args, "start", 0), parse.position_arg(request.args, "stop", None)
        history = self.store.read_scalars(check_name(run_id, "run id"), _name_arg(request), start=start, stop=stop)
        return _json(wire.history_json(history))

    def _read_summaries(self, request: Request, run_id: str) -> Response:
        return _json(wire.summaries_json(self.store.read_summaries(check_name(run_id, "run id"), _name_arg(request))))

    def _read_records(self, request: Request, run_id: str) -> Response:
        start, stop = parse.position_arg(request.args, "start", 0), parse.position_arg(request.args, "stop", None)
        records = self.store.read_records(check_name(run_id, "run id"), _name_arg(request), start=start, stop=stop)
        return _json([wire.record_json(r) for r in records])

    def _list_files(self, request: Request, run_id: str) -> Response:
        return _json([wire.info_json(f) for f in self.store.list_files(check_name(run_id, "run id"))])

    def _put_file(self, request: Request, run_id: str, name: str) -> Response:
        check_name(run_id, "run id")
        check_file_name(name)  # no '..', absolute or empty parts, whatever the store does with names
        info = self.store.put_file(run_id, name, self._data(request))
        return _json(wire.info_json(info), status=201)

    def _read_file(self, request: Request, run_id: str, name: str) -> Response:
        check_name(run_id, "run id")
        check_file_name(name)
        response = Response(self.store.read_file(run_id, name), mimetype="application/octet-stream")
        response.headers["Content-Disposition"] = "attachment"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _name_arg(request: Request) -> str:
    name = request.args.get("name")
    if not name:
        raise InvalidArgumentError("query parameter 'name' (the metric name) is required")
    return check_name(name, "metric name")


# -- responses -----------------------------------------------------------------
def _json(data: Any, *, status: int = 200) -> Response:
    # NaN and Infinity stay literals (as Python's json writes them): metric values may be either.
    response = Response(json.dumps(data, separators=(",", ":")), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _error_response(status: int, kind: str, message: str, **extra: Any) -> Response:
    return _json({"error": {"status": status, "type": kind, "message": message, **extra}}, status=status)


def create_app(store: Store | str | None = None, *, token: str | None = None, max_request_bytes: int = MAX_REQUEST_BYTES) -> RunHistoryApp:
    """The WSGI app for a store (None: $RUNHISTORY_STORE); token None reads $RUNHISTORY_TOKEN, "" turns auth off.

    For production WSGI servers, e.g. `waitress-serve --call tb_runhistory_plugin.server:create_app`
    or `gunicorn 'tb_runhistory_plugin.server:create_app()'` with both variables set.
    """
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    return RunHistoryApp(open_store(store), token=token or None, max_request_bytes=max_request_bytes)


__all__ = ["MAX_REQUEST_BYTES", "ROUTES", "RunHistoryApp", "create_app"]
