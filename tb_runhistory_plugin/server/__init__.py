"""The run-history REST server: `tb-runhistory server --store STORE [--host] [--port] [--token]`.

Writers that should not hold database credentials log to `http://host:5000` (token= or
$RUNHISTORY_TOKEN); the server holds the store (usually PostgreSQL). `serve` uses werkzeug's
threaded development server, fine for a team on a trusted network. In production run the same
app under a real WSGI server, with RUNHISTORY_STORE and RUNHISTORY_TOKEN in its environment:

    waitress-serve --host 127.0.0.1 --port 5000 --threads 8 --call tb_runhistory_plugin.server:create_app
    gunicorn -w 4 -b 127.0.0.1:5000 'tb_runhistory_plugin.server:create_app()'

and put TLS in front of it (a reverse proxy) when it leaves one machine: the token is a bearer token.
"""

from __future__ import annotations

import ipaddress
import logging

from ..store import Store
from .app import MAX_REQUEST_BYTES, ROUTES, RunHistoryApp, create_app

__all__ = ["MAX_REQUEST_BYTES", "ROUTES", "RunHistoryApp", "create_app", "serve"]

log = logging.getLogger(__name__)


def serve(store: Store | str, host: str = "127.0.0.1", port: int = 5000, token: str | None = None) -> None:
    """Serve a store over HTTP until interrupted (werkzeug, one thread per request)."""
    from werkzeug.serving import run_simple

    app = create_app(store, token=token)
    if app._token is None and not _is_loopback(host):
        log.warning("run history server: serving %s on %s without a token; anyone who reaches it can read and write", app.store.uri, host)
    log.info("run history server: %s on http://%s:%d (token %s)", app.store.uri, host, port, "required" if app._token else "off")
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        app.store.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
