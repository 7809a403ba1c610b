"""Import time of damaged event files: a tail of zeros, a tail of random bytes, zeros in the middle.

Run by hand: ``python bench/bench_import.py [--megabytes 32]``. Each case is a file of 1,000 good
scalar events followed (or interrupted) by the damaged stretch, imported into a fresh SQLite store;
the time covers the whole ``import_tensorboard`` call. Target: well under a second for 32 MB
(issue 11, item 15: a 32 MB file ending in zeros took 17 s before the reader jumped over zero runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from tb_runhistory_plugin.export import import_tensorboard  # noqa: E402
from tb_runhistory_plugin.export._eventfile import EventFileWriter  # noqa: E402
from tb_runhistory_plugin.store import SQLiteStore  # noqa: E402

_WALL0 = 1_700_000_000.0  # seconds
_GOOD = 1_000  # scalar events before the damage


def _case(root: Path, name: str, damage: bytes, *, tail: bool) -> tuple[float, int, int]:
    """(seconds, scalars imported, errors reported) for one damaged file."""
    logdir = root / name / "logs"
    with EventFileWriter(logdir / "run") as writer:
        writer.write_scalars("x", list(range(_GOOD)), [_WALL0] * _GOOD, [0.5] * _GOOD)
        path = writer.path
    with open(path, "ab") as handle:
        handle.write(damage)
    if not tail:
        with EventFileWriter(logdir / "run") as later:
            later.write_scalars("x", [_GOOD], [_WALL0], [1.0])
        with open(path, "ab") as handle:
            handle.write(later.path.read_bytes())
        os.unlink(later.path)
    with SQLiteStore(root / name / "store") as store:
        started = time.perf_counter()
        report = import_tensorboard(logdir, experiment=name, store=store)
        seconds = time.perf_counter() - started
    return seconds, report.scalars, len(report.errors)


def main() -> None:
    """Print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=32)
    args = parser.parse_args()
    size = args.megabytes << 20
    cases = {
        "zero tail": (bytes(size), True),
        "random tail": (os.urandom(size), True),
        "zeros, then a good file": (bytes(size), False),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (damage, tail) in cases.items():
            seconds, scalars, errors = _case(Path(tmp), name.replace(" ", "_").replace(",", ""), damage, tail=tail)
            print(f"{name:<26} {args.megabytes} MB  {seconds * 1000:8.1f} ms  {scalars} scalars  {errors} error(s)")


if __name__ == "__main__":
    main()
