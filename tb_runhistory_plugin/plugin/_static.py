"""The frontend's static files: index.js, its modules and vendored assets, never anything else.

A request path is served only if every segment is a plain name (no "..", ".", empty segment,
backslash or NUL), it is not absolute, its extension has a known content type, it is not a dot
file or a development folder (test/, bench/, node_modules/, package*.json: what the package build
leaves out too), and its real path, after symlinks, is a file inside the frontend folder.
"""

from __future__ import annotations

import os

from ..errors import NotFoundError

# Content types by extension; other files are not served.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
    ".md": "text/plain",
    ".LICENSE": "text/plain",
}
_HIDDEN_TOP = frozenset({"test", "bench", "node_modules"})


def resolve(root: str, relative: str) -> tuple[str, str]:
    """The real path and content type of frontend file `relative`.

    Raises:
        NotFoundError: the path is malformed, escapes the folder, is hidden, or does not exist.
    """
    missing = NotFoundError(f"no frontend file {relative!r}")
    if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative:
        raise missing
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise missing
    if parts[0] in _HIDDEN_TOP or (len(parts) == 1 and parts[0].startswith("package") and parts[0].endswith(".json")):
        raise missing
    _, extension = os.path.splitext(parts[-1])
    content_type = CONTENT_TYPES.get(extension)
    if content_type is None:
        raise missing
    base = os.path.realpath(root)
    path = os.path.realpath(os.path.join(base, *parts))
    if not path.startswith(base + os.sep) or not os.path.isfile(path):
        raise missing
    return path, content_type


def read(root: str, relative: str) -> tuple[bytes, str]:
    """The bytes and content type of frontend file `relative` (see resolve)."""
    path, content_type = resolve(root, relative)
    try:
        with open(path, "rb") as handle:
            return handle.read(), content_type
    except OSError:
        raise NotFoundError(f"no frontend file {relative!r}") from None
