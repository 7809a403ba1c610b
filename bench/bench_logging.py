"""Logging speed: log() calls/s, durable points/s and history reads, beside MLflow and Aim when installed.

Run by hand: python bench/bench_logging.py [--quick]
Targets (2 cores): log() >= 1,000,000 calls/s; durable >= 1,000,000 points/s (10 metrics x
100,000 steps, first log() to flush()); get_metric_history of 1,000,000 points < 50 ms.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from tb_runhistory_plugin import Experiment  # noqa: E402


def _best(samples: list[float]) -> str:
    return f"{max(samples):,.0f} (median {statistics.median(samples):,.0f})"


def bench_ours(root: str, repeats: int, steps: int) -> dict[str, str]:
    exp = Experiment("bench", store=os.path.join(root, "ours"))
    calls, durable, reads = [], [], []
    names = [f"metric{i}" for i in range(10)]
    for _ in range(repeats):
        run = exp.start_logging()
        log = run.log
        gc.collect()
        start = time.perf_counter()
        for _ in range(1_000_000):
            log("loss", 0.5)
        calls.append(1_000_000 / (time.perf_counter() - start))
        run.flush()

        start = time.perf_counter()
        for step in range(steps):
            for name in names:
                log(name, 0.25)
        run.flush()
        durable.append(len(names) * steps / (time.perf_counter() - start))

        start = time.perf_counter()
        history = run.get_metric_history("loss")
        reads.append((time.perf_counter() - start) * 1000)
        assert len(history) == 1_000_000
        run.complete()
    return {
        "log() calls/s": _best(calls),
        f"durable points/s ({len(names)} x {steps:,})": _best(durable),
        "get_metric_history(1,000,000) ms": f"{min(reads):.1f} (median {statistics.median(reads):.1f})",
    }


def bench_mlflow(root: str, steps: int) -> dict[str, str]:
    try:
        import mlflow
        from mlflow.entities import Metric
    except ImportError:
        return {"mlflow": "not installed (pip install mlflow)"}
    mlflow.set_tracking_uri("sqlite:///" + os.path.join(root, "mlflow.db"))
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("bench", artifact_location=os.path.join(root, "mlruns"))
    run = client.create_run(exp_id)
    points = 2_000
    start = time.perf_counter()
    for step in range(points):
        client.log_metric(run.info.run_id, "loss", 0.5, step=step)
    single = points / (time.perf_counter() - start)
    total = 10 * min(steps, 20_000)
    start = time.perf_counter()
    now = int(time.time() * 1000)
    batch: list = []
    for step in range(total // 10):
        for i in range(10):
            batch.append(Metric(f"metric{i}", 0.25, now, step))
            if len(batch) == 1000:
                client.log_batch(run.info.run_id, metrics=batch)
                batch = []
    if batch:
        client.log_batch(run.info.run_id, metrics=batch)
    batched = total / (time.perf_counter() - start)
    return {f"mlflow {mlflow.__version__} log_metric points/s": f"{single:,.0f}", "mlflow log_batch points/s": f"{batched:,.0f}"}


def bench_aim(root: str, steps: int) -> dict[str, str]:
    try:
        import aim
    except ImportError:
        return {"aim": "not installed (pip install aim)"}
    run = aim.Run(repo=os.path.join(root, "aim"), experiment="bench")
    total = min(steps, 20_000)
    start = time.perf_counter()
    for step in range(total):
        run.track(0.5, name="loss", step=step)
    run.close()
    from importlib.metadata import version

    return {f"aim {version('aim')} track points/s": f"{total / (time.perf_counter() - start):,.0f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, fewer steps")
    args = parser.parse_args()
    repeats, steps = (1, 20_000) if args.quick else (3, 100_000)
    with tempfile.TemporaryDirectory() as root:
        rows = {**bench_ours(root, repeats, steps), **bench_mlflow(root, steps), **bench_aim(root, steps)}
    width = max(map(len, rows))
    print(f"{'measure':<{width}}  result")
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
