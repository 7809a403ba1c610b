"""The standard charts of the original SDK: confusion matrix, accuracy table, residuals, predictions.

A chart is logged as the JSON document the original takes, ``{"schema_type", "schema_version",
"data"}``, given as a dict or a JSON string. `chart_document` checks it field by field (an
`InvalidArgumentError` names the missing or wrong field and what was expected) and returns the
record meta that is stored: the same three keys, numbers as plain JSON numbers. Fields of
``data`` this module does not know (AutoML's residuals carry ``mean`` or ``stddev``) are kept as
they are, checked only to be JSON. `accuracy_curves` turns an accuracy table into the per-class
counts, precision, recall and false positive rate that ROC, precision-recall and TensorBoard's
pr_curves plugin need.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._types import MetricKind
from ._validate import check_unicode
from .errors import InvalidArgumentError

MAX_CLASSES = 1000  # class labels of a confusion matrix or an accuracy table
MAX_BINS = 100_000  # thresholds of an accuracy table, bins of residuals or predictions
MAX_NUMBERS = 4_000_000  # numbers in one document (a 1,000-class matrix is 1,000,000)
MAX_VERSION_LENGTH = 64  # characters of schema_version
_TOP_FIELDS = ("schema_type", "schema_version", "data")
_METHODS: dict[str, str] = {
    MetricKind.CONFUSION_MATRIX: "log_confusion_matrix",
    MetricKind.ACCURACY_TABLE: "log_accuracy_table",
    MetricKind.RESIDUALS: "log_residuals",
    MetricKind.PREDICTIONS: "log_predictions",
}
_FIELDS: dict[str, tuple[str, ...]] = {
    MetricKind.CONFUSION_MATRIX: ("class_labels", "matrix"),
    MetricKind.ACCURACY_TABLE: ("class_labels", "probability_tables", "percentile_tables", "probability_thresholds", "percentile_thresholds"),
    MetricKind.RESIDUALS: ("bin_edges", "bin_counts"),
    MetricKind.PREDICTIONS: ("bin_averages", "bin_errors", "bin_counts", "bin_edges"),
}
_EXAMPLE_VERSION = "1.0.0"


class _Checker:
    """Checks one document; every message starts with the call and metric, and names the field."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.where = f"{_METHODS[kind]}({name!r})"
        self.numbers = 0

    def fail(self, message: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"{self.where}: {message}")

    def array(self, field: str, value: Any, ndim: int, *, counts: bool = False, missing_ok: bool = False) -> np.ndarray:
        """`value` as a float64 array of `ndim` dimensions; finite (NaN allowed where `missing_ok`), >= 0 for counts."""
        path = f"data.{field}"
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "iuf":
                raise self.fail(f"{path} must hold numbers, got a numpy array of {value.dtype}")
            array = value.astype(np.float64)
        else:
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
                raise self.fail(f"{path} must be a list{' of lists' * (ndim - 1)} of numbers, got {type(value).__name__} {_short(value)}")
            if missing_ok:
                value = [math.nan if v is None else v for v in value]
            array = self._from_lists(path, value)
        if array.ndim != ndim:
            raise self.fail(f"{path} must be a list{' of lists' * (ndim - 1)} of numbers ({ndim} dimensions), got {array.ndim} dimensions")
        self.numbers += array.size
        if self.numbers > MAX_NUMBERS:
            raise self.fail(f"the document holds more than {MAX_NUMBERS:,} numbers (at {path})")
        bad = ~np.isfinite(array) & ~(np.isnan(array) if missing_ok else False)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise self.fail(f"{path}{_index(at)} must be a finite number, got {float(array[at])!r}")
        if counts and (array < 0).any():
            at = tuple(int(i) for i in np.argwhere(array < 0)[0])
            raise self.fail(f"{path}{_index(at)} is a count and must not be negative, got {_plain_number(array[at])}")
        return array

    def _from_lists(self, path: str, value: Any) -> np.ndarray:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError):
            raise self.fail(f"{path} has rows of unequal lengths") from None
        if array.dtype.kind == "b":
            raise self.fail(f"{path} must hold numbers, got booleans")
        if array.dtype.kind in "iuf":
            return array.astype(np.float64)
        # Find the first item that is no number, to name it.
        stack: list[tuple[tuple[int, ...], Any]] = [((), value)]
        while stack:
            at, item = stack.pop()
            if isinstance(item, (list, tuple)):
                stack.extend(reversed([((*at, i), v) for i, v in enumerate(item)]))
            elif isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)):
                raise self.fail(f"{path}{_index(at)} must be a number, got {type(item).__name__} {_short(item)}")
        raise self.fail(f"{path} has rows of unequal lengths")

    def length(self, field: str, array: np.ndarray, expected: int, because: str) -> None:
        if array.shape[0] != expected:
            raise self.fail(f"data.{field} must have {expected} items ({because}), got {array.shape[0]}")

    def labels(self, value: Any) -> list[Any]:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            raise self.fail(f"data.class_labels must be a list of class labels (strings or integers), got {type(value).__name__} {_short(value)}")
        if not value:
            raise self.fail("data.class_labels must not be empty")
        if len(value) > MAX_CLASSES:
            raise self.fail(f"data.class_labels has {len(value)} labels, over the limit of {MAX_CLASSES}")
        labels: list[Any] = []
        for i, label in enumerate(value):
            if isinstance(label, np.generic):
                label = label.item()
            if isinstance(label, str):
                check_unicode(label, f"{self.where}: data.class_labels[{i}]")
            elif isinstance(label, bool) or not isinstance(label, int):
                raise self.fail(f"data.class_labels[{i}] must be a string or an integer, got {type(label).__name__} {_short(label)}")
            labels.append(label)
        seen: dict[str, int] = {}
        for i, label in enumerate(labels):
            if str(label) in seen:
                raise self.fail(f"data.class_labels[{i}] repeats label {label!r} (also at index {seen[str(label)]})")
            seen[str(label)] = i
        return labels

    def bins(self, field: str, array: np.ndarray) -> None:
        if not 2 <= array.shape[0] <= MAX_BINS + 1:
            raise self.fail(f"data.{field} must have between 2 and {MAX_BINS + 1} edges, got {array.shape[0]}")
        self.increasing(field, array, strict=True)

    def increasing(self, field: str, array: np.ndarray, *, strict: bool) -> None:
        steps = np.diff(array)
        bad = steps <= 0 if strict else steps < 0
        if bad.any():
            i = int(np.argmax(bad))
            order = "increasing" if strict else "non-decreasing"
            raise self.fail(f"data.{field} must be {order}, but item {i + 1} ({float(array[i + 1])!r}) follows {float(array[i])!r}")


def chart_document(kind: str, name: str, value: Any) -> dict[str, Any]:
    """The stored meta of a chart document of `kind`: checked, numbers made plain JSON.

    Raises:
        InvalidArgumentError: not a dict or JSON text, a missing or wrong field (named), or too large.
    """
    if kind not in _FIELDS:
        raise InvalidArgumentError(f"no standard chart of kind {kind!r}; the kinds are {', '.join(_FIELDS)}")
    kind = str(kind)  # a MetricKind is a str; its repr is not
    check = _Checker(kind, name)
    doc = _parse(check, value)
    unknown = [key for key in doc if key not in _TOP_FIELDS]
    if unknown:
        raise check.fail(f"unknown field {unknown[0]!r}; a chart document has exactly {', '.join(_TOP_FIELDS)}")
    for key in _TOP_FIELDS:
        if key not in doc:
            raise check.fail(f"missing field {key!r} (expected {_example(kind)})")
    if doc["schema_type"] != kind:
        raise check.fail(f"schema_type must be {kind!r}, got {_short(doc['schema_type'])}" + _other_call(doc["schema_type"]))
    version = doc["schema_version"]
    if not isinstance(version, str) or not version.strip() or len(version) > MAX_VERSION_LENGTH:
        raise check.fail(f"schema_version must be a version string such as {_EXAMPLE_VERSION!r}, got {_short(version)}")
    check_unicode(version, f"{check.where}: schema_version")
    data = doc["data"]
    if not isinstance(data, Mapping):
        raise check.fail(f"data must be an object with {', '.join(_FIELDS[kind])}, got {type(data).__name__} {_short(data)}")
    for field in _FIELDS[kind]:
        if field not in data:
            raise check.fail(f"data is missing field {field!r} (a {kind} has {', '.join(_FIELDS[kind])})")
    out = _CHECKS[kind](check, data)
    for key, extra in data.items():
        if key not in out:
            if not isinstance(key, str):
                raise check.fail(f"data has a field named by a {type(key).__name__}, not a string: {_short(key)}")
            out[key] = _plain_json(check, f"data.{key}", extra)
    return {"schema_type": kind, "schema_version": version, "data": out}


def _parse(check: _Checker, value: Any) -> Mapping[str, Any]:
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise check.fail(f"the document is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise check.fail(f"the document is not valid JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise check.fail(f"the document must be a dict or JSON text of an object, got {type(value).__name__} {_short(value)}")
    return value


def _confusion_matrix(check: _Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    labels = check.labels(data["class_labels"])
    matrix = check.array("matrix", data["matrix"], 2, counts=True)
    n = len(labels)
    if matrix.shape != (n, n):
        raise check.fail(f"data.matrix must be {n} x {n} (a row and a column per class label), got {matrix.shape[0]} x {matrix.shape[1]}")
    return {"class_labels": labels, "matrix": _plain(matrix, counts=True)}


def _accuracy_table(check: _Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    labels = check.labels(data["class_labels"])
    out: dict[str, Any] = {"class_labels": labels}
    for prefix in ("probability", "percentile"):
        thresholds = check.array(f"{prefix}_thresholds", data[f"{prefix}_thresholds"], 1)
        if not 1 <= len(thresholds) <= MAX_BINS:
            raise check.fail(f"data.{prefix}_thresholds must have between 1 and {MAX_BINS} thresholds, got {len(thresholds)}")
        outside = (thresholds < 0) | (thresholds > 1)
        if outside.any():
            i = int(np.argmax(outside))
            raise check.fail(f"data.{prefix}_thresholds[{i}] must be a probability between 0 and 1, got {float(thresholds[i])!r}")
        check.increasing(f"{prefix}_thresholds", thresholds, strict=False)
        tables = check.array(f"{prefix}_tables", data[f"{prefix}_tables"], 3, counts=True)
        expected = (len(labels), len(thresholds), 4)
        if tables.shape != expected:
            got = " x ".join(map(str, tables.shape))
            raise check.fail(f"data.{prefix}_tables must be {' x '.join(map(str, expected))} (per class label, per threshold: TP, FP, TN, FN), got {got}")
        out[f"{prefix}_tables"] = _plain(tables, counts=True)
        out[f"{prefix}_thresholds"] = thresholds.tolist()
    return out


def _residuals(check: _Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    edges = check.array("bin_edges", data["bin_edges"], 1)
    check.bins("bin_edges", edges)
    counts = check.array("bin_counts", data["bin_counts"], 1, counts=True)
    check.length("bin_counts", counts, len(edges) - 1, f"one per bin between the {len(edges)} bin_edges")
    return {"bin_edges": edges.tolist(), "bin_counts": _plain(counts, counts=True)}


def _predictions(check: _Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    edges = check.array("bin_edges", data["bin_edges"], 1)
    check.bins("bin_edges", edges)
    bins = len(edges) - 1
    counts = check.array("bin_counts", data["bin_counts"], 1, counts=True)
    check.length("bin_counts", counts, bins, f"one per bin between the {len(edges)} bin_edges")
    out: dict[str, Any] = {}
    for field in ("bin_averages", "bin_errors"):
        # An empty bin has no average: null (or NaN, from numpy's mean of nothing) is kept as null there only.
        values = check.array(field, data[field], 1, missing_ok=True)
        check.length(field, values, bins, f"one per bin between the {len(edges)} bin_edges")
        missing = np.isnan(values) & (counts > 0)
        if missing.any():
            i = int(np.argmax(missing))
            raise check.fail(f"data.{field}[{i}] must be a number: bin {i} holds {_plain_number(counts[i])} values (null is only for empty bins)")
        if field == "bin_errors" and (values < 0).any():
            i = int(np.argmax(values < 0))
            raise check.fail(f"data.bin_errors[{i}] is a spread and must not be negative, got {float(values[i])!r}")
        out[field] = [None if math.isnan(v) else v for v in values.tolist()]
    return {"bin_averages": out["bin_averages"], "bin_errors": out["bin_errors"], "bin_counts": _plain(counts, counts=True), "bin_edges": edges.tolist()}


_CHECKS: dict[str, Callable[[_Checker, Mapping[str, Any]], dict[str, Any]]] = {
    MetricKind.CONFUSION_MATRIX: _confusion_matrix,
    MetricKind.ACCURACY_TABLE: _accuracy_table,
    MetricKind.RESIDUALS: _residuals,
    MetricKind.PREDICTIONS: _predictions,
}


def accuracy_curves(data: Mapping[str, Any], table: str = "probability") -> list[dict[str, Any]]:
    """Per class of a checked accuracy table: thresholds, TP, FP, TN, FN, precision, recall and FPR arrays.

    Precision with no predicted positive and recall or FPR with an empty denominator are NaN.
    """
    thresholds = np.asarray(data[f"{table}_thresholds"], dtype=np.float64)
    tables = np.asarray(data[f"{table}_tables"], dtype=np.float64).reshape(len(data["class_labels"]), len(thresholds), 4)
    curves = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for label, counts in zip(data["class_labels"], tables):
            tp, fp, tn, fn = counts.T
            curves.append(
                {
                    "label": label,
                    "thresholds": thresholds,
                    "tp": tp,
                    "fp": fp,
                    "tn": tn,
                    "fn": fn,
                    "precision": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
                    "recall": np.where(tp + fn > 0, tp / (tp + fn), np.nan),
                    "fpr": np.where(fp + tn > 0, fp / (fp + tn), np.nan),
                }
            )
    return curves


# -- helpers -----------------------------------------------------------------------------------
def _plain(array: np.ndarray, *, counts: bool = False) -> list[Any]:
    """Nested lists of JSON numbers; whole counts as integers."""
    if counts and np.all(array == np.round(array)) and (array.size == 0 or array.max() < 2**53):
        return array.astype(np.int64).tolist()
    return array.tolist()


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _plain_json(check: _Checker, path: str, value: Any) -> Any:
    """An extra field as plain JSON (numpy made plain); NaN, infinities, other objects and NUL refused."""
    try:
        text = json.dumps(value, allow_nan=False, default=_numpy_default)
    except (TypeError, ValueError, RecursionError) as exc:
        raise check.fail(f"{path} must be JSON (numbers finite): {exc}") from None
    return _check_text(check, path, json.loads(text))


def _check_text(check: _Checker, path: str, value: Any) -> Any:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_unicode(item, f"{check.where}: {path}")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _numpy_default(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _index(at: tuple[int, ...]) -> str:
    return "".join(f"[{i}]" for i in at)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _example(kind: str) -> str:
    fields = ", ".join(f'"{f}": ...' for f in _FIELDS[kind])
    return f'{{"schema_type": "{kind}", "schema_version": "{_EXAMPLE_VERSION}", "data": {{{fields}}}}}'


def _other_call(schema_type: Any) -> str:
    method = _METHODS.get(schema_type) if isinstance(schema_type, str) else None
    return f" (a {schema_type} document goes to {method})" if method else ""
