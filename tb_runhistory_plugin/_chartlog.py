"""The original SDK's standard chart methods of Run: its JSON documents (a dict or JSON text), checked, one kind each."""

from __future__ import annotations

from typing import Any

from ._charts import chart_document
from ._types import MetricKind
from ._validate import check_name


class RunCharts:
    """A mixin of Run: it needs Run's `_require_open`, `_record_step` and `_record`."""

    def _require_open(self, action: str) -> None:
        raise NotImplementedError  # Run's

    def _record_step(self, name: str, step: Any) -> int:
        raise NotImplementedError  # Run's

    def _record(self, name: str, kind: str, description: str, step: int, meta: dict[str, Any], data: bytes | None = None) -> None:
        raise NotImplementedError  # Run's

    def log_confusion_matrix(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log a confusion matrix: {"schema_type": "confusion_matrix", "schema_version", "data": {class_labels, matrix}}."""
        self._log_chart(MetricKind.CONFUSION_MATRIX, name, value, description, step)

    def log_accuracy_table(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log an accuracy table (TP, FP, TN, FN per class and threshold), drawn as ROC and precision-recall curves."""
        self._log_chart(MetricKind.ACCURACY_TABLE, name, value, description, step)

    def log_residuals(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log a histogram of regression residuals: {"schema_type": "residuals", ..., "data": {bin_edges, bin_counts}}."""
        self._log_chart(MetricKind.RESIDUALS, name, value, description, step)

    def log_predictions(self, name: str, value: Any, description: str = "", *, step: int | None = None) -> None:
        """Log binned predicted-versus-true values: data {bin_averages, bin_errors, bin_counts, bin_edges}."""
        self._log_chart(MetricKind.PREDICTIONS, name, value, description, step)

    def _log_chart(self, kind: str, name: str, value: Any, description: str, step: int | None) -> None:
        self._require_open(f"log {name!r}")
        check_name(name, "metric name")
        self._record(name, kind, description, self._record_step(name, step), chart_document(kind, name, value))
