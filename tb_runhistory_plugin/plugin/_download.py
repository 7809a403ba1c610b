"""Downloads: one metric or a whole run, as CSV or JSON, streamed page by page.

A series can hold ten million points (hundreds of megabytes of text), so downloads are generators
of byte pieces rather than one body: memory stays at one page. Everything that can fail with a
400 or 404 is checked before the first byte (`plan_download`); the plugin then streams the pieces.
"""

from __future__ import annotations

import csv
import io
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._types import CHART_KINDS, MetricInfo, MetricKind, RunInfo, merge_table
from .._validate import check_file_name
from ..store import Store
from ._charts import charts_csv, charts_data
from ._records import histograms_impl, images_impl
from ._respond import _orjson, encode_json
from ._views import require_metric, run_impl

FORMATS = ("csv", "json")
PAGE = 65_536  # points read and formatted at a time
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_CSV_NONFINITE = {math.inf: "inf", -math.inf: "-inf"}


def filename(info: RunInfo, name: str | None, fmt: str) -> str:
    """A Content-Disposition value: an ASCII fallback plus the UTF-8 name (RFC 6266)."""
    base = info.display_name + (f"-{name}" if name else "")
    ascii_name = _UNSAFE_FILENAME.sub("_", base).strip("._") or "run"
    quoted = urllib.parse.quote(f"{base}.{fmt}", safe="")
    return f"attachment; filename=\"{ascii_name[:150]}.{fmt}\"; filename*=UTF-8''{quoted}"


def attachment(base: str) -> str:
    """A Content-Disposition for a file of this name: an ASCII fallback plus the UTF-8 name (RFC 6266)."""
    stem, dot, ext = base.rpartition(".")
    ascii_name = _UNSAFE_FILENAME.sub("_", base).strip("._") or "file"
    quoted = urllib.parse.quote(base, safe="")
    return f"attachment; filename=\"{ascii_name[-150:]}\"; filename*=UTF-8''{quoted}"


def file_impl(store: Store, run_id: str, name: str) -> tuple[str, bytes]:
    """A run file's Content-Disposition and bytes; the name is checked (no '..', no absolute paths)."""
    check_file_name(name)
    return attachment(name.rsplit("/", 1)[-1]), store.read_file(run_id, name)


def plan_download(store: Store, run_id: str, name: str | None, fmt: str) -> tuple[str, Callable[[], Iterator[bytes]]]:
    """Check the request and return (Content-Disposition, a generator factory of the body)."""
    info = store.get_run(run_id)
    disposition = filename(info, name, fmt)
    if name is None:
        detail = run_impl(store, run_id)
        metrics = store.list_metrics(run_id)
        body = _run_json(store, run_id, detail, metrics) if fmt == "json" else _run_csv(store, run_id, metrics)
        return disposition, lambda: body
    metric = require_metric(store, run_id, name, tuple(MetricKind))
    if metric.kind == MetricKind.SCALAR:
        pieces = _scalar_json(store, run_id, metric) if fmt == "json" else _scalar_csv(store, run_id, metric)
    elif metric.kind in CHART_KINDS and fmt == "csv":
        pieces = charts_csv(store, run_id, metric)
    elif fmt == "json":
        pieces = _records_json(store, run_id, metric)
    else:
        pieces = _records_csv(store, run_id, metric)
    return disposition, lambda: pieces


# -- formatting ------------------------------------------------------------------
def _csv_numbers(values: np.ndarray) -> list[str]:
    """Shortest round-trip text of each number; NaN and infinities as nan, inf, -inf."""
    if values.dtype.kind in "iu":
        return [str(v) for v in values.tolist()]
    values = np.ascontiguousarray(values, np.float64)
    if _orjson is None or not len(values):
        texts = [repr(v) for v in values.tolist()]
    else:  # orjson formats a whole array in C: several times faster than repr per number
        texts = _orjson.dumps(values, option=_orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode().split(",")
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        v = float(values[i])
        texts[i] = "nan" if v != v else _CSV_NONFINITE[v]
    return texts


def _json_array_body(values: np.ndarray) -> bytes:
    """A JSON array's items without the brackets (NaN as "NaN")."""
    return encode_json(values)[1:-1]


def _pages(store: Store, run_id: str, metric: MetricInfo) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    for start in range(0, metric.count, PAGE):
        history = store.read_scalars(run_id, metric.name, start=start, stop=min(metric.count, start + PAGE))
        yield history.steps, history.wall_times, history.values


def _scalar_csv(store: Store, run_id: str, metric: MetricInfo, *, prefix: str = "", header: bool = True) -> Iterator[bytes]:
    if header:
        yield b"step,wall_time,value\n"
    for steps, walls, values in _pages(store, run_id, metric):
        rows = zip(_csv_numbers(steps), _csv_numbers(walls), _csv_numbers(values))
        yield "".join(f"{prefix}{s},{w},{v}\n" for s, w, v in rows).encode()


def _scalar_columns(store: Store, run_id: str, metric: MetricInfo) -> Iterator[bytes]:
    """`"step":[...],"wall_time":[...],"value":[...]`, one column at a time."""
    for i, column in enumerate(("step", "wall_time", "value")):
        yield (b"," if i else b"") + f'"{column}":['.encode()
        first = True
        for page in _pages(store, run_id, metric):
            if len(page[i]):
                yield (b"" if first else b",") + _json_array_body(page[i])
                first = False
        yield b"]"


def _scalar_json(store: Store, run_id: str, metric: MetricInfo) -> Iterator[bytes]:
    yield encode_json({"run": run_id, "name": metric.name, "kind": "scalar", "count": metric.count})[:-1] + b","
    yield from _scalar_columns(store, run_id, metric)
    yield b"}"


def _records_data(store: Store, run_id: str, metric: MetricInfo) -> dict[str, Any]:
    if metric.kind == MetricKind.TABLE:
        return {"columns": merge_table(store.read_records(run_id, metric.name))}
    if metric.kind == MetricKind.IMAGE:
        return {"images": images_impl(store, run_id, metric.name)["images"]}
    if metric.kind in CHART_KINDS:
        return charts_data(store, run_id, metric)
    return {"histograms": histograms_impl(store, run_id, metric.name, points=max(1, metric.count))["histograms"]}


def _records_json(store: Store, run_id: str, metric: MetricInfo) -> Iterator[bytes]:
    yield encode_json({"run": run_id, "name": metric.name, "kind": str(metric.kind), "count": metric.count, **_records_data(store, run_id, metric)})


def _records_csv(store: Store, run_id: str, metric: MetricInfo) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    data = _records_data(store, run_id, metric)
    if metric.kind == MetricKind.TABLE:
        columns = data["columns"]
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values()))
    elif metric.kind == MetricKind.IMAGE:
        writer.writerow(["index", "step", "wall_time", "content_type", "width", "height"])
        writer.writerows([[i["index"], i["step"], repr(i["wall_time"]), i["content_type"], i["width"], i["height"]] for i in data["images"]])
    else:
        writer.writerow(["step", "wall_time", "left", "right", "count"])
        for h in data["histograms"]:
            edges, counts = h["histogram"].get("edges", []), h["histogram"].get("counts", [])
            writer.writerows([[h["step"], repr(h["wall_time"]), repr(lo), repr(hi), c] for lo, hi, c in zip(edges, edges[1:], counts)])
    yield out.getvalue().encode()


def _run_csv(store: Store, run_id: str, metrics: list[MetricInfo]) -> Iterator[bytes]:
    """Every scalar metric of the run in long form: metric,step,wall_time,value."""
    yield b"metric,step,wall_time,value\n"
    for metric in metrics:
        if metric.kind != MetricKind.SCALAR:
            continue
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow([metric.name])
        yield from _scalar_csv(store, run_id, metric, prefix=out.getvalue() + ",", header=False)


def _run_json(store: Store, run_id: str, detail: dict[str, Any], metrics: list[MetricInfo]) -> Iterator[bytes]:
    """The run's details and every metric's full data."""
    yield encode_json(detail)[:-1] + b',"data":{'
    for i, metric in enumerate(metrics):
        yield (b"," if i else b"") + encode_json(metric.name) + b":"
        if metric.kind == MetricKind.SCALAR:
            yield b'{"kind":"scalar",'
            yield from _scalar_columns(store, run_id, metric)
            yield b"}"
        else:
            yield encode_json({"kind": str(metric.kind), **_records_data(store, run_id, metric)})
    yield b"}}"
