"""TensorBoard bridge: export run history as event files, import event files into a store."""

from ._exporter import ExportReport, ExportWarning, export_to_tensorboard
from ._importer import ImportReport, import_tensorboard
from ._mlflow import MlflowImportReport, import_mlflow

__all__ = ["ExportReport", "ExportWarning", "ImportReport", "export_to_tensorboard", "import_tensorboard", "MlflowImportReport", "import_mlflow"]
