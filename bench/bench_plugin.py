"""Benchmark of the Run History plugin's routes, next to TensorBoard's own scalars route.

Run by hand (not in CI): `python bench/bench_plugin.py [--dir DIR] [--repeat N] [--skip-tensorboard]`.

It builds once (and reuses) a store in DIR (default /tmp/tb-runhistory-bench) holding
- `big`: one run whose metric `loss` has 10,000,000 points, with one spike;
- `runs`: an experiment with 10,000 top-level runs (tags, properties, two scalars each);
- `sweep`: one parent run with 10,000 children;
- `compare`: 20 runs x 100,000 points;
and the same scalars exported to event files in DIR/logdir. It then times, server-side (the WSGI
call in this process, JSON encoding and gzip included), the routes the issue sets targets for:

| target | route |
|---|---|
| < 50 ms | /series on the 10 M-point metric, points=1000 |
| < 100 ms | /runs, first page of 10,000 runs (roots of `runs`, and children of `sweep`) |
| < 100 ms | /compare of 20 runs x 100,000 points, points=1000 |

and, over a socket against one real TensorBoard serving both plugins (Rust data server, the
default), our routes next to `/data/plugin/scalars/scalars` (and `scalars_multirun` for the
overlay) on the same data. TensorBoard answers with a random reservoir sample of 1,000 points
per series (kept at load time), so a spike survives only by luck; we return every point's
min/max in 1,000 buckets.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from tb_runhistory_plugin._types import ScalarBatch, Status
from tb_runhistory_plugin.store import SQLiteStore

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from tensorboard_server import start_tensorboard  # noqa: E402 - the tests' in-process TensorBoard

BIG_POINTS = 10_000_000
SPIKE_AT = 7_654_321
RUNS = 10_000
COMPARE_RUNS, COMPARE_POINTS = 20, 100_000
READY = "ready-v1"  # marker file of a complete data set


# -- data ---------------------------------------------------------------------------------------
def build(folder: str) -> None:
    """Create the store and the event files, unless a previous run finished them."""
    if os.path.exists(os.path.join(folder, READY)):
        return
    started = time.perf_counter()
    store = SQLiteStore(os.path.join(folder, "store"))
    rng = np.random.default_rng(0)
    exp = store.get_or_create_experiment("big")
    store.create_run(exp.id, run_id="big", display_name="big", start_time=1.7e9)
    for start in range(0, BIG_POINTS, 1_000_000):
        steps = np.arange(start, start + 1_000_000, dtype=np.int64)
        values = np.sin(steps / 1e5) + rng.normal(0, 0.01, len(steps))
        if start <= SPIKE_AT < start + 1_000_000:
            values[SPIKE_AT - start] = 1e6
        store.write_metrics([ScalarBatch("big", "loss", steps, 1.7e9 + steps * 0.01, values)])
    print(f"  10 M points written in {time.perf_counter() - started:.1f} s", flush=True)

    for name, parent in (("runs", None), ("sweep", "sweep-parent")):
        exp = store.get_or_create_experiment(name)
        if parent:
            store.create_run(exp.id, run_id=parent, display_name="sweep", start_time=1.7e9)
        batches = []
        for i in range(RUNS):
            run_id = f"{name}-{i:05d}"
            store.create_run(
                exp.id,
                run_id=run_id,
                display_name=f"alpha{i / RUNS:.4f}",
                parent_id=parent,
                tags={"team": "vision", "alpha": repr(i / RUNS)},
                properties={"alpha": i / RUNS, "seed": i},
                start_time=1.7e9 + i,
            )
            for metric, value in (("loss", 1 / (i + 1)), ("accuracy", i / RUNS)):
                batches.append(ScalarBatch(run_id, metric, np.array([0, 1]), np.array([1.7e9 + i, 1.7e9 + i + 1]), np.array([value * 2, value])))
        store.write_metrics(batches)
        for i in range(0, RUNS, 3):
            store.set_run_status(f"{name}-{i:05d}", Status.COMPLETED, end_time=1.7e9 + i + 60)
        print(f"  {RUNS:,} runs of {name!r} written ({time.perf_counter() - started:.1f} s)", flush=True)

    exp = store.get_or_create_experiment("compare")
    for r in range(COMPARE_RUNS):
        store.create_run(exp.id, run_id=f"c{r:02d}", display_name=f"c{r:02d}", start_time=1.7e9)
        steps = np.arange(COMPARE_POINTS, dtype=np.int64)
        values = np.exp(-steps / 3e4) * (1 + r / 10) + rng.normal(0, 0.01, COMPARE_POINTS)
        store.write_metrics([ScalarBatch(f"c{r:02d}", "loss", steps, 1.7e9 + steps * 0.1, values)])
    store.close()
    print(f"  compare runs written ({time.perf_counter() - started:.1f} s)", flush=True)
    export(folder)
    print(f"  event files written ({time.perf_counter() - started:.1f} s)", flush=True)
    open(os.path.join(folder, READY), "w").close()


def export(folder: str) -> None:
    """The same scalars as event files, one run directory per run (for TensorBoard's own route)."""
    store = SQLiteStore(os.path.join(folder, "store"), create=False)
    try:  # the project's vectorized exporter, when present
        from tb_runhistory_plugin.export._eventfile import EventFileWriter

        def write(run: str, history) -> None:
            with EventFileWriter(os.path.join(folder, "logdir", run), wall_time=1.7e9) as writer:
                writer.write_scalars("loss", history.steps, history.wall_times, history.values)

    except ImportError:  # TensorBoard's record writer and protos: about 145,000 points a second
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        def write(run: str, history) -> None:
            os.makedirs(os.path.join(folder, "logdir", run), exist_ok=True)
            path = os.path.join(folder, "logdir", run, "events.out.tfevents.1700000000.bench.0.0")
            with open(path, "wb") as handle:
                writer = RecordWriter(handle)
                writer.write(event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2").SerializeToString())
                for s, w, v in zip(history.steps.tolist(), history.wall_times.tolist(), history.values.tolist()):
                    value = summary_pb2.Summary.Value(tag="loss", simple_value=v)
                    writer.write(event_pb2.Event(wall_time=w, step=s, summary=summary_pb2.Summary(value=[value])).SerializeToString())
                writer.flush()

    for run in ["big"] + [f"c{r:02d}" for r in range(COMPARE_RUNS)]:
        write(run, store.read_scalars(run, "loss"))
    store.close()


# -- timing -------------------------------------------------------------------------------------
def timed(call, repeat: int) -> list[float]:
    """Milliseconds of `repeat` calls after two warm-up calls."""
    call()
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def row(label: str, times: list[float], target: float | None = None, note: str = "") -> list[str]:
    median = statistics.median(times)
    verdict = "" if target is None else ("ok" if median < target else "MISSED")
    return [label, f"{min(times):.1f}", f"{median:.1f}", f"{max(times):.1f}", "" if target is None else f"< {target:.0f}", verdict, note]


def print_table(title: str, rows: list[list[str]]) -> None:
    header = ["route", "min ms", "median ms", "max ms", "target", "", "notes"]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def in_process(folder: str, repeat: int) -> None:
    """Server-side times: the WSGI app called in this process (no socket)."""
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from werkzeug.test import Client

    from tb_runhistory_plugin.plugin.plugin import RunHistoryPlugin

    plugin = RunHistoryPlugin(base_plugin.TBContext(), store=os.path.join(folder, "store"))
    client = Client(application.TensorBoardWSGI([plugin]))
    compare = ",".join(f"c{r:02d}" for r in range(COMPARE_RUNS))
    cases = [
        ("/series 10 M points, points=1000", "/series?run=big&name=loss&points=1000", 50),
        ("/series 10 M points, zoomed to 1 M", "/series?run=big&name=loss&points=1000&xmin=7000000&xmax=8000000", None),
        ("/series 10 M points, zoomed to 100 k", "/series?run=big&name=loss&points=1000&xmin=7600000&xmax=7700000", None),
        ("/series 100 k points, points=1000", "/series?run=c00&name=loss&points=1000", None),
        ("/runs first page of 10,000 roots", "/runs?experiment=runs&limit=100", 100),
        ("/runs newest page of 10,000 roots", "/runs?experiment=runs&limit=100&order=desc", 100),
        ("/runs first page of 10,000 children", "/runs?parent=sweep-parent&limit=100", 100),
        ("/runs 10,000 roots filtered by tag+q", "/runs?experiment=runs&tag=team:vision&q=alpha0.9&limit=100", None),
        ("/compare 20 runs x 100 k, points=1000", f"/compare?runs={compare}&name=loss&points=1000", 100),
        ("/compare same, exact=1 (float64)", f"/compare?runs={compare}&name=loss&points=1000&exact=1", None),
        ("/experiments (3 x 10,000 runs)", "/experiments", None),
        ("/sweep 10,000 children", "/sweep?parent=sweep-parent&limit=10000", None),
    ]
    for gzip_label, headers in (("with Accept-Encoding: gzip (as browsers send)", {"Accept-Encoding": "gzip"}), ("without gzip", {})):
        rows = []
        for label, path, target in cases:
            url = "/data/plugin/runhistory" + path

            def call(url=url):
                response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, response.data[:300])
                return response

            size = len(call().data)
            rows.append(row(label, timed(call, repeat), target, f"{size / 1024:.0f} KiB"))
        print_table(f"Server-side, in process, {gzip_label}; {repeat} runs each", rows)
    response = client.get("/data/plugin/runhistory/series?run=big&name=loss&points=1000")
    buckets = json.loads(response.data)["buckets"]
    print(f"\nSpike check: max over the 1,000 buckets of 10 M points = {max(buckets['max']):g} (logged 1e6 at step {SPIKE_AT:,})")


def against_tensorboard(folder: str, repeat: int) -> None:
    """Both plugins in one real TensorBoard, timed over a socket."""
    base, stop_tensorboard = start_tensorboard(os.path.join(folder, "logdir"), "--runhistory_store", os.path.join(folder, "store"))

    def get(path: str, data: bytes | None = None) -> bytes:
        """The raw (gzipped) body, as a browser receives it."""
        request = urllib.request.Request(base + path.lstrip("/"), data=data, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read()

    def get_json(path: str):
        return json.loads(gzip.decompress(get(path)))

    started = time.perf_counter()
    print("\nWaiting for TensorBoard to load the event files (10 M + 2 M scalars)...", flush=True)
    while True:  # the reservoir always keeps the newest point: loaded once the last step is there
        try:
            body = get_json("/data/plugin/scalars/scalars?run=big&tag=loss")
            last = get_json("/data/plugin/scalars/scalars?run=c19&tag=loss")
            if body and body[-1][1] == BIG_POINTS - 1 and last and last[-1][1] == COMPARE_POINTS - 1:
                break
        except urllib.error.HTTPError:  # the run or tag is not loaded yet
            pass
        if time.perf_counter() - started > 1800:
            raise SystemExit("TensorBoard did not load the event files within 30 minutes")
        time.sleep(1)
    print(f"  loaded in {time.perf_counter() - started:.0f} s; scalars returns {len(body)} sampled points of {BIG_POINTS:,}")
    spike = max(v for _, _, v in body)
    print(f"  TensorBoard's sample of the 10 M points has max {spike:g} (the spike of 1e6 {'survived' if spike == 1e6 else 'was dropped'})")

    runs = [f"c{r:02d}" for r in range(COMPARE_RUNS)]
    multirun = urllib.parse.urlencode([("tag", "loss")] + [("runs", r) for r in runs]).encode()
    cases = [
        ("TB /scalars/scalars, 10 M points (1,000 sampled)", lambda: get("/data/plugin/scalars/scalars?run=big&tag=loss")),
        ("ours /series, 10 M points, points=1000", lambda: get("/data/plugin/runhistory/series?run=big&name=loss&points=1000")),
        ("TB /scalars/scalars x 20, 100 k points each", lambda: [get(f"/data/plugin/scalars/scalars?run={r}&tag=loss") for r in runs]),
        ("TB /scalars/scalars_multirun, 20 runs (POST)", lambda: get("/data/plugin/scalars/scalars_multirun", multirun)),
        ("ours /compare, 20 runs x 100 k, points=1000", lambda: get("/data/plugin/runhistory/compare?runs=" + ",".join(runs) + "&name=loss")),
        ("TB /data/runs (run names only)", lambda: get("/data/runs")),
        ("ours /runs, first page of 10,000", lambda: get("/data/plugin/runhistory/runs?experiment=runs&limit=100")),
    ]

    def size(body) -> int:
        return sum(map(len, body)) if isinstance(body, list) else len(body)

    rows = [row(label, timed(call, repeat), None, f"{size(call()) / 1024:.0f} KiB gzipped") for label, call in cases]
    print_table(f"Over a socket, one TensorBoard serving both (Accept-Encoding: gzip); {repeat} runs each", rows)
    stop_tensorboard()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="/tmp/tb-runhistory-bench", help="where the data set is built (and reused)")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per route")
    parser.add_argument("--skip-tensorboard", action="store_true", help="only the in-process timings")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    print(f"Data set in {args.dir} (built once, then reused)", flush=True)
    build(args.dir)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    in_process(args.dir, args.repeat)
    if not args.skip_tensorboard:
        against_tensorboard(args.dir, max(3, args.repeat // 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
