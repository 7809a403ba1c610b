"""Buffers of series written and then idle leave the background writer and are freed.

A run that logs once into each of 100,000 series must not keep 100,000 buffers alive for the
rest of its life: after a flush and a few idle writer rounds they are retired, and the memory
they took (traced by tracemalloc, compared to a baseline) is given back.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import weakref

from tb_runhistory_plugin import Experiment

SERIES = 100_000
PATIENCE = 300.0  # seconds to wait for retirement before failing (a guard against hanging, not a speed test)


def _wait_until(condition, what) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {PATIENCE:.0f} s: {what()}"
        time.sleep(0.2)


def _alive(refs) -> int:
    gc.collect()  # a retired buffer and its bound reopen() form a cycle
    return sum(ref() is not None for ref in refs)


def test_idle_buffers_of_100000_series_are_retired_and_their_memory_freed(tmp_path):
    run = Experiment("many-series", store=str(tmp_path / "store")).start_logging()
    writer = run._writer
    run.log("warm-up", 0.0)
    run.flush()
    warm = [weakref.ref(buf) for buf in writer._series]
    _wait_until(lambda: not _alive(warm), lambda: "the warm-up series to retire")
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for i in range(SERIES):
            run.log(f"series/{i}", float(i), step=i)
        run.flush()
        buffers = [weakref.ref(buf) for buf in list(writer._series) + list(writer._retiring) if buf.run_id == run.id]
        assert len(buffers) == SERIES  # every series has its buffer now: the test measures something
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - baseline

        # Polled until freed: the writer's lists are briefly empty while it looks at retiring buffers.
        _wait_until(lambda: not _alive(buffers), lambda: f"{_alive(buffers):,} of {SERIES:,} buffers still alive")
        after = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()

    assert not writer._series and not writer._retiring and run._scalars == {}
    # What stays per series is its name and kind (the run checks a name keeps its kind); the buffers
    # were most of what the run held.
    assert after < held / 2, f"held {held / 1e6:.1f} MB with the buffers, still {after / 1e6:.1f} MB after retirement"
    metrics = {m.name: m for m in run._store.list_metrics(run.id)}
    assert len(metrics) == SERIES + 1  # nothing logged was dropped
    assert metrics["series/99999"].last_value == 99999.0 and metrics["series/99999"].last_step == 99999
    run.log("series/7", 7.5)  # a retired series takes values again, after its last step
    run.flush()
    assert run.get_metric_history("series/7").steps.tolist() == [7, 8]
    run.complete()
