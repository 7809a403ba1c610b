"""tb-runhistory: a local-first run history with a TensorBoard plugin."""

from ._experiment import Experiment
from ._filter import ROOTS, RunFilter
from ._launcher import Tensorboard
from ._run import Run
from ._types import ExperimentInfo, FileInfo, MetricHistory, MetricInfo, Record, RunInfo, Status
from ._workspace import Workspace
from .errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PayloadTooLargeError,
    QueryError,
    RunFailedError,
    RunHistoryError,
    RunTimeoutError,
    StoreError,
    WriteErrors,
)
from .store import Store, open_store

__version__ = "0.1.0"

__all__ = [
    "ConflictError",
    "Experiment",
    "Workspace",
    "ExperimentInfo",
    "FileInfo",
    "InvalidArgumentError",
    "MetricHistory",
    "MetricInfo",
    "NotFoundError",
    "PayloadTooLargeError",
    "QueryError",
    "ROOTS",
    "Record",
    "Run",
    "RunFailedError",
    "RunHistoryError",
    "RunFilter",
    "RunInfo",
    "RunTimeoutError",
    "Status",
    "Store",
    "StoreError",
    "Tensorboard",
    "WriteErrors",
    "export_to_tensorboard",
    "import_mlflow",
    "import_tensorboard",
    "open_store",
]


def __getattr__(name: str):
    """Load the TensorBoard export machinery (protobuf imports) only when first used."""
    if name in ("export_to_tensorboard", "import_mlflow", "import_tensorboard"):
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
