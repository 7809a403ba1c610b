"""Where the bundled frontend lives: inside the installed package, or beside it in a checkout."""

from __future__ import annotations

import os

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def frontend_dir() -> str:
    """The folder holding index.js and the vendored assets."""
    installed = os.path.join(_PACKAGE_DIR, "frontend")
    if os.path.isfile(os.path.join(installed, "index.js")) or not os.path.isdir(os.path.join(_PACKAGE_DIR, os.pardir, "frontend")):
        return installed
    # A source checkout or an editable install: serve the repository's frontend/ directly.
    return os.path.normpath(os.path.join(_PACKAGE_DIR, os.pardir, "frontend"))
