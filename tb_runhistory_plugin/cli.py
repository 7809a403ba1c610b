"""The `tb-runhistory` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Sequence

from ._types import RunInfo, Status
from .errors import RunHistoryError
from .export._cli import add_parsers as add_transfer_parsers, run_export, run_import
from .store import ROOTS, Store, open_store

# Exit codes: 0 fine, 1 an error the store reported (not found, conflict), 2 bad usage or input.
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

_STATUS_COLOURS = {
    Status.COMPLETED: "32",
    Status.FAILED: "31",
    Status.CANCELED: "33",
    Status.RUNNING: "36",
    Status.NOT_RESPONDING: "35",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tb-runhistory", description="Local-first run history for TensorBoard.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ls = sub.add_parser("ls", help="list experiments and their runs as a tree", description="List experiments and runs as a tree with status.")
    ls.add_argument("experiment", nargs="?", help="only this experiment (name or id)")
    ls.add_argument("--store", help="store path or URI (default: $RUNHISTORY_STORE, else ./runhistory)")
    ls.add_argument("--depth", type=int, default=None, help="deepest level of child runs to show (default: all)")
    ls.add_argument("--json", action="store_true", help="print JSON for scripts")
    add_transfer_parsers(sub)
    server = sub.add_parser(
        "server",
        help="serve a store over HTTP for writers on other machines",
        description="Serve a store as the run-history REST API (tb_runhistory_plugin/server/openapi.yaml). "
        "Clients use store='http://HOST:PORT' (token= or $RUNHISTORY_TOKEN).",
    )
    server.add_argument("--store", help="store path or URI to serve, created when missing (default: $RUNHISTORY_STORE, else ./runhistory)")
    server.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    server.add_argument("--port", type=int, default=5000, help="port (default: 5000)")
    server.add_argument(
        "--token",
        default=None,
        help="require 'Authorization: Bearer TOKEN' on every request "
        "(default: $RUNHISTORY_TOKEN; prefer the variable, command lines are visible to other users)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "server":
            return _server(args)
        store = open_store(args.store, create=args.command == "import")
        if args.command == "ls":
            return _ls(store, args)
        if args.command == "export":
            return run_export(store, args)
        if args.command == "import":
            return run_import(store, args)
    except RunHistoryError as exc:
        print(f"tb-runhistory: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.status == 400 else EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_USAGE


def _server(args: argparse.Namespace) -> int:
    from .server import serve  # werkzeug's server, only needed here

    store = open_store(args.store)  # a new team server starts with an empty store
    token = args.token if args.token is not None else os.environ.get("RUNHISTORY_TOKEN") or None
    print(
        f"tb-runhistory: serving {store.uri} on http://{args.host}:{args.port} ({'token required' if token else 'no token'})",
        file=sys.stderr,
    )
    try:
        serve(store, host=args.host, port=args.port, token=token or "")
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _tree(store: Store, experiment_id: str, parent: str, depth: int | None, level: int = 0) -> list[dict[str, Any]]:
    nodes = []
    for info in store.list_runs(experiment_id, parent_id=parent):
        node = _run_json(info)
        if info.child_count and (depth is None or level < depth):
            node["children"] = _tree(store, experiment_id, info.id, depth, level + 1)
        nodes.append(node)
    return nodes


def _run_json(info: RunInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "display_name": info.display_name,
        "status": str(info.status),
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration": info.duration,
        "child_count": info.child_count,
        "tags": dict(info.tags),
    }


def _ls(store: Store, args: argparse.Namespace) -> int:
    experiments = [store.get_experiment(args.experiment)] if args.experiment else store.list_experiments()
    listing = [
        {"id": exp.id, "name": exp.name, "created_at": exp.created_at, "runs": _tree(store, exp.id, ROOTS, args.depth)}
        for exp in experiments
    ]
    if args.json:
        json.dump(listing, sys.stdout, indent=2)
        print()
        return EXIT_OK
    if not listing:
        print(f"no experiments in {store.uri}")
        return EXIT_OK
    colour = sys.stdout.isatty()
    for exp in listing:
        print(f"{exp['name']}  ({exp['id']})")
        _print_nodes(exp["runs"], "", colour)
    return EXIT_OK


def _print_nodes(nodes: list[dict[str, Any]], prefix: str, colour: bool) -> None:
    for i, node in enumerate(nodes):
        last = i == len(nodes) - 1
        status = node["status"]
        shown = f"\x1b[{_STATUS_COLOURS.get(status, '0')}m{status:<13}\x1b[0m" if colour else f"{status:<13}"
        tags = " ".join(f"{_printable(k)}={_printable(v)}" if v else _printable(k) for k, v in node["tags"].items())
        name = _printable(node["display_name"])
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(node["start_time"]))
        print(f"{prefix}{'└─ ' if last else '├─ '}{name}  {shown} {started}  {_duration(node['duration'])}  {node['id'][:8]}  {tags}".rstrip())
        if "children" in node:
            _print_nodes(node["children"], prefix + ("   " if last else "│  "), colour)
        elif node["child_count"]:
            print(f"{prefix}{'   ' if last else '│  '}└─ … {node['child_count']} child runs")


def _printable(text: str) -> str:
    """User text with control characters made visible, so it cannot drive the terminal."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


if __name__ == "__main__":
    sys.exit(main())
