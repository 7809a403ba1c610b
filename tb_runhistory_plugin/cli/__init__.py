"""The `tb-runhistory` command line: ls, show, run, export, import, import-mlflow, server, demo, gc."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence, Set
from typing import Any

from .._filter import RunFilter
from .._types import MetricKind, RunInfo, Status
from ..errors import ConflictError, InvalidArgumentError, NotFoundError, RunHistoryError
from ..store import ORPHAN_GRACE, ROOTS, Store, open_store
from ._script import add_parser as add_script_parser
from ._script import run_script
from ._transfer import add_parsers as add_transfer_parsers
from ._transfer import run_export, run_import, run_import_mlflow

# Exit codes: 0 fine, 1 an error the store reported (not found, conflict), 2 bad usage or input,
# 130 the demo was interrupted before it served (its runs in progress were marked Canceled).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

STALE_AFTER = 24 * 3600.0  # seconds without a heartbeat before gc marks a Running run Failed
_STORE_HELP = "store path or URI (default: $RUNHISTORY_STORE, else ./runhistory)"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

_STATUS_COLOURS: dict[str, str] = {  # keyed by str: RunInfo.status is a plain string
    Status.COMPLETED: "32",
    Status.FAILED: "31",
    Status.CANCELED: "33",
    Status.RUNNING: "36",
    Status.NOT_RESPONDING: "35",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tb-runhistory",
        description="Local-first run history for TensorBoard.",
        epilog="Exit codes: 0 ok, 1 the store reported an error (not found, conflict, unreachable), 2 bad usage or input.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ls = sub.add_parser("ls", help="list experiments and their runs as a tree", description="List experiments and runs as a tree with status.")
    ls.add_argument("experiment", nargs="?", help="only this experiment (name or id)")
    ls.add_argument("--store", help=_STORE_HELP)
    ls.add_argument("--depth", type=int, default=None, help="deepest level of child runs to show (default: all)")
    ls.add_argument("--json", action="store_true", help="print JSON for scripts")
    ls.add_argument(
        "--filter",
        metavar="QUERY",
        help='only runs matching a query, with their ancestors (marked "ancestor"), e.g. --filter "metrics.loss.min < 0.1 and params.lr >= 1e-3"',
    )
    ls.add_argument("--sort", metavar="FIELD", help="order siblings by a field: start_time (default), name, duration, params.K, metrics.NAME.min, ...")
    ls.add_argument("--desc", action="store_true", help="largest first (with --sort)")
    show = sub.add_parser(
        "show",
        help="details of one run: tags, properties, metrics, children, files",
        description="Show one run: status and times, tags, properties, metrics (kind, points, last value), children with their last values, and files.",
    )
    show.add_argument("run", metavar="RUN", help="a run id, a unique prefix of one (as `ls` prints), or a unique display name")
    show.add_argument("--store", help=_STORE_HELP)
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    add_transfer_parsers(sub)
    add_script_parser(sub)
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
    demo = sub.add_parser(
        "demo",
        help="log two demo experiments and open them in TensorBoard",
        description="Log a ridge-regression sweep (diabetes data) and a small neural network that writes its own "
        "event files (handwritten digits) into the store, then serve them in TensorBoard with the Run History "
        "tab. Prints the URL alone on one line of standard output; Ctrl-C or SIGTERM stops TensorBoard (exit 0). "
        "Running it again adds new runs. Interrupted before serving: exit 130, runs in progress marked Canceled.",
    )
    demo.add_argument("--store", help="store path or URI, created when missing (default: $RUNHISTORY_STORE, else ./runhistory)")
    demo.add_argument("--port", type=int, default=6006, help="TensorBoard's port; 0 picks a free one (default: 6006)")
    demo.add_argument("--logdir", help="TensorBoard logdir for the exported history, kept afterwards (default: a temporary directory)")
    demo.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    demo.add_argument("--no-serve", action="store_true", help="only log the runs (and export them when --logdir is given), then exit")
    gc = sub.add_parser(
        "gc",
        help="clean up a store: fail dead runs, delete orphaned files, compact the database",
        description="Mark Running runs whose heartbeats stopped long ago as Failed (their process died), delete files "
        "under the store's files/ folder that no run references (older than an hour), and ANALYZE and VACUUM "
        "the SQLite database. --dry-run reports what would be done and changes nothing.",
    )
    gc.add_argument("--store", help=_STORE_HELP)
    gc.add_argument("--dry-run", action="store_true", help="report what would be done; change nothing")
    gc.add_argument(
        "--stale-after",
        type=_duration_arg,
        default=STALE_AFTER,
        metavar="DURATION",
        help="how long without a heartbeat before a Running run counts as dead: 90s, 30m, 12h, 2d (default: 24h)",
    )
    gc.add_argument("--json", action="store_true", help="print JSON for scripts")
    return parser


def _duration_arg(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 90s, 30m, 12h or 2d, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "server":
            return _server(args)
        if args.command == "run":
            return run_script(args)
        command = _COMMANDS.get(args.command)
        if command is not None:
            return command(open_store(args.store, create=args.command in ("import", "import-mlflow", "demo")), args)
    except RunHistoryError as exc:
        print(f"tb-runhistory: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.status == 400 else EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_USAGE


def _server(args: argparse.Namespace) -> int:
    from ..server import serve  # werkzeug's server, only needed here

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


def _tree(store: Store, experiment_id: str, parent: str, depth: int | None, level: int = 0, *, sort: RunFilter | None = None) -> list[dict[str, Any]]:
    nodes = []
    for info in store.list_runs(experiment_id, (sort or RunFilter()).replace(parent_id=parent)):
        node = _run_json(info)
        if info.child_count and (depth is None or level < depth):
            node["children"] = _tree(store, experiment_id, info.id, depth, level + 1, sort=sort)
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
        "params": dict(info.params),
    }


def _filtered_tree(store: Store, experiment_id: str, query: RunFilter, depth: int | None) -> list[dict[str, Any]]:
    """Matching runs and their ancestors (matched False) as a tree, siblings in the filter's order."""
    infos = store.list_runs(experiment_id, query)
    ids = {info.id for info in infos}
    children: dict[str | None, list[RunInfo]] = {}
    for info in infos:
        children.setdefault(info.parent_id if info.parent_id in ids else None, []).append(info)

    def build(parent: str | None, level: int) -> list[dict[str, Any]]:
        nodes = []
        for info in children.get(parent, []):
            node = {**_run_json(info), "matched": info.matched}
            if info.id in children and (depth is None or level < depth):
                node["children"] = build(info.id, level + 1)
            nodes.append(node)
        return nodes

    return build(None, 0)


def _ls(store: Store, args: argparse.Namespace) -> int:
    experiments = [store.get_experiment(args.experiment)] if args.experiment else store.list_experiments()
    query = None
    if args.filter is not None or args.sort is not None:
        query = RunFilter(query=args.filter, sort=args.sort, order="desc" if args.desc else "asc", with_ancestors=args.filter is not None)

    def runs(exp_id: str) -> list[dict[str, Any]]:
        if query is None:
            return _tree(store, exp_id, ROOTS, args.depth)
        if query.with_ancestors:
            return _filtered_tree(store, exp_id, query, args.depth)
        return _tree(store, exp_id, ROOTS, args.depth, sort=query)

    listing: list[dict[str, Any]] = [{"id": exp.id, "name": exp.name, "created_at": exp.created_at, "runs": runs(exp.id)} for exp in experiments]
    if args.json:
        _print_json(listing)
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
        shown = _status(node["status"], colour)
        tags = " ".join(f"{_printable(k)}={_printable(v)}" if v else _printable(k) for k, v in node["tags"].items())
        name = _printable(node["display_name"])
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(node["start_time"]))
        mark = "  (ancestor)" if node.get("matched") is False else ""
        print(f"{prefix}{'└─ ' if last else '├─ '}{name}  {shown} {started}  {_duration(node['duration'])}  {node['id'][:8]}  {tags}".rstrip() + mark)
        if "children" in node:
            _print_nodes(node["children"], prefix + ("   " if last else "│  "), colour)
        elif node["child_count"] and "matched" not in node:
            print(f"{prefix}{'   ' if last else '│  '}└─ … {node['child_count']} child runs")


# ---------------------------------------------------------------------------------------- show


def find_run(store: Store, ref: str) -> RunInfo:
    """A run by id, by a unique id prefix, or by a unique display name.

    Raises:
        NotFoundError: nothing matches.
        InvalidArgumentError: several runs match (the message lists them).
    """
    with contextlib.suppress(NotFoundError, InvalidArgumentError):
        return store.get_run(ref)
    matches: dict[str, tuple[RunInfo, str]] = {}
    for exp in store.list_experiments():
        for info in store.list_runs(exp.id, RunFilter(text=ref)):
            if info.id.startswith(ref) or info.display_name == ref:
                matches[info.id] = (info, exp.name)
    if len(matches) == 1:
        return next(iter(matches.values()))[0]
    if not matches:
        raise NotFoundError(f"no run {ref!r} in store {store.uri} (give a run id, a unique id prefix or a unique display name)")
    listed = ", ".join(f"{info.id[:12]} {info.display_name!r} in {name!r}" for info, name in list(matches.values())[:10])
    raise InvalidArgumentError(f"{ref!r} matches {len(matches)} runs: {listed}{' ...' if len(matches) > 10 else ''}; give more of the id")


def run_details(store: Store, info: RunInfo) -> dict[str, Any]:
    """Everything `show` prints about a run, as plain data."""
    experiment = store.get_experiment(info.experiment_id)
    children = store.list_runs(info.experiment_id, RunFilter(parent_id=info.id))
    last = store.last_values([c.id for c in children]) if children else {}
    parent = store.get_run(info.parent_id) if info.parent_id else None
    return {
        **_run_json(info),
        "experiment": {"id": experiment.id, "name": experiment.name},
        "parent": {"id": parent.id, "display_name": parent.display_name} if parent else None,
        "description": info.description,
        "error": info.error,
        "traceback": info.traceback,
        "logs_dir": info.logs_dir,
        "heartbeat_time": info.heartbeat_time,
        "properties": dict(info.properties),
        "metrics": [
            {
                "name": m.name,
                "kind": str(m.kind),
                "count": m.count,
                "value_type": m.value_type if m.kind == MetricKind.SCALAR else None,
                "last_step": m.last_step,
                "last_value": m.last_value if m.kind == MetricKind.SCALAR else None,
                "last_wall_time": m.last_wall_time,
                "description": m.description,
            }
            for m in store.list_metrics(info.id)
        ],
        "children": [
            {
                **_run_json(child),
                "metrics": {m.name: m.last_value for m in last.get(child.id, []) if m.kind == MetricKind.SCALAR and m.last_value is not None},
            }
            for child in children
        ],
        "files": [{"name": f.name, "size": f.size, "created_at": f.created_at} for f in store.list_files(info.id)],
    }


def _show(store: Store, args: argparse.Namespace) -> int:
    details = run_details(store, find_run(store, args.run))
    if args.json:
        _print_json(details)
        return EXIT_OK
    colour = sys.stdout.isatty()
    print(f"{_printable(details['display_name'])}  {_status(details['status'], colour).rstrip()}")
    about = [
        ("id", details["id"]),
        ("experiment", f"{details['experiment']['name']} ({details['experiment']['id']})"),
        ("parent", f"{details['parent']['display_name']} ({details['parent']['id']})" if details["parent"] else "—"),
        ("started", _when(details["start_time"])),
        (
            "ended",
            f"{_when(details['end_time'])}  ({_duration(details['duration'])})" if details["end_time"] else f"— (running {_duration(details['duration'])})",
        ),
    ]
    about += [(key, details[key]) for key in ("description", "logs_dir", "error") if details[key]]
    _table([(k, _printable(str(v))) for k, v in about], indent=2)
    if details["traceback"]:
        print("\nTraceback (kept with the run)")
        for line in details["traceback"].rstrip().splitlines():
            print(f"  {_printable(line)}")
    for title, mapping in (("Tags", details["tags"]), ("Properties", details["properties"])):
        if mapping:
            print(f"\n{title}")
            _table([(_printable(k), _printable(v if isinstance(v, str) else json.dumps(v))) for k, v in mapping.items()], indent=2)
    print(f"\nMetrics ({len(details['metrics'])})")
    rows = [
        (_printable(m["name"]), m["kind"], f"{m['count']:,}", "—" if m["last_step"] is None else str(m["last_step"]), _number(m["last_value"]))
        for m in details["metrics"]
    ]
    if rows:
        _table(rows, header=("NAME", "KIND", "POINTS", "LAST STEP", "LAST VALUE"), right={2, 3, 4}, indent=2)
    children = details["children"]
    print(f"\nChildren ({len(children)})")
    if children:
        names: list[str] = []
        for child in children:
            names += [n for n in child["metrics"] if n not in names]
        names = names[:6]  # a table that fits a terminal; --json has them all
        rows = [
            (
                _printable(c["display_name"]),
                _status(c["status"], colour),
                _duration(c["duration"]),
                *(_number(c["metrics"].get(n)) for n in names),
                c["id"][:8],
            )
            for c in children
        ]
        header = ("NAME", "STATUS", "DURATION", *(_printable(n).upper() for n in names), "ID")
        _table(rows, header=header, right=set(range(3, 3 + len(names))), indent=2)
    print(f"\nFiles ({len(details['files'])})")
    if details["files"]:
        _table([(_printable(f["name"]), _bytes(f["size"])) for f in details["files"]], right={1}, indent=2)
    return EXIT_OK


# ---------------------------------------------------------------------------------------- demo


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt like Ctrl-C, so runs in progress end as Canceled either way."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _demo(store: Store, args: argparse.Namespace) -> int:
    from .._launcher import Tensorboard
    from ..demos import default_logs_root, run_sweep, run_training, serve, start_live_training

    err = sys.stderr
    print(f"tb-runhistory demo: logging two experiments into {store.uri}", file=err, flush=True)
    try:
        with _sigterm_interrupts():
            sweep = run_sweep(store)
            by_alpha = sweep.get_metrics("by_alpha")["by_alpha"]
            best = min(range(len(by_alpha["mse"])), key=by_alpha["mse"].__getitem__)
            print(
                f"  {sweep.experiment.name}: ridge regression, {len(by_alpha['mse'])} child runs (one per alpha); "
                f"best alpha {by_alpha['alpha'][best]:g}, test mse {by_alpha['mse'][best]:.1f}  [{sweep.id[:8]}]",
                file=err,
                flush=True,
            )
            trained = run_training(store, default_logs_root(store))
            metrics = trained.get_metrics()
            print(
                f"  {trained.experiment.name}: numpy MLP, {len(trained.get_children())} cross-validation folds, "
                f"test accuracy {metrics['test_accuracy']:.3f}; its own event files in {trained.info().logs_dir}  [{trained.id[:8]}]",
                file=err,
                flush=True,
            )
    except KeyboardInterrupt:
        print("tb-runhistory demo: interrupted; the runs in progress were marked Canceled", file=err)
        return EXIT_INTERRUPTED
    experiments = [sweep.experiment, trained.experiment]
    if args.no_serve:
        if args.logdir:
            from ..export import export_to_tensorboard

            report = export_to_tensorboard(experiments, args.logdir, store=store)
            print(f"  exported {len(report.run_dirs)} runs to {report.logdir}", file=err)
        return EXIT_OK
    print("starting TensorBoard ...", file=err, flush=True)
    tensorboard = Tensorboard(experiments, local_root=args.logdir, port=args.port, store=store)
    # One run keeps training for two minutes after the URL is printed: the tab's live updates show.
    live = start_live_training(store)
    print(f"  {live.run.experiment.name}: {live.run.display_name} keeps logging for two minutes  [{live.run.id[:8]}]", file=err, flush=True)
    try:
        return serve(tensorboard, open_browser=not args.no_browser)
    finally:
        live.stop()


# ------------------------------------------------------------------------------------------ gc


def collect_garbage(
    store: Store, *, dry_run: bool = False, stale_after: float = STALE_AFTER, orphan_grace: float = ORPHAN_GRACE, now: float | None = None
) -> dict[str, Any]:
    """Fail long-dead Running runs, then the store's own maintenance (unreferenced files, compaction); returns a report.

    Works through the store protocol; ``orphaned_files`` and ``database`` are None for a store whose
    maintenance is a server's business.
    """
    now = time.time() if now is None else now
    report: dict[str, Any] = {"store": store.uri, "dry_run": dry_run, "stale_after": stale_after}
    report["stale_runs"] = _fail_stale_runs(store, dry_run=dry_run, cutoff=now - stale_after, now=now)
    maintained = store.maintain(dry_run=dry_run, orphan_grace=orphan_grace, now=now)
    report["orphaned_files"] = None if maintained is None else maintained.pop("orphaned_files", [])
    report["database"] = maintained
    return report


def _fail_stale_runs(store: Store, *, dry_run: bool, cutoff: float, now: float) -> list[dict[str, Any]]:
    stale = []
    for exp in store.list_experiments():
        for info in store.list_runs(exp.id, RunFilter(statuses=(Status.RUNNING, Status.NOT_RESPONDING))):
            seen = info.heartbeat_time if info.heartbeat_time is not None else info.start_time
            if seen >= cutoff:
                continue
            entry = {"id": info.id, "display_name": info.display_name, "experiment": exp.name, "last_heartbeat": seen, "failed": False}
            if not dry_run:
                message = (
                    f"no heartbeat since {_when(seen)} ({_duration(now - seen)} before `tb-runhistory gc`): "
                    "the process logging this run stopped without ending it; marked Failed by gc"
                )
                with contextlib.suppress(ConflictError, NotFoundError):  # it ended meanwhile
                    store.set_run_status(info.id, Status.FAILED, end_time=seen, error=message)
                    entry["failed"] = True
            stale.append(entry)
    return stale


def _gc(store: Store, args: argparse.Namespace) -> int:
    report = collect_garbage(store, dry_run=args.dry_run, stale_after=args.stale_after)
    failed = (report["database"] or {}).get("error")
    if args.json:
        _print_json(report)
        return EXIT_ERROR if failed else EXIT_OK
    would = "would be " if args.dry_run else ""
    stale = report["stale_runs"]
    print(f"{store.uri}{'  (dry run: nothing changed)' if args.dry_run else ''}")
    print(f"\nStale runs: {len(stale)} {would}marked Failed (Running, no heartbeat for {_duration(args.stale_after)} or more)")
    if stale:
        rows = [(_printable(r["display_name"]), _printable(r["experiment"]), _when(r["last_heartbeat"]), r["id"][:8]) for r in stale]
        _table(rows, header=("NAME", "EXPERIMENT", "LAST HEARTBEAT", "ID"), indent=2)
    orphans = report["orphaned_files"]
    if orphans is None:
        print("\nOrphaned files: not applicable to this store")
    else:
        total = sum(o["bytes"] for o in orphans)
        print(f"\nOrphaned files: {len(orphans)} {would}deleted ({_bytes(total)})")
        if orphans:
            _table([(_printable(o["path"]), _bytes(o["bytes"])) for o in orphans], right={1}, indent=2)
    database = report["database"]
    if database is None:
        print("\nDatabase: maintenance is up to the server of this store")
    elif failed:
        print(f"\nDatabase: {failed}")
    elif args.dry_run:
        print(f"\nDatabase: {_bytes(database['bytes_before'])} with its write-ahead log; VACUUM would give back about {_bytes(database['free_bytes'])}")
    else:
        print(f"\nDatabase: analyzed and vacuumed, {_bytes(database['bytes_before'])} -> {_bytes(database['bytes_after'])}")
    return EXIT_ERROR if failed else EXIT_OK


# ------------------------------------------------------------------------------------- helpers


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


def _status(status: str, colour: bool) -> str:
    return f"\x1b[{_STATUS_COLOURS.get(status, '0')}m{status:<13}\x1b[0m" if colour else f"{status:<13}"


def _when(stamp: float | None) -> str:
    return "—" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _visible_len(text: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _table(rows: Sequence[Sequence[str]], *, header: Sequence[str] | None = None, right: Set[int] = frozenset(), indent: int = 0) -> None:
    """Print rows as aligned columns (numbers right-aligned), with an optional header line."""
    lines = ([list(header)] if header else []) + [list(row) for row in rows]
    widths = [max(_visible_len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        cells = []
        for i, cell in enumerate(line):
            pad = " " * (widths[i] - _visible_len(cell))
            cells.append(pad + cell if i in right else cell + pad)
        print((" " * indent + "  ".join(cells)).rstrip())


def _jsonable(value: Any) -> Any:
    """NaN and infinities as the strings TensorBoard uses, so the output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _print_json(data: Any) -> None:
    json.dump(_jsonable(data), sys.stdout, indent=2, allow_nan=False)
    print()


# subcommand -> what runs it on the opened store ("server" opens its own)
_COMMANDS: dict[str, Callable[[Store, argparse.Namespace], int]] = {
    "ls": _ls,
    "show": _show,
    "export": run_export,
    "import": run_import,
    "import-mlflow": run_import_mlflow,
    "demo": _demo,
    "gc": _gc,
}
