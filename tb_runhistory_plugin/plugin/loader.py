"""The TensorBoard entry point: adds `--runhistory_store` and builds the plugin.

This module is what the `tensorboard_plugins` entry point names, so it imports almost nothing: a
failing import here would stop the whole `tensorboard` command, while errors inside `load()` are
caught and logged by TensorBoard.
"""

from __future__ import annotations

import os

from tensorboard.plugins import base_plugin

from .metadata import STORE_FLAG

_STORE_ENV = "RUNHISTORY_STORE"  # the same variable the logging API reads


class RunHistoryLoader(base_plugin.TBLoader):
    """Loads the Run History plugin; the store location is checked at start-up, opened lazily."""

    def define_flags(self, parser):
        """Add `--runhistory_store` to the `tensorboard` command."""
        group = parser.add_argument_group("runhistory")
        group.add_argument(
            f"--{STORE_FLAG}",
            metavar="STORE",
            type=str,
            default=None,
            help="Run history store shown in the Run History tab: a directory, its runhistory.db, or "
            f"sqlite:///path (default: ${_STORE_ENV}, else <logdir>/runhistory, else ./runhistory). "
            "It may not exist yet; it is only read, never written.",
        )

    def fix_flags(self, flags):
        """Reject a store location that can never work (unknown scheme, not a store file).

        Raises:
            base_plugin.FlagsError: the flag (or $RUNHISTORY_STORE) names an unusable store.
        """
        from ._discovery import check_store_uri

        value = getattr(flags, STORE_FLAG, None)
        if value is not None:
            problem = check_store_uri(value)
            if problem:
                raise base_plugin.FlagsError(f"--{STORE_FLAG}: {problem}")
            return
        env = os.environ.get(_STORE_ENV)
        if env:
            problem = check_store_uri(env)
            if problem:
                raise base_plugin.FlagsError(f"${_STORE_ENV}: {problem}")

    def load(self, context):
        """Build the plugin; it opens the store on first use."""
        from .plugin import RunHistoryPlugin

        return RunHistoryPlugin(context)
