"""The `tb-runhistory export`, `import` and `import-mlflow` subcommands (wired into the cli package)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING

from .._experiment import Experiment
from ..errors import InvalidArgumentError
from ..store import Store

if TYPE_CHECKING:  # the export package (protobuf) loads only for the commands that need it
    from ..export import ImportReport, MlflowImportReport

_STORE_HELP = "store path or URI (default: $RUNHISTORY_STORE, else ./runhistory)"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the export and import subcommands to the `tb-runhistory` parser."""
    export = sub.add_parser(
        "export",
        help="write runs as TensorBoard event files (incremental)",
        description="Write an experiment's runs, or given runs, with their children, as TensorBoard event files. Exporting again writes only what is new.",
    )
    export.add_argument("logdir", help="TensorBoard logdir to write (created if needed)")
    export.add_argument("--experiment", help="export every run of this experiment (name or id)")
    export.add_argument("--run", action="append", default=[], metavar="RUN_ID", help="export this run (repeatable)")
    export.add_argument("--no-children", action="store_true", help="do not export child runs")
    export.add_argument("--no-logs", action="store_true", help="do not mirror runs' own event-file folders")
    export.add_argument("--store", help=_STORE_HELP)
    export.add_argument("--json", action="store_true", help="print the export report as JSON for scripts")
    imp = sub.add_parser(
        "import",
        help="read TensorBoard event files into the store",
        description="Read TensorBoard event files into the store: one run per run directory, nested directories as "
        "child runs. Importing again adds only what is new.",
    )
    imp.add_argument("logdir", help="TensorBoard logdir to read")
    imp.add_argument("--experiment", help="experiment to import into (default: the logdir's name)")
    imp.add_argument("--store", help=_STORE_HELP)
    imp.add_argument("--json", action="store_true", help="print the import report as JSON for scripts")
    mlf = sub.add_parser(
        "import-mlflow",
        help="read an MLflow store into the store",
        description="Read an MLflow tracking store (./mlruns, file:, sqlite:///mlflow.db, ...) through MLflow's client: "
        "experiments, nested runs, params (as properties), tags, every metric point. Importing again adds only what is new. "
        'Needs: pip install "tb-runhistory-plugin[mlflow]".',
    )
    mlf.add_argument("tracking_uri", help="MLflow tracking URI or mlruns directory")
    mlf.add_argument("--experiment", help="import only this MLflow experiment (by name; default: all)")
    mlf.add_argument("--store", help=_STORE_HELP)
    mlf.add_argument("--json", action="store_true", help="print the import report as JSON for scripts")


def run_export(store: Store, args: argparse.Namespace) -> int:
    """`tb-runhistory export`; returns the exit code."""
    from ..export import export_to_tensorboard  # protobuf loads only for the commands that need it

    targets: list[object] = []
    if args.experiment:
        targets.append(Experiment._from_info(store.get_experiment(args.experiment), store))
    targets += list(args.run)
    if not targets:
        raise InvalidArgumentError("export needs --experiment NAME or at least one --run RUN_ID")
    report = export_to_tensorboard(targets, args.logdir, recursive=not args.no_children, store=store, logs=not args.no_logs)
    if args.json:
        print(json.dumps({**dataclasses.asdict(report), "points_per_second": report.points_per_second}, indent=2))
        return 0
    print(
        f"exported {len(report.run_dirs)} runs to {report.logdir}: {report.scalars:,} scalar points "
        f"({report.points_per_second:,.0f}/s), {report.records:,} other summaries" + (f", {report.log_bytes:,} bytes of run logs" if report.log_bytes else "")
    )
    if report.skipped:
        print(f"{report.skipped:,} points were kept out of the event files because their step went back (kept in .runhistory/)")
    return 0


def run_import(store: Store, args: argparse.Namespace) -> int:
    """`tb-runhistory import`; returns the exit code (1 when some files were damaged)."""
    from ..export import import_tensorboard

    report = import_tensorboard(args.logdir, experiment=args.experiment, store=store)
    summary = (
        f"imported into experiment {report.experiment!r}: {report.runs_created} new runs, {report.runs_updated} updated, "
        f"{report.scalars:,} scalar points, {report.records:,} other records"
    )
    return _print_import(report, summary, as_json=args.json)


def run_import_mlflow(store: Store, args: argparse.Namespace) -> int:
    """`tb-runhistory import-mlflow`; returns the exit code (1 when some runs could not be imported)."""
    from ..export import import_mlflow

    report = import_mlflow(args.tracking_uri, experiment=args.experiment, store=store)
    names = ", ".join(repr(n) for n in report.experiments.values()) or "no experiment"
    summary = (
        f"imported {len(report.experiments)} MLflow experiments ({names}): {report.runs_created} new runs, "
        f"{report.runs_updated} updated, {report.points:,} metric points"
    )
    return _print_import(report, summary, as_json=args.json)


def _print_import(report: ImportReport | MlflowImportReport, summary: str, *, as_json: bool) -> int:
    """An import's report: JSON for scripts, else the summary and what was skipped; errors on stderr. The exit code."""
    if as_json:
        print(json.dumps({**dataclasses.asdict(report), "ok": report.ok}, indent=2))
        return 0 if report.ok else 1
    print(summary)
    for reason, count in sorted(report.skipped.items()):
        print(f"  skipped {count:,} {reason}")
    for error in report.errors:
        print(f"tb-runhistory: {error}", file=sys.stderr)
    return 0 if report.ok else 1
