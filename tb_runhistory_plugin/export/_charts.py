"""The standard charts in TensorBoard: accuracy tables as PR curves, the others as Markdown tables.

An accuracy table becomes one pr_curves summary per class (tag ``<metric>/<class label>``): the
plugin's [6, N] float32 tensor of TP, FP, TN, FN, precision and recall over the table's N
probability thresholds, so TensorBoard's PR Curves tab draws it. (That tab places the thresholds
evenly on [0, 1], as the original SDK computes them.) Confusion matrices, residuals and
predictions have no TensorBoard view of their own: they become Markdown tables in the Text tab.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.pr_curve import metadata as pr_metadata
from tensorboard.util import tensor_util

from .._charts import accuracy_curves
from .._types import MetricInfo, MetricKind, Record
from ._eventfile import EventFileWriter
from ._markdown import escape

_MIN_COUNT = 1e-7  # the pr_curves plugin's own floor for denominators (precision of no positives is 0)


def write_chart(writer: EventFileWriter, tag: str, record: Record, metric: MetricInfo, tag_for: Callable[[str], str]) -> None:
    """Write one logged chart at its step: PR curves for an accuracy table (tags from `tag_for`), else text at `tag`."""
    if metric.kind == MetricKind.ACCURACY_TABLE:
        writer.write_summary_pb(pr_curve_summaries(metric.name, record.meta["data"], tag_for, metric.description), record.step, record.wall_time)
    else:
        writer.write_text(tag, record.step, record.wall_time, chart_markdown(metric.kind, metric.name, record.meta))


def pr_curve_summaries(name: str, data: Mapping[str, Any], tag_for: Callable[[str], str], description: str = "") -> summary_pb2.Summary:
    """One pr_curves summary value per class of an accuracy table; `tag_for(label)` gives each tag."""
    summary = summary_pb2.Summary()
    for curve in accuracy_curves(data):
        tp, fp, tn, fn = curve["tp"], curve["fp"], curve["tn"], curve["fn"]
        precision = tp / np.maximum(_MIN_COUNT, tp + fp)
        recall = tp / np.maximum(_MIN_COUNT, tp + fn)
        tensor = np.stack([tp, fp, tn, fn, precision, recall]).astype(np.float32)
        if tensor.shape[1] < 2:
            tensor = np.repeat(tensor, 2, axis=1)  # the plugin needs two thresholds to place them on [0, 1]
        label = str(curve["label"])
        meta = pr_metadata.create_summary_metadata(
            display_name=f"{name}: {label}", description=description or f"class {label} against the rest", num_thresholds=tensor.shape[1]
        )
        meta.data_class = summary_pb2.DATA_CLASS_TENSOR
        summary.value.add(tag=tag_for(label), metadata=meta, tensor=tensor_util.make_tensor_proto(tensor))
    return summary


def chart_markdown(kind: str, name: str, meta: Mapping[str, Any]) -> str:
    """A confusion matrix, residuals or predictions as a Markdown table (user text escaped)."""
    data = meta.get("data") or {}
    head = f"**{escape(name)}** · {escape(kind)} (schema version {escape(meta.get('schema_version', '?'))})"
    if kind == MetricKind.CONFUSION_MATRIX:
        labels = [escape(label) for label in data.get("class_labels", [])]
        lines = ["| actual \\\\ predicted | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
        lines += [f"| **{label}** | " + " | ".join(_number(v) for v in row) + " |" for label, row in zip(labels, data.get("matrix", []))]
    else:
        edges = data.get("bin_edges", [])
        counts = data.get("bin_counts", [])
        if kind == MetricKind.RESIDUALS:
            lines = ["| residual from | to | count |", "|---|---|---|"]
            lines += [f"| {_number(edges[i])} | {_number(edges[i + 1])} | {_number(c)} |" for i, c in enumerate(counts)]
        else:
            averages, errors = data.get("bin_averages", []), data.get("bin_errors", [])
            lines = ["| true from | to | count | mean predicted | error |", "|---|---|---|---|---|"]
            lines += [
                f"| {_number(edges[i])} | {_number(edges[i + 1])} | {_number(c)} | {_number(a)} | {_number(e)} |"
                for i, (c, a, e) in enumerate(zip(counts, averages, errors))
            ]
    return "\n".join([head, "", *lines]) + "\n"


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return escape(value)
