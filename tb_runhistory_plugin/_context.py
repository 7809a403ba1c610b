"""Where Run.get_context() finds its run: variables set by our tooling, or a run of its own."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, NamedTuple

from ._lifecycle import attach
from ._validate import check_run_id
from .store import resolve_store

if TYPE_CHECKING:
    from ._run import Run

RUN_ID_ENV = "TB_RUNHISTORY_RUN_ID"  # the run a script started by `tb-runhistory run` logs into
STORE_ENV = "TB_RUNHISTORY_STORE"  # the store of that run (a path or URI)
_NOT_NAME = re.compile(r"[^\w\-.]", re.ASCII)
INTERACTIVE_EXPERIMENT = "interactive"  # the experiment of get_context() where there is no script name
_runs: dict[int, Run] = {}  # process id -> the run get_context() returned there


class Context(NamedTuple):
    """The run and store named by the environment."""

    run_id: str
    store: str | None


def from_environment() -> Context | None:
    """The run our tooling started this process for, or None when it did not."""
    run_id = os.environ.get(RUN_ID_ENV, "").strip()
    if not run_id:
        return None
    return Context(run_id, os.environ.get(STORE_ENV) or None)


def experiment_for_script(argv0: str | None = None) -> str:
    """An experiment name from the script's file name (`train.py` -> `train`), valid as one."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    base = os.path.splitext(os.path.basename(argv0 or ""))[0]
    if base in ("", "-c", "-m", "ipykernel_launcher", "__main__"):
        return INTERACTIVE_EXPERIMENT
    name = _NOT_NAME.sub("_", base).lstrip("_.-")[:255]
    return name or INTERACTIVE_EXPERIMENT


def context_run(run_class: type[Run]) -> Run:
    """See Run.get_context."""
    cached = _runs.get(os.getpid())
    if cached is not None:
        return cached
    found = from_environment()
    if found is not None:
        check_run_id(found.run_id)
        store = resolve_store(found.store)
        run = run_class(store.get_run(found.run_id), store)
        if run._open:
            run._writer.track(run.id)  # heartbeats while this process lives
            attach(run)
    else:
        run = run_class._experiment_class(experiment_for_script()).start_logging()
    _runs[os.getpid()] = run
    return run


os.register_at_fork(after_in_child=_runs.clear)
