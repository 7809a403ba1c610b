"""Team load: W writer processes x N points each, through the REST server, into PostgreSQL at once.

    python bench/bench_team.py [--writers 8] [--points 100000] [--server werkzeug|waitress]
                               [--postgres postgresql://postgres@127.0.0.1:5432/test]

Starts `serve()` (werkzeug, threaded; or waitress) in a child process over a fresh PostgreSQL
schema, releases every writer at once (each logs through Experiment/Run with the background
writer, then ends its run, which flushes), reads everything back, checks that exactly W x N
points arrived with steps 0..N-1 in every series, prints points/s, and drops the schema.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid

import numpy as np
import requests

TOKEN = "bench-token"
_SERVER = """
import sys
from tb_runhistory_plugin.store._postgres import PostgresStore
kind, url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = PostgresStore(url)
if kind == "waitress":
    import waitress
    from tb_runhistory_plugin.server import RunHistoryApp
    waitress.serve(RunHistoryApp(store, token="%s"), host="127.0.0.1", port=port, threads=8, _quiet=True)
else:
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from tb_runhistory_plugin.server import serve
    serve(store, port=port, token="%s")
""" % (TOKEN, TOKEN)


def _writer(url: str, index: int, points: int, barrier, results) -> None:
    from tb_runhistory_plugin import Experiment
    from tb_runhistory_plugin.store._http import HttpStore

    store = HttpStore(url, token=TOKEN, timeout=60)
    run = Experiment("bench-team", store=store).start_logging(f"writer-{index}")
    barrier.wait()
    started = time.perf_counter()
    for i in range(points):
        run.log("loss", 1.0 / (i + 1))
    logged = time.perf_counter()
    run.complete()  # flushes every buffered point
    results.put((index, run.id, logged - started, time.perf_counter() - started))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--server", choices=["werkzeug", "waitress"], default="werkzeug")
    parser.add_argument("--postgres", default=os.environ.get("RUNHISTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    import psycopg

    schema = f"rh_bench_{uuid.uuid4().hex[:10]}"
    store_url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", _SERVER, args.server, store_url, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(args.writers + 1), ctx.Queue()
        procs = [ctx.Process(target=_writer, args=(url, i, args.points, barrier, results)) for i in range(args.writers)]
        for proc in procs:
            proc.start()
        barrier.wait()
        started = time.perf_counter()
        done = [results.get(timeout=600) for _ in procs]
        elapsed = time.perf_counter() - started
        for proc in procs:
            proc.join(timeout=60)

        from tb_runhistory_plugin.store._http import HttpStore

        reader = HttpStore(url, token=TOKEN, timeout=60)
        read_started = time.perf_counter()
        total = 0
        for _, run_id, _, _ in done:
            history = reader.read_scalars(run_id, "loss")
            assert np.array_equal(history.steps, np.arange(args.points)), f"run {run_id}: steps are not 0..{args.points - 1}"
            total += len(history)
        read_s = time.perf_counter() - read_started
        reader.close()
        expected = args.writers * args.points
        print(f"writers: {args.writers} processes x {args.points:,} points, server: {args.server}, store: PostgreSQL")
        print(f"points read back: {total:,} (expected {expected:,}) {'OK' if total == expected else 'MISMATCH'}")
        print(f"wall time from start to the last flush: {elapsed:.2f} s -> {expected / elapsed:,.0f} points/s")
        print(f"per writer: log loop {np.mean([d[2] for d in done]):.2f} s, log + flush {np.mean([d[3] for d in done]):.2f} s (mean)")
        print(f"read back {total:,} points over HTTP in {read_s:.2f} s -> {total / read_s:,.0f} points/s")
        return 0 if total == expected else 1
    finally:
        server.terminate()
        server.wait(timeout=10)
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
