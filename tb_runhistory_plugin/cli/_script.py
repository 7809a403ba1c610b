"""`tb-runhistory run -- COMMAND`: run a script inside a new run that Run.get_context() finds, ended from its exit code."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading

from .._context import RUN_ID_ENV, STORE_ENV, experiment_for_script
from .._experiment import Experiment
from .._types import RUN_TYPE_SCRIPT
from ..errors import InvalidArgumentError
from ..store.wire import TOKEN_ENV

_STORE_HELP = "store path or URI (default: $RUNHISTORY_STORE, else ./runhistory)"
EXIT_NOT_FOUND = 127  # as a shell says a command was not found


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` subcommand to the `tb-runhistory` parser."""
    run = sub.add_parser(
        "run",
        help="run a script inside a new run (Run.get_context() in the script returns it)",
        description="Create a Running run, run COMMAND with $TB_RUNHISTORY_RUN_ID and $TB_RUNHISTORY_STORE naming it "
        "(Run.get_context() in the script returns that run), then mark it Completed on exit code 0, Canceled after "
        "Ctrl-C or SIGTERM, Failed otherwise, unless the script ended it itself. Exits with the script's exit code.",
        usage="tb-runhistory run [--experiment E] [--store S] [--name N] -- COMMAND [ARGS ...]",
    )
    run.add_argument("--experiment", help="experiment of the run (default: the script's file name, e.g. train for train.py)")
    run.add_argument("--name", help="display name of the run (default: the script's file name)")
    run.add_argument("--store", help=_STORE_HELP)
    run.add_argument("script_command", nargs=argparse.REMAINDER, metavar="COMMAND", help="the command to run, after --")


def _script_of(command: list[str]) -> str:
    """The script a command runs: its first argument ending in .py, else the program."""
    return next((arg for arg in command if arg.endswith(".py")), command[0])


def run_script(args: argparse.Namespace) -> int:
    """Start the run, run the command with the variables set, end the run from its exit code; returns that code."""
    command = list(args.script_command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise InvalidArgumentError("tb-runhistory run: give the command to run after --, e.g. tb-runhistory run -- python train.py")
    script = _script_of(command)
    exp = Experiment(args.experiment or experiment_for_script(script), store=args.store)
    run = exp.start_logging(display_name=args.name or os.path.basename(script), description=" ".join(command), run_type=RUN_TYPE_SCRIPT)
    env = {**os.environ, RUN_ID_ENV: run.id, STORE_ENV: exp.store.uri}
    token = getattr(exp.store, "token", None)
    if token:
        env[TOKEN_ENV] = token  # through the environment, never the command line
    print(f"tb-runhistory: run {run.id} in experiment {exp.name!r} of {exp.store.uri}", file=sys.stderr, flush=True)
    try:
        proc = subprocess.Popen(command, env=env)
    except OSError as exc:
        run.fail(f"cannot run {command[0]!r}: {exc.strerror or exc}", "CommandNotFound" if isinstance(exc, FileNotFoundError) else "CommandFailedToStart")
        print(f"tb-runhistory: cannot run {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    code = _wait(proc)
    if not run.info().is_terminal:  # the script did not end the run itself
        if code == 0:
            run.complete()
        elif code in (-signal.SIGINT, -signal.SIGTERM):
            run.cancel()
        elif code < 0:
            name = signal.Signals(-code).name
            run.fail(f"{' '.join(command)!r} was killed by {name}", f"Signal{name}")
        else:
            run.fail(f"{' '.join(command)!r} exited with code {code}", f"ExitCode{code}")
    return code if code >= 0 else 128 - code


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """Wait for the command; SIGTERM to us is passed on to it, Ctrl-C (which it gets too) waits for it to end."""
    forward = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signal.SIGTERM)) if forward else None
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue
    finally:
        if forward:
            signal.signal(signal.SIGTERM, previous)
