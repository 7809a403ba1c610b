"""The Run History tab of TensorBoard: a loader, a plugin and its HTTP routes.

Importing this package is cheap on purpose: TensorBoard imports the entry-point module at start-up
and a failure there would take the whole `tensorboard` command down, so the plugin module (and
everything it imports) is only loaded when asked for.
"""

from __future__ import annotations

from typing import Any

from .metadata import PLUGIN_NAME

__all__ = ["PLUGIN_NAME", "RunHistoryLoader", "RunHistoryPlugin"]


def __getattr__(name: str) -> Any:
    if name == "RunHistoryLoader":
        from .loader import RunHistoryLoader

        return RunHistoryLoader
    if name == "RunHistoryPlugin":
        from .plugin import RunHistoryPlugin

        return RunHistoryPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
