"""A training script that writes TensorBoard event files itself while it runs, tied to its run.

A small numpy network (64 inputs, one ReLU hidden layer, softmax over 10 digits, plain backprop
with momentum) learns the 8x8 handwritten digits. The way the classic MNIST summaries example
does, the final model's training writes scalars (loss, accuracy) and histograms (weights, biases,
activations) with ``tensorboard.summary.Writer`` into ``train/`` and ``test/`` folders under the
run's logs folder (``run.attach_logs``), flushed every epoch, so a TensorBoard started by the
launcher shows them growing. Before that, k-fold cross-validation runs one child run per fold that
logs loss and accuracy through this package's API.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram import summary as histogram_summary
from tensorboard.summary import Output, Writer
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

from .._experiment import Experiment
from .._run import Run
from ..errors import InvalidArgumentError
from ..store import SQLiteStore, Store, resolve_store
from . import _data, _raster

EXPERIMENT = "digits-mlp"
_HISTOGRAM_BUCKETS = 30


class EventOutput(Output):
    """A ``tensorboard.summary`` Output writing one event file that also takes whole summaries.

    ``tensorboard.summary.Writer`` only writes scalars so far; histograms go through
    ``emit_summary`` into the same file, so one folder holds one growing event file.
    """

    def __init__(self, logdir: str) -> None:
        self._events = EventFileWriter(logdir)

    def emit_scalar(self, *, plugin_name, tag, data, step, wall_time, tag_metadata=None, description=None) -> None:
        """See ``tensorboard.summary.Output``."""
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin_name, content=tag_metadata),
            summary_description=description,
            data_class=summary_pb2.DataClass.DATA_CLASS_SCALAR,
        )
        event = event_pb2.Event(wall_time=wall_time, step=int(step))
        event.summary.value.add(tag=tag, tensor=tensor_util.make_tensor_proto(data), metadata=metadata)
        self._events.add_event(event)

    def emit_summary(self, summary: summary_pb2.Summary, step: int, wall_time: float | None = None) -> None:
        """Write a whole Summary proto (for example from ``histogram_pb``) at `step`."""
        event = event_pb2.Event(wall_time=time.time() if wall_time is None else wall_time, step=int(step), summary=summary)
        self._events.add_event(event)

    def flush(self) -> None:
        """See ``tensorboard.summary.Output``."""
        self._events.flush()

    def close(self) -> None:
        """See ``tensorboard.summary.Output``."""
        self._events.close()


class SummaryWriter(Writer):
    """``tensorboard.summary.Writer`` (TensorFlow-free) plus ``add_histogram``."""

    def __init__(self, logdir: str) -> None:
        self._events_output = EventOutput(logdir)
        super().__init__(self._events_output)

    def add_histogram(self, tag: str, values: np.ndarray, step: int, *, description: str | None = None) -> None:
        """Add the distribution of `values` as a histogram summary."""
        summary = histogram_summary.histogram_pb(tag, np.asarray(values, dtype=np.float64).ravel(), _HISTOGRAM_BUCKETS, description)
        self._events_output.emit_summary(summary, step)


@dataclasses.dataclass
class Mlp:
    """One hidden ReLU layer and a softmax output, trained by minibatch SGD with momentum."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    @classmethod
    def create(cls, inputs: int, hidden: int, classes: int, rng: np.random.Generator) -> Mlp:
        """He-initialised weights, zero biases."""
        return cls(
            rng.normal(0.0, np.sqrt(2.0 / inputs), (inputs, hidden)),
            np.zeros(hidden),
            rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, classes)),
            np.zeros(classes),
        )

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hidden activations, class probabilities)."""
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return hidden, probs

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(mean cross-entropy, accuracy)."""
        _, probs = self.forward(x)
        loss = float(-np.log(probs[np.arange(len(y)), y] + 1e-12).mean())
        return loss, float((probs.argmax(axis=1) == y).mean())

    def train_epoch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, state: dict[str, np.ndarray], *, lr: float, batch_size: int) -> None:
        """One pass over (x, y) in shuffled minibatches; `state` keeps the momentum between epochs."""
        params = ("w1", "b1", "w2", "b2")
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            xb, yb = x[batch], y[batch]
            hidden, probs = self.forward(xb)
            grad_logits = probs
            grad_logits[np.arange(len(batch)), yb] -= 1.0
            grad_logits /= len(batch)
            grad_hidden = (grad_logits @ self.w2.T) * (hidden > 0)
            grads = {
                "w1": xb.T @ grad_hidden + 1e-4 * self.w1,
                "b1": grad_hidden.sum(axis=0),
                "w2": hidden.T @ grad_logits + 1e-4 * self.w2,
                "b2": grad_logits.sum(axis=0),
            }
            for name in params:
                velocity = state.setdefault(name, np.zeros_like(grads[name]))
                velocity *= 0.9
                velocity -= lr * grads[name]
                setattr(self, name, getattr(self, name) + velocity)


def default_logs_root(store: str | os.PathLike[str] | Store | None = None) -> str:
    """Where the demo writes native event files: ``<store>/logs`` for a local store, else ``./logs``."""
    resolved = resolve_store(store)
    return os.path.join(resolved.root, "logs") if isinstance(resolved, SQLiteStore) else os.path.abspath("logs")


def run_training(
    store: str | os.PathLike[str] | Store | None = None,
    logs_root: str | os.PathLike[str] | None = None,
    epochs: int = 10,
    *,
    folds: int = 3,
    hidden: int = 64,
    learning_rate: float = 0.05,
    batch_size: int = 32,
    seed: int = 0,
    experiment: str = EXPERIMENT,
) -> Run:
    """Cross-validate, then train and test the digits MLP; returns the completed root run.

    Args:
        store: where to log (a path, a URI or a Store; default: $RUNHISTORY_STORE, else ./runhistory).
        logs_root: folder under which the run's own event files go, in ``<logs_root>/digits-mlp-<id>``
            (default: ``<store>/logs`` for a local store, else ``./logs``).
        epochs: passes over the training data, per fold and for the final model.
        folds: cross-validation folds, one child run each (0 skips cross-validation).
        hidden: units in the hidden layer.
        learning_rate: SGD step size (momentum 0.9).
        batch_size: examples per minibatch.
        seed: fixes the split, the folds, the initial weights and the shuffling.
        experiment: the experiment the runs go into.

    Returns:
        The root run, Completed; its logs folder holds ``train/`` and ``test/`` event files.

    Raises:
        InvalidArgumentError: a non-positive epochs, hidden or batch size, or folds of 1.
    """
    for name, value in (("epochs", epochs), ("hidden", hidden), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"{name} must be a positive int, got {value!r}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 0 or folds == 1:
        raise InvalidArgumentError(f"folds must be 0 (no cross-validation) or at least 2, got {folds!r}")
    data = _data.load_digits()
    x, y = data.x / 16.0, data.y
    train, test = _data.split(len(y), 0.2, seed)
    rng = np.random.default_rng(seed)
    config = {"hidden": hidden, "learning_rate": learning_rate, "batch_size": batch_size, "epochs": epochs, "seed": seed}
    exp = Experiment(experiment, store=store)
    root = exp.start_logging(
        "digits-mlp",
        tags={"demo": "train", "model": "mlp"},
        description="A numpy MLP learning the 8x8 handwritten digits: k-fold cross-validation, then a final model.",
        properties={"dataset": "digits", "folds": folds, "n_train": len(train), "n_test": len(test), **config},
    )
    with root:
        logs = os.path.join(os.path.abspath(os.fspath(logs_root if logs_root is not None else default_logs_root(exp.store))), f"digits-mlp-{root.id[:8]}")
        root.attach_logs(logs)
        root.log_image("samples", array=_raster.digit_grid(data.x[test[:40]]), description="the first 40 test digits")
        if folds:
            accuracies = _cross_validate(root, x[train], y[train], folds, rng, epochs=epochs, hidden=hidden, lr=learning_rate, batch_size=batch_size)
            root.log("cv_accuracy", float(np.mean(accuracies)), f"mean validation accuracy over {folds} folds")
        model = _train_final(logs, x[train], y[train], x[test], y[test], rng, epochs=epochs, hidden=hidden, lr=learning_rate, batch_size=batch_size)
        loss, accuracy = model.evaluate(x[test], y[test])
        root.log("test_loss", loss)
        root.log("test_accuracy", accuracy, "accuracy of the final model on the held-out digits")
        predicted = model.forward(x[test])[1].argmax(axis=1)
        root.log_table("per_digit", _per_digit(y[test], predicted), "precision and recall of the final model per digit")
    return root


def _cross_validate(root: Run, x: np.ndarray, y: np.ndarray, folds: int, rng: np.random.Generator, **options: float) -> list[float]:
    parts = np.array_split(rng.permutation(len(y)), folds)
    accuracies = []
    for k, held_out in enumerate(parts, start=1):
        fit = np.concatenate([p for i, p in enumerate(parts, start=1) if i != k])
        with root.child_run(f"fold{k}", properties={"fold": k}, description=f"trained on the other {folds - 1} folds, validated on fold {k}") as child:
            model = Mlp.create(x.shape[1], int(options["hidden"]), 10, rng)
            state: dict[str, np.ndarray] = {}
            for epoch in range(int(options["epochs"])):
                model.train_epoch(x[fit], y[fit], rng, state, lr=options["lr"], batch_size=int(options["batch_size"]))
                loss, accuracy = model.evaluate(x[fit], y[fit])
                val_loss, val_accuracy = model.evaluate(x[held_out], y[held_out])
                child.log("loss", loss, step=epoch)
                child.log("accuracy", accuracy, step=epoch)
                child.log("val_loss", val_loss, step=epoch)
                child.log("val_accuracy", val_accuracy, step=epoch)
        accuracies.append(val_accuracy)
    return accuracies


def _train_final(logs: str, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, rng: np.random.Generator, **options: float) -> Mlp:
    model = Mlp.create(x.shape[1], int(options["hidden"]), 10, rng)
    state: dict[str, np.ndarray] = {}
    train_writer, test_writer = SummaryWriter(os.path.join(logs, "train")), SummaryWriter(os.path.join(logs, "test"))
    try:
        for epoch in range(int(options["epochs"])):
            model.train_epoch(x, y, rng, state, lr=options["lr"], batch_size=int(options["batch_size"]))
            for writer, (xs, ys) in ((train_writer, (x, y)), (test_writer, (x_test, y_test))):
                loss, accuracy = model.evaluate(xs, ys)
                writer.add_scalar("loss", loss, epoch, description="mean cross-entropy")
                writer.add_scalar("accuracy", accuracy, epoch)
            hidden, probs = model.forward(x_test)
            train_writer.add_histogram("layer1/weights", model.w1, epoch)
            train_writer.add_histogram("layer1/biases", model.b1, epoch)
            train_writer.add_histogram("layer1/activations", hidden, epoch, description="ReLU outputs on the test digits")
            train_writer.add_histogram("layer2/weights", model.w2, epoch)
            train_writer.add_histogram("layer2/biases", model.b2, epoch)
            train_writer.add_histogram("softmax/max_probability", probs.max(axis=1), epoch, description="confidence on the test digits")
            train_writer.flush()  # every epoch, so a live TensorBoard sees the run grow
            test_writer.flush()
    finally:
        train_writer.close()
        test_writer.close()
    return model


def _per_digit(actual: np.ndarray, predicted: np.ndarray) -> dict[str, list[float | int]]:
    table: dict[str, list[float | int]] = {"digit": [], "precision": [], "recall": [], "support": []}
    for digit in range(10):
        hits = int(np.sum((predicted == digit) & (actual == digit)))
        table["digit"].append(digit)
        table["precision"].append(hits / max(1, int(np.sum(predicted == digit))))
        table["recall"].append(hits / max(1, int(np.sum(actual == digit))))
        table["support"].append(int(np.sum(actual == digit)))
    return table
