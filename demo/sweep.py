"""The ridge-regression sweep: one child run per alpha, exported to TensorBoard and served.

    python demo/sweep.py [--store ./runhistory] [--port 6006] [--logdir DIR] [--no-serve]

The work is in ``tb_runhistory_plugin.demos.sweep`` (so ``tb-runhistory demo`` and the tests
reuse it); the data ships with the package (``demo/data/README.md``: source and licence).
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from tb_runhistory_plugin import Tensorboard, export_to_tensorboard
from tb_runhistory_plugin.demos import run_sweep
from tb_runhistory_plugin.demos._serve import serve


def main(argv: list[str] | None = None) -> int:
    """Log the sweep, export it, serve it until Ctrl-C; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store path or URI (default: $RUNHISTORY_STORE, else ./runhistory)")
    parser.add_argument("--port", type=int, default=6006, help="TensorBoard's port; 0 picks a free one (default: 6006)")
    parser.add_argument("--logdir", help="where to export the event files (default: a temporary directory)")
    parser.add_argument("--no-serve", action="store_true", help="log and export only; do not start TensorBoard")
    args = parser.parse_args(argv)

    root = run_sweep(store=args.store)
    by_alpha = root.get_metrics("by_alpha")["by_alpha"]
    for alpha, mse in zip(by_alpha["alpha"], by_alpha["mse"], strict=True):
        print(f"alpha={alpha:g}  test mse={mse:.1f}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ridge-sweep-") as scratch:
        logdir = args.logdir or scratch
        report = export_to_tensorboard(root, logdir)  # the root and its children, nested by name
        print(f"exported {len(report.run_dirs)} runs to {report.logdir}", file=sys.stderr)
        if args.no_serve:
            return 0
        return serve(Tensorboard([root], local_root=logdir, port=args.port))


if __name__ == "__main__":
    sys.exit(main())
