"""log() from many threads at once: every (step, value, wall time) triple is stored exactly as logged."""

from __future__ import annotations

import threading
import time

import numpy as np

from tb_runhistory_plugin import Experiment

THREADS = 4
POINTS = 200_000  # per thread


def _value(step: int) -> float:
    return step * 0.5 + 3.0


def _run_threads(target, count: int = THREADS) -> None:
    start = threading.Barrier(count)
    threads = [threading.Thread(target=target, args=(i, start)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive()


def _check_pairs(history, before: float, after: float) -> None:
    steps, values, walls = history.steps, history.values, history.wall_times
    assert np.array_equal(values, steps * 0.5 + 3.0), f"{int(np.sum(values != steps * 0.5 + 3.0))} mis-paired values"
    assert np.all((walls >= before) & (walls <= after))
    # Each thread logs its steps in order, so wall times sorted by step never go back within a thread.
    order = np.argsort(steps, kind="stable")
    by_thread = (steps[order] % THREADS, walls[order])
    for t in range(THREADS):
        mine = by_thread[1][by_thread[0] == t]
        assert np.all(np.diff(mine) >= 0), f"wall times of thread {t} are not paired with their steps"


def test_four_threads_logging_into_one_series_keep_every_pair(tmp_path):
    run = Experiment("threads", store=str(tmp_path / "store")).start_logging()
    before = time.time()

    def produce(i: int, start: threading.Barrier) -> None:
        log = run.log
        start.wait()
        for step in range(i, THREADS * POINTS, THREADS):
            log("x", _value(step), step=step)

    _run_threads(produce)
    after = time.time()
    history = run.get_metric_history("x")
    assert len(history) == THREADS * POINTS
    assert sorted(history.steps.tolist()) == list(range(THREADS * POINTS))
    _check_pairs(history, before, after)
    run.complete()


def test_threads_logging_into_many_series_keep_every_pair(tmp_path):
    run = Experiment("threads", store=str(tmp_path / "store")).start_logging()
    names = [f"m{j}" for j in range(16)]
    before = time.time()

    def produce(i: int, start: threading.Barrier) -> None:
        log = run.log
        start.wait()
        for step in range(i, THREADS * POINTS // 4, THREADS):
            for name in names:
                log(name, _value(step), step=step)

    _run_threads(produce)
    after = time.time()
    for name in names:
        history = run.get_metric_history(name)
        assert len(history) == THREADS * POINTS // 4
        _check_pairs(history, before, after)
    run.complete()


def test_threads_with_steps_beyond_float_precision_keep_them_exact(tmp_path):
    run = Experiment("threads", store=str(tmp_path / "store")).start_logging()
    base = 2**62 - THREADS * 50_000

    def produce(i: int, start: threading.Barrier) -> None:
        start.wait()
        for k in range(i, THREADS * 50_000, THREADS):
            run.log("big", float(k), step=base + k)
            run.log("small", float(k), step=k)

    _run_threads(produce)
    big, small = run.get_metric_history("big"), run.get_metric_history("small")
    assert np.array_equal(big.steps - base, big.values.astype(np.int64))
    assert np.array_equal(small.steps, small.values.astype(np.int64))
    assert len(big) == len(small) == THREADS * 50_000
    run.complete()


def test_threads_with_log_list_and_automatic_steps_lose_nothing(tmp_path):
    run = Experiment("threads", store=str(tmp_path / "store")).start_logging()

    def produce(i: int, start: threading.Barrier) -> None:
        start.wait()
        for k in range(2_000):
            run.log_list("chunks", [i * 1_000_000 + k * 10 + j for j in range(10)])
            run.log("auto", i * 1_000_000 + k)

    _run_threads(produce)
    chunks, auto = run.get_metric_history("chunks"), run.get_metric_history("auto")
    assert chunks.steps.tolist() == list(range(THREADS * 20_000))
    assert auto.steps.tolist() == list(range(THREADS * 2_000))
    # A log_list call is one block of consecutive steps, never interleaved with another thread's.
    blocks = chunks.values.reshape(-1, 10)
    assert np.all(np.diff(blocks, axis=1) == 1)
    assert sorted(auto.values.tolist()) == sorted(i * 1_000_000 + k for i in range(THREADS) for k in range(2_000))
    run.complete()
