"""The deep link that opens a run in the Run History tab, and which TensorBoard it points at.

The tab keeps its state in TensorBoard's URL hash (frontend/lib/hash-state.js, app-state.js):
`#runhistory&p.runhistory.<key>=<value>`, keys sorted, values URI-encoded, lists joined by ","
with "%" and "," inside items escaped. A link sets the experiment, selects and focuses the run,
and expands its ancestors so the tree shows it.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from collections.abc import Sequence

PORTAL_URL_ENV = "TB_RUNHISTORY_URL"  # the TensorBoard links point at when this process started none
DEFAULT_URL = "http://localhost:6006/"
PLUGIN_NAME = "runhistory"  # the tab's name in TensorBoard's hash (plugin/metadata.py PLUGIN_NAME)
_PREFIX = f"p.{PLUGIN_NAME}."

_lock = threading.Lock()
_served: list[tuple[str | None, str]] = []  # (store URI or None, TensorBoard URL), newest last


def serving(store_uri: str | None, url: str) -> None:
    """A TensorBoard our launcher started serves this store's tab at `url`."""
    with _lock:
        _served.append((store_uri, url))


def stopped(url: str) -> None:
    """That TensorBoard stopped."""
    with _lock:
        _served[:] = [item for item in _served if item[1] != url]


def base_url(store_uri: str) -> str:
    """The newest TensorBoard of this process serving the store, else $TB_RUNHISTORY_URL, else localhost:6006."""
    with _lock:
        for uri, url in reversed(_served):
            if uri == store_uri:
                return url
    return os.environ.get(PORTAL_URL_ENV, "").strip() or DEFAULT_URL


def _list(items: Sequence[str]) -> str:
    return ",".join(item.replace("%", "%25").replace(",", "%2C") for item in items)


def run_url(base: str, experiment_id: str, run_id: str, ancestors: Sequence[str]) -> str:
    """The URL that opens the tab at `base` with the run selected (ancestors: its parents, root first)."""
    state = {"exp": experiment_id, "focus": run_id, "sel": _list([run_id])}
    if ancestors:
        state["open"] = _list(ancestors)
    items = [f"{urllib.parse.quote(_PREFIX + key, safe='')}={urllib.parse.quote(value, safe='')}" for key, value in sorted(state.items())]
    return f"{base.split('#')[0].rstrip('/')}/#{PLUGIN_NAME}&{'&'.join(items)}"
