"""Benchmark of filtered, sorted run listings: the plugin's /runs with a query over 100,000 runs.

Run by hand (not in CI): `python bench/bench_query.py [--dir DIR] [--repeat N] [--skip-postgres]`.

It builds once (and reuses) a store of 1,000 parents x 100 children = 101,000 runs (parents
included), each child with 20 scalar metrics of 10 steps, params `alpha` (float) and `optimizer`
(str) and, for one child in ten, the tag `team=vision`. Rows are written with bulk inserts
(executemany on SQLite, COPY on PostgreSQL) through the same chunk and summary code the store
uses, so the result is a normal store (it opens, migrates and answers as any other). SQLite lives
in DIR (default /tmp/tb-runhistory-bench-query), PostgreSQL in schema `bench_query` of
postgresql://postgres@127.0.0.1:5432/test.

It then times, server-side (the WSGI call in this process, JSON encoding included), the plugin's
/runs first page (50 runs) with the two-clause `or` filter
`params.alpha >= 0.95 or tags.team = "vision"` sorted by `metrics.m0.min`, over every run
(parent=*) and over the children of one parent, on both stores. Target: < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.parse

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tb_runhistory_plugin.store import _chunks  # noqa: E402
from tb_runhistory_plugin.store._sqlite import SQLiteStore, _pack_float  # noqa: E402

PARENTS, CHILDREN, METRICS, STEPS = 1000, 100, 20, 10
EXPERIMENT = "query-bench"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test?schema=bench_query"
FILTER = 'params.alpha >= 0.95 or tags.team = "vision"'
SORT = "metrics.m0.min"


def rows(experiment_id: str):
    """(runs, params, tags, metrics, chunks) rows, in the stores' column order, generated once per build."""
    rng = np.random.default_rng(7)
    t0 = time.time() - 86_400
    runs, params, tags, metrics, chunks = [], [], [], [], []
    metric_id = 0
    steps = np.arange(STEPS, dtype=np.int64)
    for p in range(PARENTS):
        parent = f"p{p:04d}"
        start = t0 + p * 60
        runs.append((parent, experiment_id, None, f"sweep {p}", "Completed", start, start + 3000, start))
        for c in range(CHILDREN):
            run_id = f"{parent}c{c:03d}"
            begin = start + c * 0.5
            runs.append((run_id, experiment_id, parent, f"trial {c}", "Completed", begin, begin + 30, begin))
            params.append((run_id, "alpha", "float", float(rng.random()), None))
            params.append((run_id, "optimizer", "str", None, ("adam", "sgd", "lion")[c % 3]))
            if c % 10 == 0:
                tags.append((run_id, "team", "vision"))
            walls = begin + steps.astype(np.float64)
            for m in range(METRICS):
                metric_id += 1
                values = rng.normal(size=STEPS)
                last, lo, hi, total, finite = _chunks.batch_summary(values)
                metrics.append(
                    (metric_id, run_id, f"m{m}", "scalar", "float", STEPS, STEPS - 1, float(values[-1]), float(walls[-1]), "", last, lo, hi, total, finite)
                )
                chunk = _chunks.make_chunk(0, steps, walls, values)
                chunks.append(
                    (
                        metric_id,
                        0,
                        chunk.count,
                        chunk.step_min,
                        chunk.step_max,
                        chunk.wall_min,
                        chunk.wall_max,
                        chunk.summary,
                        chunk.steps,
                        chunk.wall_times,
                        chunk.values,
                    )
                )
    return runs, params, tags, metrics, chunks


def build_sqlite(folder: str) -> SQLiteStore:
    marker = os.path.join(folder, "built")
    store = SQLiteStore(folder)
    if os.path.exists(marker):
        return store
    exp = store.get_or_create_experiment(EXPERIMENT)
    runs, params, tags, metrics, chunks = rows(exp.id)
    started = time.perf_counter()

    def insert(conn) -> None:
        conn.executemany(
            "INSERT INTO runs (id, experiment_id, parent_id, display_name, status, start_time, end_time, heartbeat_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runs
        )
        conn.executemany("INSERT INTO params VALUES (?, ?, ?, ?, ?)", params)
        conn.executemany("INSERT INTO tags VALUES (?, ?, ?)", tags)
        conn.executemany(
            "INSERT INTO metrics (id, run_id, name, kind, value_type, count, last_step, last_value, last_wall_time, description,"
            " s_last, s_min, s_max, s_sum, s_finite) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*m[:7], _pack_float(m[7]), *m[8:]) for m in metrics],
        )
        conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunks)

    store._write(insert)
    store._write(lambda conn: conn.execute("ANALYZE"))
    open(marker, "w").close()
    print(f"built SQLite store in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return store


def build_postgres():
    from tb_runhistory_plugin.store._postgres import PostgresStore

    store = PostgresStore(PG_URL)
    exp = store.get_or_create_experiment(EXPERIMENT)
    if store.count_runs(exp.id) == PARENTS * (CHILDREN + 1):
        return store
    runs, params, tags, metrics, chunks = rows(exp.id)
    started = time.perf_counter()

    def copy(cur) -> None:
        for table, columns, data in (
            ("runs", "(id, experiment_id, parent_id, display_name, status, start_time, end_time, heartbeat_time)", runs),
            ("params", "(run_id, key, type, num, text)", params),
            ("tags", "(run_id, key, value)", tags),
            (
                "metrics",
                "(id, run_id, name, kind, value_type, count, last_step, last_value, last_wall_time, description, s_last, s_min, s_max, s_sum, s_finite)",
                metrics,
            ),
            ("chunks", '(metric_id, "offset", count, step_min, step_max, wall_min, wall_max, summary, steps, wall_times, vals)', chunks),
        ):
            with cur.copy(f"COPY {table} {columns} FROM STDIN") as writer:
                for row in data:
                    writer.write_row(row)
        cur.execute("SELECT setval(pg_get_serial_sequence('metrics', 'id'), (SELECT max(id) FROM metrics))")

    store._tx(copy)
    store._tx(lambda cur: cur.execute("ANALYZE"))
    print(f"built PostgreSQL store in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return store


def time_runs(store, repeat: int) -> dict[str, float]:
    """Median ms of /runs first pages (WSGI call in process) for the filter and sort, over all runs and one parent's children."""
    from werkzeug.test import Client

    from tb_runhistory_plugin.plugin.plugin import RunHistoryPlugin

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    from test_plugin_routes import PREFIX, make_client

    client: Client
    client, _ = make_client(_Tmp(), store=store)
    assert isinstance(_, RunHistoryPlugin)
    cases = {
        "all runs (parent=*)": {"experiment": EXPERIMENT, "parent": "*", "filter": FILTER, "sort": SORT},
        "all runs, desc": {"experiment": EXPERIMENT, "parent": "*", "filter": FILTER, "sort": SORT, "order": "desc"},
        "one parent's 100 children": {"parent": "p0500", "filter": FILTER, "sort": SORT},
        "roots, no filter": {"experiment": EXPERIMENT},
    }
    found = {}
    for label, params in cases.items():
        url = PREFIX + "/runs?" + urllib.parse.urlencode(params)
        times = []
        for _i in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.data[:300]
        body = json.loads(response.data)
        found[label] = statistics.median(times)
        print(f"  {label:32s} median {found[label]:7.1f} ms  (best {min(times):.1f})  total {body['total']:,}, first {body['runs'][0]['id']}")
    return found


class _Tmp:
    """The tmp_path make_client wants: only `/ "logs"` is used."""

    def __truediv__(self, name: str) -> str:
        return os.path.join("/tmp", name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/tb-runhistory-bench-query")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print("SQLite:")
    time_runs(build_sqlite(args.dir), args.repeat)
    if not args.skip_postgres:
        print("PostgreSQL:")
        time_runs(build_postgres(), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
