"""A small experiment with every kind of value a query reads, and the plain-Python view of it (`_query.Facts`).

The same runs go into each store under test; the test compares what the store returns with what
`_query.evaluate` says of the facts, so the SQL compilers are checked against one reference.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from tb_runhistory_plugin import _query
from tb_runhistory_plugin._types import RunInfo, ScalarBatch, Status

NASTY = "x'; DROP TABLE runs; --"

# id -> (parent, tags, params, properties, metrics {name: values}, status or None for Running)
RUNS: dict[str, tuple[str | None, dict[str, str], dict[str, Any], dict[str, Any], dict[str, list[float]], str | None]] = {
    "root-a": (None, {"team": "vision", "my key": "v 1"}, {"alpha": 0.1, "opt": "adam", "layers": 3}, {"seed": 1}, {"loss": [3.0, 2.0, 1.0]}, "Completed"),
    "a-1": ("root-a", {}, {"alpha": 0.3, "flag": True}, {"note": "first"}, {"loss": [5.0, float("nan")], "acc": [0.5]}, "Completed"),
    "a-2": ("root-a", {"team": "nlp"}, {"mixed": "text", "lr": 1e-3}, {"seed": 2.5}, {"loss": [float("inf"), 0.25]}, "Failed"),
    "a-2-x": ("a-2", {"50%_off": "yes"}, {"alpha": 0.5, "opt": "sgd"}, {}, {"loss": [float("nan"), float("nan")]}, "Canceled"),
    "a-2-y": ("a-2", {"team": NASTY}, {"mixed": 7}, {"flag": False}, {}, "Completed"),
    "root-b": (None, {"team": "vision"}, {"opt": "a*b", "flag": False}, {"note": "a?c"}, {"acc": [0.9, 0.95], "loss": [-1.0]}, None),
    "b-1": ("root-b", {"kind": "leaf"}, {"alpha": 0.3, "mixed": 0.3}, {"seed": 3}, {"loss": [0.5, 0.4, 0.3]}, "Completed"),
    "root-c": (None, {}, {}, {}, {"acc": [1.0]}, "Failed"),
    "c-1": ("root-c", {"team": "Vision"}, {"layers": 12, "opt": "Adam"}, {"note": NASTY}, {"loss": [2.0]}, "Completed"),
}
NAMES = {"root-a": "alpha root", "a-2-x": "alpha*x", "a-2-y": "50%_y", "c-1": 'it\'s "c"'}


def build(store: Any, experiment: str = "query") -> tuple[str, float]:
    """Create RUNS (starts 1000 s ago, one second apart, each ended 10 s after its start unless Running); (experiment id, t0)."""
    exp = store.get_or_create_experiment(experiment)
    t0 = time.time() - 1000.0
    for i, (run_id, (parent, tags, params, props, metrics, status)) in enumerate(RUNS.items()):
        start = t0 + i
        store.create_run(exp.id, run_id=run_id, display_name=NAMES.get(run_id, run_id), parent_id=parent, tags=tags, properties=props, start_time=start)
        if params:
            store.add_params(run_id, params)
        batches = [
            ScalarBatch(run_id, name, np.arange(len(v), dtype=np.int64), np.full(len(v), start), np.asarray(v, dtype=np.float64)) for name, v in metrics.items()
        ]
        if batches:
            store.write_metrics(batches)
        if status is not None:
            store.set_run_status(run_id, status, end_time=start + 10.0 + i)
    return exp.id, t0


def summaries(values: list[float]) -> dict[str, float | int | None]:
    """The documented summary rule: last as logged (NaN matches nothing), min/max/mean over finite values."""
    finite = [v for v in values if math.isfinite(v)]
    return {
        "last": values[-1],
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
        "mean": sum(finite) / len(finite) if finite else None,
        "count": len(values),
    }


def facts_of(infos: list[RunInfo], *, inherit: bool = False) -> dict[str, _query.Facts]:
    """Facts of each run as stored (its RunInfo) plus the metric summaries of what was logged."""
    by_id = {i.id: i for i in infos}
    now = time.time()
    facts = {}
    for info in infos:
        tags, params = dict(info.tags), dict(info.params)
        if inherit:
            parent = info.parent_id
            while parent is not None:  # the nearest ancestor's value wins, the run's own first
                tags = {**by_id[parent].tags, **tags}
                params = {**by_id[parent].params, **params}
                parent = by_id[parent].parent_id
        facts[info.id] = _query.Facts(
            name=info.display_name,
            id=info.id,
            parent=info.parent_id,
            status=str(info.status),
            start_time=info.start_time,
            end_time=info.end_time,
            tags=tags,
            params=params,
            properties=dict(info.properties),
            metrics={name: summaries(values) for name, values in RUNS[info.id][4].items()},
            now=now,
        )
    return facts


def expected_ids(infos: list[RunInfo], node: _query.Node | None, *, inherit: bool, with_ancestors: bool) -> dict[str, bool]:
    """run id -> matched, as the store should answer (ancestors of matches with False)."""
    facts = facts_of(infos, inherit=inherit)
    matched = {i.id: True for i in infos if node is None or _query.evaluate(node, facts[i.id])}
    if with_ancestors:
        parents = {i.id: i.parent_id for i in infos}
        for run_id in list(matched):
            parent = parents[run_id]
            while parent is not None:
                matched.setdefault(parent, False)
                parent = parents[parent]
    return matched


def sort_values(field: _query.Field, fact: _query.Facts) -> list[Any]:
    """The keys the stores order by for a field: numbers, then text (params and properties hold both)."""
    exists, value = _query.lookup(field, fact)
    if not exists or value is None or (isinstance(value, float) and math.isnan(value)):
        value = None
    if field.source in ("params", "properties"):
        number = float(value) if isinstance(value, int | float) else None
        return [number, value if isinstance(value, str) else None]
    return [value]


def expected_order(infos: list[RunInfo], field: _query.Field, descending: bool) -> list[str]:
    """Run ids in the order of a sort: keys NULLs last in the given direction, then start time the same way."""
    facts = facts_of(infos)

    def compare(a: RunInfo, b: RunInfo) -> int:
        for x, y in zip(sort_values(field, facts[a.id]), sort_values(field, facts[b.id])):
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1  # NULLs last either way
            return (1 if x > y else -1) * (-1 if descending else 1)
        if a.start_time != b.start_time:
            return (1 if a.start_time > b.start_time else -1) * (-1 if descending else 1)
        return 0

    import functools

    return [i.id for i in sorted(infos, key=functools.cmp_to_key(compare))]


STATUSES = [str(s) for s in Status]
