"""A function run in a child made by os.fork(), for the tests of what a forked child inherits."""

from __future__ import annotations

import os
from collections.abc import Callable


def in_forked_child(fn: Callable[[], None], while_child_runs: Callable[[], None] | None = None) -> int:
    """Run fn() in an os.fork() child that ends with os._exit (no atexit, as a worker would); the child's exit code.

    `while_child_runs` runs in the parent meanwhile.
    """
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    if while_child_runs is not None:
        while_child_runs()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
