"""The wire format the REST server and the HTTP store speak: JSON, numeric arrays as base64.

Numeric arrays travel as base64 of their little-endian bytes ("<i8" steps, "<f8" times and
values), a third larger than raw instead of the 3-4x of JSON lists; record payloads as base64.
Both `server/` and the HTTP client (`store/_http.py`) import this module, and nothing else of
each other.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._filter import RunFilter
from .._types import RECORD_KINDS, ChunkSummaries, MetricHistory, Record, RecordBatch, RunInfo, ScalarBatch

TOKEN_ENV = "RUNHISTORY_TOKEN"
API_PREFIX = "/api/v1"
IDEMPOTENCY_HEADER = "Idempotency-Key"


# -- wire format -----------------------------------------------------------
def encode_array(values: Any, dtype: str) -> str:
    """Base64 of an array's little-endian bytes."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def decode_array(text: str, dtype: str) -> np.ndarray:
    """The array `encode_array` encoded (writable, native byte order)."""
    raw = base64.b64decode(text, validate=True)
    if len(raw) % np.dtype(dtype).itemsize:
        raise ValueError(f"{len(raw)} bytes is not a whole number of {dtype} items")
    return np.frombuffer(raw, dtype).astype(dtype[1:], copy=True)


def encode_bytes(data: bytes | None) -> str | None:
    """Base64 text of bytes, None kept."""
    return None if data is None else base64.b64encode(data).decode("ascii")


def decode_bytes(text: str | None) -> bytes | None:
    """Bytes of base64 text, None kept."""
    return None if text is None else base64.b64decode(text, validate=True)


def scalar_batch_json(batch: ScalarBatch, lo: int = 0, hi: int | None = None) -> dict[str, Any]:
    """A ScalarBatch (or points [lo, hi) of it) as JSON."""
    part = slice(lo, hi)
    return {
        "run_id": batch.run_id,
        "name": batch.name,
        "value_type": batch.value_type,
        "description": batch.description,
        "steps": encode_array(np.asarray(batch.steps)[part], "<i8"),
        "wall_times": encode_array(np.asarray(batch.wall_times)[part], "<f8"),
        "values": encode_array(np.asarray(batch.values)[part], "<f8"),
    }


def scalar_batch_from_json(data: Mapping[str, Any]) -> ScalarBatch:
    """Parse a scalar batch; ValueError/KeyError/TypeError on malformed input."""
    steps, walls, values = (decode_array(data[k], t) for k, t in (("steps", "<i8"), ("wall_times", "<f8"), ("values", "<f8")))
    if not (len(steps) == len(walls) == len(values)):
        raise ValueError(f"steps, wall_times and values of {data['name']!r} differ in length: {len(steps)}, {len(walls)}, {len(values)}")
    if data.get("value_type", "float") not in ("bool", "int", "float"):
        raise ValueError(f"value_type must be bool, int or float, got {data.get('value_type')!r}")
    return ScalarBatch(_text(data["run_id"]), _text(data["name"]), steps, walls, values, data.get("value_type", "float"), _text(data.get("description", "")))


def record_json(record: Record) -> dict[str, Any]:
    """A Record as JSON."""
    return {"step": int(record.step), "wall_time": float(record.wall_time), "meta": dict(record.meta), "data": encode_bytes(record.data)}


def record_from_json(data: Mapping[str, Any]) -> Record:
    """Parse a Record."""
    step = data["step"]
    if isinstance(step, bool) or not isinstance(step, int):
        raise ValueError(f"record step must be an integer, got {step!r}")
    if not isinstance(data.get("meta", {}), dict):
        raise ValueError("record meta must be an object")
    return Record(step, float(data["wall_time"]), data.get("meta", {}), decode_bytes(data.get("data")))


def record_batch_json(batch: RecordBatch, lo: int = 0, hi: int | None = None) -> dict[str, Any]:
    """A RecordBatch (or records [lo, hi) of it) as JSON."""
    return {
        "run_id": batch.run_id,
        "name": batch.name,
        "kind": str(batch.kind),
        "description": batch.description,
        "records": [record_json(r) for r in batch.records[lo:hi]],
    }


def record_batch_from_json(data: Mapping[str, Any]) -> RecordBatch:
    """Parse a record batch."""
    if data["kind"] not in RECORD_KINDS:
        raise ValueError(f"record kind must be one of {', '.join(RECORD_KINDS)}, got {data['kind']!r}")
    return RecordBatch(
        _text(data["run_id"]), _text(data["name"]), data["kind"], tuple(record_from_json(r) for r in data["records"]), _text(data.get("description", ""))
    )


def history_json(history: MetricHistory) -> dict[str, Any]:
    """A MetricHistory as JSON."""
    return {
        "name": history.name,
        "steps": encode_array(history.steps, "<i8"),
        "wall_times": encode_array(history.wall_times, "<f8"),
        "values": encode_array(history.values, "<f8"),
    }


def history_from_json(data: Mapping[str, Any]) -> MetricHistory:
    """Parse a MetricHistory."""
    return MetricHistory(data["name"], decode_array(data["steps"], "<i8"), decode_array(data["wall_times"], "<f8"), decode_array(data["values"], "<f8"))


_SUMMARY_DTYPES = {f.name: ("<i8" if f.name in ("offsets", "counts", "step_min", "step_max", "finite") else "<f8") for f in dataclasses.fields(ChunkSummaries)}


def summaries_json(summaries: ChunkSummaries) -> dict[str, Any]:
    """ChunkSummaries as JSON."""
    return {name: encode_array(getattr(summaries, name), dtype) for name, dtype in _SUMMARY_DTYPES.items()}


def summaries_from_json(data: Mapping[str, Any]) -> ChunkSummaries:
    """Parse ChunkSummaries."""
    return ChunkSummaries(**{name: decode_array(data[name], dtype) for name, dtype in _SUMMARY_DTYPES.items()})


FILTER_FLAGS = ("with_ancestors", "inherit")


def filter_params(filter_: RunFilter | None) -> dict[str, Any]:
    """A RunFilter as query parameters of GET .../runs (the REST server reads them back in `server/_parse.run_filter`)."""
    if filter_ is None:
        return {}
    params: dict[str, Any] = {}
    if filter_.parent_id is not None:
        params["parent_id"] = filter_.parent_id
    if filter_.statuses:
        params["status"] = list(filter_.statuses)
    if filter_.tags:
        params["tags"] = json.dumps(dict(filter_.tags))
    for key in ("text", "sort"):
        if getattr(filter_, key):
            params[key] = getattr(filter_, key)
    if filter_.query:
        params["filter"] = filter_.query
    if filter_.order != "asc":
        params["order"] = filter_.order
    for flag in FILTER_FLAGS:
        if getattr(filter_, flag):
            params[flag] = "true"
    return params


def info_json(info: Any) -> dict[str, Any]:
    """ExperimentInfo, RunInfo, MetricInfo or FileInfo as JSON."""
    data = dataclasses.asdict(info)
    if isinstance(info, RunInfo):
        data["status"] = str(info.status)
    return data


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value
