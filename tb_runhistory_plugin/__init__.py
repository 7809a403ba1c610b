"""tb-runhistory: a local-first run history with a TensorBoard plugin."""

from ._experiment import Experiment
from ._run import Run
from ._types import ExperimentInfo, FileInfo, MetricHistory, MetricInfo, Record, RunInfo, Status
from .errors import ConflictError, InvalidArgumentError, NotFoundError, PayloadTooLargeError, RunHistoryError, StoreError
from .store import Store, open_store

__version__ = "0.1.0"

__all__ = [
    "ConflictError",
    "Experiment",
    "ExperimentInfo",
    "FileInfo",
    "InvalidArgumentError",
    "MetricHistory",
    "MetricInfo",
    "NotFoundError",
    "PayloadTooLargeError",
    "Record",
    "Run",
    "RunHistoryError",
    "RunInfo",
    "Status",
    "Store",
    "StoreError",
    "open_store",
]
