"""Scalar export speed: our exporter (end to end from the store) against TensorBoard's and tensorboardX's writers.

    python bench/bench_export.py [--points 2000000] [--series 4] [--baseline-points 50000]

Our number is `export_to_tensorboard(run, logdir)` on a fresh logdir: reading the store, writing
the event file and the exact float64 sidecar, and committing the state. The other writers get the
same kind of points (one scalar per call, as their APIs take them) on fewer points, since they are
two orders of magnitude slower; all of it runs in one process, one after the other.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin._types import ScalarBatch
from tb_runhistory_plugin.export import export_to_tensorboard
from tb_runhistory_plugin.export._eventfile import EventFileWriter, iter_records
from tb_runhistory_plugin.store import SQLiteStore

WALL0 = 1_700_000_000.0


def _series(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.arange(n, dtype=np.int64), WALL0 + np.arange(n) * 0.01, rng.standard_normal(n)


def bench_ours(base: str, points: int, series: int) -> tuple[float, float, int]:
    """Seconds of a full export, of a re-export with nothing new, and records written."""
    store = SQLiteStore(os.path.join(base, "store"))
    run = Experiment("bench", store=store).start_logging(display_name="bench")
    per = points // series
    store.write_metrics([ScalarBatch(run.id, f"series/{i}", *_series(per, i)) for i in range(series)])
    logdir = os.path.join(base, "ours")
    started = time.perf_counter()
    report = export_to_tensorboard(run, logdir, progress=False)
    seconds = time.perf_counter() - started
    assert report.scalars == per * series, report
    started = time.perf_counter()
    again = export_to_tensorboard(run, logdir, progress=False)
    noop = time.perf_counter() - started
    assert again.scalars == 0
    path = next(os.path.join(logdir, "bench", f) for f in os.listdir(os.path.join(logdir, "bench")) if "tfevents" in f)
    records = sum(1 for _ in iter_records(path))
    run.complete()
    store.close()
    return seconds, noop, records


def bench_writer_only(base: str, points: int) -> float:
    """Seconds for EventFileWriter.write_scalars alone (no store, no sidecar)."""
    steps, walls, values = _series(points, 0)
    started = time.perf_counter()
    with EventFileWriter(os.path.join(base, "raw")) as writer:
        writer.write_scalars("loss", steps, walls, values)
    return time.perf_counter() - started


def bench_tensorboard(base: str, points: int) -> float:
    from tensorboard.summary import Writer

    steps, walls, values = _series(points, 0)
    started = time.perf_counter()
    writer = Writer(os.path.join(base, "tensorboard"))
    for step, wall, value in zip(steps.tolist(), walls.tolist(), values.tolist()):
        writer.add_scalar("loss", value, step, wall_time=wall)
    writer.close()
    return time.perf_counter() - started


def bench_tensorboardx(base: str, points: int) -> float | None:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    steps, walls, values = _series(points, 0)
    started = time.perf_counter()
    writer = SummaryWriter(os.path.join(base, "tensorboardx"))
    for step, wall, value in zip(steps.tolist(), walls.tolist(), values.tolist()):
        writer.add_scalar("loss", value, step, walltime=wall)
    writer.close()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=2_000_000, help="scalar points exported by our exporter")
    parser.add_argument("--series", type=int, default=4, help="series the points are spread over")
    parser.add_argument("--baseline-points", type=int, default=50_000, help="points written by the other writers")
    args = parser.parse_args(argv)
    base = tempfile.mkdtemp(prefix="bench-export-")
    try:
        ours, noop, records = bench_ours(base, args.points, args.series)
        raw = bench_writer_only(base, args.points)
        tb = bench_tensorboard(base, args.baseline_points)
        tbx = bench_tensorboardx(base, args.baseline_points)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    exported = args.points // args.series * args.series
    rows = [
        ("export_to_tensorboard (store -> event file + sidecar)", exported, ours),
        ("  EventFileWriter.write_scalars alone", args.points, raw),
        ("tensorboard.summary.Writer.add_scalar", args.baseline_points, tb),
    ]
    if tbx is not None:
        rows.append(("tensorboardX SummaryWriter.add_scalar", args.baseline_points, tbx))
    ours_rate = exported / ours
    print(f"{'writer':<56} {'points':>10} {'seconds':>9} {'points/s':>12} {'ours is':>9}")
    for name, n, seconds in rows:
        rate = n / seconds
        print(f"{name:<56} {n:>10,} {seconds:>9.3f} {rate:>12,.0f} {ours_rate / rate:>8.1f}x")
    print(f"re-export with nothing new: {noop * 1000:.1f} ms; event file records: {records:,} (1 file_version + 1 run text + points)")
    target = 1_000_000
    print(f"target >= {target:,} points/s end to end: {'met' if ours_rate >= target else 'NOT met'} ({ours_rate:,.0f}/s)")
    return 0 if ours_rate >= target else 1


if __name__ == "__main__":
    sys.exit(main())
