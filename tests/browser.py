"""The system Chromium, launched one way by the browser tests, the frontend benchmark and the screenshot script.

Debian's `chromium` through Playwright's `executable_path` (no `playwright install`); another
browser binary may be named by $RUNHISTORY_CHROMIUM.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

CHROMIUM = os.environ.get("RUNHISTORY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
IFRAME = 'iframe[src*="plugin_entry.html?name=runhistory"]'  # the Run History tab's frame inside TensorBoard


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright Browser), closed on exit."""
    from playwright.sync_api import sync_playwright  # optional: only what drives a browser needs it

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
