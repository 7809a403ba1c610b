"""Valid standard-chart documents, in the original SDK's shapes, for the tests."""

from __future__ import annotations

import copy
from typing import Any

HOSTILE_LABEL = "<img src=x onerror=alert(1)>"


def confusion_matrix(labels=("cat", "dog", HOSTILE_LABEL)) -> dict[str, Any]:
    n = len(labels)
    matrix = [[(10 * (i + 1) if i == j else i + 2 * j + 1) for j in range(n)] for i in range(n)]
    return {"schema_type": "confusion_matrix", "schema_version": "1.0.0", "data": {"class_labels": list(labels), "matrix": matrix}}


def accuracy_table() -> dict[str, Any]:
    """Two classes, five probability and three percentile thresholds; counts consistent per class."""
    probability = [
        [[6, 4, 0, 0], [5, 2, 2, 1], [4, 1, 3, 2], [2, 0, 4, 4], [0, 0, 4, 6]],
        [[4, 6, 0, 0], [4, 3, 3, 0], [3, 1, 5, 1], [1, 0, 6, 3], [0, 0, 6, 4]],
    ]
    percentile = [
        [[6, 4, 0, 0], [4, 1, 3, 2], [0, 0, 4, 6]],
        [[4, 6, 0, 0], [3, 1, 5, 1], [0, 0, 6, 4]],
    ]
    return {
        "schema_type": "accuracy_table",
        "schema_version": "1.0.1",
        "data": {
            "probability_tables": probability,
            "percentile_tables": percentile,
            "probability_thresholds": [0.0, 0.25, 0.5, 0.75, 1.0],
            "percentile_thresholds": [0.0, 0.5, 1.0],
            "class_labels": ["0", "1"],
        },
    }


def residuals() -> dict[str, Any]:
    return {"schema_type": "residuals", "schema_version": "1.0.0", "data": {"bin_edges": [-2.0, -1.0, 0.0, 1.0, 2.0], "bin_counts": [3, 10, 12, 4]}}


def predictions() -> dict[str, Any]:
    return {
        "schema_type": "predictions",
        "schema_version": "1.0.0",
        "data": {"bin_averages": [0.3, None, 2.4], "bin_errors": [0.1, None, 0.2], "bin_counts": [5, 0, 7], "bin_edges": [0.0, 1.0, 2.0, 3.0]},
    }


DOCS = {"confusion_matrix": confusion_matrix, "accuracy_table": accuracy_table, "residuals": residuals, "predictions": predictions}
METHODS = {"confusion_matrix": "log_confusion_matrix", "accuracy_table": "log_accuracy_table", "residuals": "log_residuals", "predictions": "log_predictions"}


def doc(kind: str) -> dict[str, Any]:
    """A fresh valid document of a kind (deep-copied, so a test may spoil it)."""
    return copy.deepcopy(DOCS[kind]())
