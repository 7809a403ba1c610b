"""A numpy MLP on the 8x8 digits that writes TensorBoard event files itself, tied to its run.

    python demo/train.py [--store ./runhistory] [--logs ./logs] [--epochs 10] [--port 6006] [--no-serve]

Cross-validation folds are child runs logging through the run-history API; the final model writes
scalars and histograms with ``tensorboard.summary.Writer`` into the run's logs folder while it
trains, and the launcher serves both. The work is in ``tb_runhistory_plugin.demos.train``.
"""

from __future__ import annotations

import argparse
import sys

from tb_runhistory_plugin import Tensorboard
from tb_runhistory_plugin.demos import run_training
from tb_runhistory_plugin.demos._serve import serve


def main(argv: list[str] | None = None) -> int:
    """Train, then serve the run (its own event files and its history) until Ctrl-C; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store path or URI (default: $RUNHISTORY_STORE, else ./runhistory)")
    parser.add_argument("--logs", default="./logs", help="folder for the run's own event files (default: ./logs)")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training digits (default: 10)")
    parser.add_argument("--port", type=int, default=6006, help="TensorBoard's port; 0 picks a free one (default: 6006)")
    parser.add_argument("--no-serve", action="store_true", help="train only; do not start TensorBoard")
    args = parser.parse_args(argv)

    root = run_training(store=args.store, logs_root=args.logs, epochs=args.epochs)
    metrics = root.get_metrics()
    print(
        f"cross-validation accuracy {metrics['cv_accuracy']:.3f}, test accuracy {metrics['test_accuracy']:.3f}; event files in {root.info().logs_dir}",
        file=sys.stderr,
    )
    if args.no_serve:
        return 0
    return serve(Tensorboard([root], port=args.port))  # exports the run and mirrors its logs folder


if __name__ == "__main__":
    sys.exit(main())
