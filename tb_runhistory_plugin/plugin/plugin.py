"""The Run History TensorBoard plugin: routes under /data/plugin/runhistory/.

Each route parses its query (`_params`), calls an `*_impl` that returns plain data (`_views`,
`_series`, `_records`) and hands it to the one JSON responder (`_respond`). Typed errors become
400/404/409/503 JSON `{"error": ...}`; anything unexpected is logged and answered with a 500 JSON
body without a traceback. Routes are read-only: GET (and HEAD); other methods get 405.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from .. import _assets
from .._filter import RunFilter
from .._validate import check_name, check_tag_value
from ..errors import InvalidArgumentError, NotFoundError, QueryError, RunHistoryError
from ..store import STORE_ENV, Store
from . import _static
from . import downsample as ds
from ._changes import changes_route
from ._charts import chart_impl
from ._discovery import Candidate, StoreRef, candidates, local_path
from ._download import CONTENT_TYPES as DOWNLOAD_TYPES
from ._download import FORMATS, file_impl, plan_download
from ._params import Params
from ._records import DEFAULT_HISTOGRAMS, DEFAULT_TABLE, MAX_HISTOGRAMS, MAX_TABLE, histograms_impl, image_impl, images_impl, table_impl
from ._respond import respond_bytes, respond_error, respond_json
from ._series import DEFAULT_RAW, MAX_RAW, compare_impl, raw_impl, series_impl
from ._views import ALL_RUNS, DEFAULT_PAGE, DEFAULT_SWEEP, MAX_PAGE, MAX_SWEEP, experiments_impl, run_impl, runs_impl, sweep_impl
from .metadata import ES_MODULE_PATH, PLUGIN_NAME, STORE_FLAG, TAB_NAME

logger = logging.getLogger(__name__)

_ROUTE_PREFIX = f"/data/plugin/{PLUGIN_NAME}/"
_METHODS = ("GET", "HEAD")


_READ_AHEAD = 1 << 20  # bytes of a download read before the first byte is sent


def _read_ahead(pieces, size: int) -> list[bytes]:
    """The first pieces of a body, about `size` bytes (all of a small one); errors raise here, before any byte."""
    head: list[bytes] = []
    total = 0
    for piece in pieces:
        head.append(piece)
        total += len(piece)
        if total >= size:
            break
    return head


class _NoStore(Exception):
    """There is no store yet (an empty state, not an error of the request)."""


class RunHistoryPlugin(base_plugin.TBPlugin):
    """Serves experiments, runs and metrics from a run history store, read-only."""

    plugin_name = PLUGIN_NAME

    def __init__(self, context: base_plugin.TBContext, *, store: str | Store | None = None, frontend_dir: str | None = None) -> None:
        """Trivial on purpose: the store is found and opened on first use.

        Args:
            context: TensorBoard's context (flags and logdir say where the store is).
            store: a store or its location, overriding discovery (tests, embedding).
            frontend_dir: the folder of index.js (default: the bundled frontend).
        """
        self._context = context
        self._store_arg = store
        self._frontend_dir = frontend_dir
        self._ref: StoreRef | None = None
        self._ref_lock = threading.Lock()

    # -- TensorBoard hooks ---------------------------------------------------
    def get_plugin_apps(self) -> dict[str, Callable]:
        """Every route, wrapped with method checks and error handling."""
        routes = {
            "/experiments": self._experiments_route,
            "/runs": self._runs_route,
            "/run": self._run_route,
            "/series": self._series_route,
            "/compare": self._compare_route,
            "/sweep": self._sweep_route,
            "/table": self._table_route,
            "/images": self._images_route,
            "/image": self._image_route,
            "/histograms": self._histograms_route,
            "/chart": self._chart_route,
            "/download": self._download_route,
            "/file": self._file_route,
            "/changes": lambda request: changes_route(self, request),
            ES_MODULE_PATH: self._static_route,
            "/*": self._static_route,
        }
        return {path: self._wsgi(handler) for path, handler in routes.items()}

    def is_active(self) -> bool:
        """True when the store has at least one run (the logdir need not hold anything)."""
        try:
            store = self._store()
            return any(store.count_runs(exp.id) for exp in store.list_experiments())
        except _NoStore:
            return False
        except Exception:  # noqa: BLE001 - TensorBoard would log it as a failure of every listing
            logger.warning("runhistory: cannot tell whether the store has runs", exc_info=True)
            return False

    def data_plugin_names(self):
        """None: our data is not in the logdir, so is_active() decides."""
        return ()

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        """A dynamic ES-module frontend in its own tab."""
        return base_plugin.FrontendMetadata(es_module_path=ES_MODULE_PATH, tab_name=TAB_NAME, disable_reload=False)

    # -- the store -----------------------------------------------------------
    def _store_ref(self) -> StoreRef:
        with self._ref_lock:
            if self._ref is None:
                arg = self._store_arg
                if isinstance(arg, Store):
                    self._ref = StoreRef(store=arg)
                elif arg is not None:
                    self._ref = StoreRef([Candidate(arg, "the plugin's store argument", local_path(arg))])
                else:
                    flags = getattr(self._context, "flags", None)
                    logdir = getattr(flags, "logdir", None) or getattr(self._context, "logdir", None)
                    places = candidates(getattr(flags, STORE_FLAG, None), os.environ.get(STORE_ENV), logdir, os.getcwd())
                    self._ref = StoreRef(places)
            return self._ref

    def _store(self) -> Store:
        store = self._store_ref().get()
        if store is None:
            raise _NoStore()
        return store

    def _hint(self) -> str:
        return self._store_ref().hint()

    # -- plumbing ------------------------------------------------------------
    def _wsgi(self, handler: Callable[[Any], Any]) -> Callable:
        @wrappers.Request.application
        def app(request):
            if request.method not in _METHODS:
                return respond_error(request, 405, f"method {request.method} is not allowed: routes are read-only (GET)")
            try:
                return handler(request)
            except _NoStore:
                return respond_error(request, 404, "there is no run history store yet", hint=self._hint())
            except RunHistoryError as exc:
                status = exc.status if 400 <= exc.status < 600 else 500
                if status >= 500:
                    logger.error("runhistory %s: %s", request.path, exc)
                where = {"line": exc.line, "column": exc.column, "token": exc.token} if isinstance(exc, QueryError) else {}
                return respond_error(request, status, str(exc), **where)
            except Exception as exc:  # noqa: BLE001 - a route must never answer with a traceback
                logger.exception("runhistory %s failed", request.path)
                return respond_error(request, 500, f"internal error ({type(exc).__name__}); the TensorBoard log has the details")

        return app

    # -- routes --------------------------------------------------------------
    def _experiments_route(self, request):
        try:
            store = self._store()
        except _NoStore:
            return respond_json(request, {"experiments": [], "store": self._store_ref().describe(), "hint": self._hint()})
        return respond_json(request, {**experiments_impl(store), "store": self._store_ref().describe(), "hint": None})

    def _runs_route(self, request):
        p = Params(request.args)
        tags: dict[str, str | None] = {}
        for item in p.many("tag"):
            key, sep, value = item.partition(":")
            if not key:
                raise InvalidArgumentError(f"parameter 'tag' must be key or key:value, got {item!r}")
            tags[check_name(key, "tag name")] = check_tag_value(key, value) if sep else None
        sort = p.text("sort")
        args = dict(
            experiment=p.name("experiment", "experiment id or name"),
            parent=p.name("parent", "run id"),
            filter=RunFilter(
                statuses=tuple(p.csv("status")),
                tags=tags,
                text=p.free_text("q"),
                query=p.text("filter"),
                sort=sort or "start_time",
                order=p.choice("order", ("asc", "desc"), default="asc"),
                with_ancestors=p.flag("with_ancestors"),
                inherit=p.flag("inherit"),
            ),
            limit=p.integer("limit", default=DEFAULT_PAGE, minimum=1, maximum=MAX_PAGE),
            offset=p.integer("offset", default=0, minimum=0),
        )
        if args["experiment"] is None and args["parent"] in (None, ALL_RUNS):
            raise InvalidArgumentError("missing required parameter 'experiment' (or give 'parent')")
        try:
            store = self._store()
        except _NoStore:
            return respond_json(request, {"runs": [], "total": 0, "offset": args["offset"], "limit": args["limit"], "hint": self._hint()})
        return respond_json(request, runs_impl(store, **args))

    def _run_route(self, request):
        run_id = Params(request.args).name("id", "run id", required=True)
        return respond_json(request, run_impl(self._store(), run_id))

    def _series_route(self, request):
        p = Params(request.args)
        run_id, name = self._run_and_metric(p)
        if p.flag("raw"):
            for unused in ("points", "x", "xmin", "xmax", "exact"):
                if p.text(unused) is not None:
                    raise InvalidArgumentError(f"parameter {unused!r} does not apply with raw=1 (raw pages by offset and limit)")
            offset = p.integer("offset", default=0, minimum=0)
            limit = p.integer("limit", default=DEFAULT_RAW, minimum=1, maximum=MAX_RAW)
            return respond_json(request, raw_impl(self._store(), run_id, name, offset=offset, limit=limit))
        return respond_json(request, series_impl(self._store(), run_id, name, **self._series_args(p)))

    @staticmethod
    def _run_and_metric(p: Params) -> tuple[str, str]:
        run_id, name = p.name("run", "run id", required=True), p.name("name", "metric name", required=True)
        assert run_id is not None and name is not None  # required=True raised InvalidArgumentError otherwise
        return run_id, name

    def _series_args(self, p: Params) -> dict[str, Any]:
        return {
            "x": p.choice("x", ds.X_MODES, default="step"),
            "points": p.integer("points", default=ds.DEFAULT_POINTS, minimum=1, maximum=ds.MAX_POINTS),
            "lo": p.number("xmin"),
            "hi": p.number("xmax"),
            "exact": p.flag("exact"),
        }

    def _compare_route(self, request):
        p = Params(request.args)
        run_ids, name = p.names("runs", "run ids", required=True), p.name("name", "metric name", required=True)
        return respond_json(request, compare_impl(self._store(), run_ids, name, **self._series_args(p)))

    def _sweep_route(self, request):
        p = Params(request.args)
        parent = p.name("parent", "run id", required=True)
        limit = p.integer("limit", default=DEFAULT_SWEEP, minimum=1, maximum=MAX_SWEEP)
        offset = p.integer("offset", default=0, minimum=0)
        return respond_json(request, sweep_impl(self._store(), parent, limit=limit, offset=offset))

    def _table_route(self, request):
        p = Params(request.args)
        run_id, name = self._run_and_metric(p)
        offset = p.integer("offset", default=0, minimum=0)
        limit = p.integer("limit", default=DEFAULT_TABLE, minimum=1, maximum=MAX_TABLE)
        return respond_json(request, table_impl(self._store(), run_id, name, offset=offset, limit=limit))

    def _images_route(self, request):
        p = Params(request.args)
        return respond_json(request, images_impl(self._store(), *self._run_and_metric(p)))

    def _image_route(self, request):
        p = Params(request.args)
        run_id, name = self._run_and_metric(p)
        index = p.integer("index", default=-1)
        data, content_type = image_impl(self._store(), run_id, name, index)
        return respond_bytes(request, data, content_type)

    def _histograms_route(self, request):
        p = Params(request.args)
        run_id, name = self._run_and_metric(p)
        points = p.integer("points", default=DEFAULT_HISTOGRAMS, minimum=1, maximum=MAX_HISTOGRAMS)
        return respond_json(request, histograms_impl(self._store(), run_id, name, points=points))

    def _chart_route(self, request):
        p = Params(request.args)
        run_id, name = self._run_and_metric(p)
        return respond_json(request, chart_impl(self._store(), run_id, name, p.integer("index", default=-1)))

    def _download_route(self, request):
        p = Params(request.args)
        run_id, name = p.name("run", "run id", required=True), p.name("name", "metric name")
        fmt = p.choice("format", FORMATS, default="csv")
        disposition, body = plan_download(self._store(), run_id, name, fmt)
        pieces = body()
        # Read ahead before the first byte, so a small download that cannot be read is a JSON error (503).
        head = _read_ahead(pieces, _READ_AHEAD)
        # Streamed: a download may be far larger than memory should hold (Respond needs one body).
        headers = [
            ("Content-Disposition", disposition),
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-cache, must-revalidate"),
            ("Expires", "0"),
        ]
        return wrappers.Response(self._guarded(head, pieces, request.path), headers=headers, content_type=DOWNLOAD_TYPES[fmt])

    def _file_route(self, request):
        p = Params(request.args)
        disposition, data = file_impl(self._store(), p.name("run", "run id", required=True), p.text("name", required=True))
        headers = [
            ("Content-Disposition", disposition),
            ("X-Content-Type-Options", "nosniff"),
            # A run file is user content: never let the browser run it as a page of this origin.
            ("Content-Security-Policy", "sandbox; default-src 'none'"),
            ("Cache-Control", "no-cache, must-revalidate"),
        ]
        return wrappers.Response(data, headers=headers, content_type="application/octet-stream")

    @staticmethod
    def _guarded(head: list[bytes], pieces, path: str):
        """Stream the read-ahead, then the rest; a failure after the first byte is logged and re-raised.

        Re-raising is what makes the failure visible: the server then drops the connection before
        the chunked body's last chunk, so every HTTP client sees a broken response instead of a
        complete 200 that silently lacks the end of the data.
        """
        yield from head
        try:
            yield from pieces
        except Exception:
            logger.exception("runhistory %s failed while streaming; the response is cut off", path)
            raise

    def _static_route(self, request):
        path = request.path
        at = path.find(_ROUTE_PREFIX)
        relative = path[at + len(_ROUTE_PREFIX) :] if at >= 0 else ""
        root = self._frontend_dir or _assets.frontend_dir()
        try:
            data, content_type = _static.read(root, relative)
        except NotFoundError:
            return respond_error(request, 404, f"no route or frontend file {relative!r}")
        return respond_bytes(request, data, content_type, compress=content_type.startswith("text/") or content_type == "application/json")
