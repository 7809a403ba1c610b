"""Scalar write speed of our EventFileWriter against TensorBoard's and tensorboardX's writers.

Run by hand: ``python bench/bench_eventfile.py``. Every writer's time includes opening the file,
writing, flushing and closing. The reference writers take one Python call per point, so they get
fewer points (``--slow-points``); points/s is what compares. Also times the CRC-32C candidates.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from tb_runhistory_plugin.export import _eventfile  # noqa: E402

_WALL0 = 1_700_000_000.0  # seconds; any fixed epoch keeps runs comparable


def _data(points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 0..points-1, wall times 10 ms apart, normal values."""
    steps = np.arange(points, dtype=np.int64)
    return steps, _WALL0 + steps * 0.01, np.random.default_rng(0).standard_normal(points)


def _ours(logdir: str, tags: int, points: int) -> None:
    steps, walls, values = _data(points)
    with _eventfile.EventFileWriter(logdir) as writer:
        for i in range(tags):
            writer.write_scalars(f"bench/tag_{i}", steps, walls, values)
        writer.flush()


def _tensorboard(logdir: str, tags: int, points: int) -> None:
    from tensorboard.summary import Writer

    steps, walls, values = _data(points)
    writer = Writer(logdir)
    for i in range(tags):
        tag = f"bench/tag_{i}"
        for step, wall, value in zip(steps.tolist(), walls.tolist(), values.tolist()):
            writer.add_scalar(tag, value, step, wall_time=wall)
    writer.flush()
    writer.close()


def _tensorboardx(logdir: str, tags: int, points: int) -> None:
    from tensorboardX import SummaryWriter

    steps, walls, values = _data(points)
    writer = SummaryWriter(logdir)
    for i in range(tags):
        tag = f"bench/tag_{i}"
        for step, wall, value in zip(steps.tolist(), walls.tolist(), values.tolist()):
            writer.add_scalar(tag, value, step, walltime=wall)
    writer.flush()
    writer.close()


def _time_writer(fn: Callable[[str, int, int], None], tags: int, points: int, repeats: int) -> tuple[float, int]:
    """Best wall-clock seconds over ``repeats`` fresh directories, and the bytes written."""
    best, size = float("inf"), 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as logdir:
            start = time.perf_counter()
            fn(logdir, tags, points)
            best = min(best, time.perf_counter() - start)
            size = sum(p.stat().st_size for p in Path(logdir).rglob("*") if p.is_file())
    return best, size


def _has(module: str) -> str | None:
    """The version of an importable module, or None."""
    try:
        imported = __import__(module)
    except ImportError:
        return None
    return str(getattr(imported, "__version__", "installed"))


def _bench_crc() -> None:
    """Per-call time on a 50-byte record and throughput on 1 MiB for each CRC-32C implementation."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c as tensorboard_crc32c

    candidates: list[tuple[str, Callable[[bytes], int]]] = [
        ("tensorboard (pure Python)", tensorboard_crc32c),
        ("ours, fallback (pure Python)", _eventfile._crc32c_python),
    ]
    try:
        import google_crc32c

        name = f"google-crc32c {_dist_version('google-crc32c')} ({google_crc32c.implementation})"
        candidates.append((name, google_crc32c.value))
    except ImportError:
        print("google-crc32c not installed: skipped")
    try:
        import crc32c

        candidates.append((f"crc32c {_dist_version('crc32c')} (hardware={crc32c.hardware_based})", crc32c.crc32c))
    except ImportError:
        print("crc32c not installed: skipped")
    rng = np.random.default_rng(1)
    small, big = rng.bytes(50), rng.bytes(1 << 20)
    print(f"\n{'CRC-32C implementation':44} {'50 B call':>12} {'1 MiB':>12}")
    for name, fn in candidates:
        assert fn(small) == _eventfile._crc32c_python(small), name
        slow = "pure Python" in name
        calls = 2_000 if slow else 200_000
        per_call = timeit.timeit(lambda fn=fn: fn(small), number=calls) / calls
        big_calls = 1 if slow else 50
        per_mib = timeit.timeit(lambda fn=fn: fn(big), number=big_calls) / big_calls
        print(f"{name:44} {per_call * 1e9:9.0f} ns {1 / per_mib:8.1f} MiB/s")


def _dist_version(name: str) -> str:
    """Installed distribution version."""
    from importlib import metadata

    return metadata.version(name)


def main() -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--points", type=int, default=100_000, help="points per tag for our writer")
    parser.add_argument("--slow-points", type=int, default=2_000, help="points per tag for the reference writers")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cores, "
        f"CRC: {'google-crc32c' if _eventfile._crc32c is not _eventfile._crc32c_python else 'pure-Python fallback'}"
    )
    rows = [("tb_runhistory EventFileWriter.write_scalars", _ours, args.points)]
    rows.append(("tensorboard.summary.Writer.add_scalar", _tensorboard, args.slow_points))
    tbx = _has("tensorboardX")
    if tbx:
        native = _has("crc32c") is not None  # tensorboardX switches to the crc32c package when present
        rows.append((f"tensorboardX {tbx} add_scalar (crc32c pkg: {native})", _tensorboardx, args.slow_points))
    else:
        print("tensorboardX not installed (pip install tensorboardX): skipped")
    print(f"\n{'writer':56} {'points':>10} {'seconds':>9} {'points/s':>12} {'bytes/pt':>9}")
    for name, fn, points in rows:
        total = args.tags * points
        seconds, size = _time_writer(fn, args.tags, points, args.repeats)
        print(f"{name:56} {total:10,} {seconds:9.3f} {total / seconds:12,.0f} {size / total:9.1f}")
    _bench_crc()


if __name__ == "__main__":
    main()
