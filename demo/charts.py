"""The standard charts, as a cloud-SDK training script logs them: a classifier and a regressor in numpy.

    RUNHISTORY_STORE=./runhistory python demo/charts.py
    tensorboard --logdir . --runhistory_store ./runhistory     # the Run History tab draws the charts

A port of a script written for the original SDK: only the import changed (``Workspace.from_config()``
is the store named by $RUNHISTORY_STORE, else ./runhistory). It trains a three-class softmax regression and a least-squares regressor
on synthetic data with numpy alone, computes the chart documents the original's AutoML computes
(confusion matrix, accuracy table with one-vs-rest counts per threshold, residual histogram,
binned predictions), and logs them with ``log_confusion_matrix``, ``log_accuracy_table``,
``log_residuals`` and ``log_predictions``.
"""

import numpy as np

from tb_runhistory_plugin import Experiment, Workspace  # was: from azureml.core import Experiment, Workspace

CLASSES = ["setosa", "versicolor", "virginica"]
NUM_POINTS = 101  # thresholds of the accuracy table, as AutoML uses


def make_classification(rng, n=600):
    """Three Gaussian blobs in 4 dimensions, overlapping enough that the model makes mistakes."""
    centres = np.array([[0.0, 0.0, 0.0, 0.0], [1.6, 1.0, 0.3, 0.0], [2.6, 2.4, 0.0, 0.8]])
    y = rng.integers(0, len(CLASSES), size=n)
    x = centres[y] + rng.normal(scale=0.9, size=(n, 4))
    return x, y


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train_softmax(run, x, y, epochs=60, lr=0.5):
    """Multinomial logistic regression by full-batch gradient descent; logs loss and accuracy per epoch."""
    w = np.zeros((x.shape[1] + 1, len(CLASSES)))
    xb = np.hstack([x, np.ones((len(x), 1))])
    onehot = np.eye(len(CLASSES))[y]
    for _ in range(epochs):
        p = softmax(xb @ w)
        run.log("loss", float(-np.mean(np.sum(onehot * np.log(p + 1e-12), axis=1))))
        run.log("accuracy", float(np.mean(p.argmax(axis=1) == y)))
        w -= lr * xb.T @ (p - onehot) / len(x)
    return lambda data: softmax(np.hstack([data, np.ones((len(data), 1))]) @ w)


def confusion_matrix(y_true, y_pred):
    matrix = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return {"schema_type": "confusion_matrix", "schema_version": "1.0.0", "data": {"class_labels": CLASSES, "matrix": matrix.tolist()}}


def _counts(scores, positive, thresholds):
    """[[TP, FP, TN, FN] per threshold]: a sample is predicted positive when its score >= threshold."""
    predicted = scores[None, :] >= thresholds[:, None]
    tp = (predicted & positive).sum(axis=1)
    fp = (predicted & ~positive).sum(axis=1)
    return np.stack([tp, fp, (~positive).sum() - fp, positive.sum() - tp], axis=1).tolist()


def accuracy_table(y_true, probabilities):
    """One-vs-rest counts per class at evenly spaced probabilities and at percentiles of the scores."""
    probability_thresholds = np.linspace(0, 1, NUM_POINTS)
    percentile_thresholds = np.linspace(0, 100, NUM_POINTS)
    probability_tables, percentile_tables = [], []
    for c in range(len(CLASSES)):
        scores, positive = probabilities[:, c], y_true == c
        probability_tables.append(_counts(scores, positive, probability_thresholds))
        percentile_tables.append(_counts(scores, positive, np.percentile(scores, percentile_thresholds)))
    data = {
        "probability_tables": probability_tables,
        "percentile_tables": percentile_tables,
        "probability_thresholds": probability_thresholds.tolist(),
        "percentile_thresholds": (percentile_thresholds / 100).tolist(),
        "class_labels": CLASSES,
    }
    return {"schema_type": "accuracy_table", "schema_version": "1.0.1", "data": data}


def residuals(y_true, y_pred, bins=20):
    res = y_true - y_pred
    counts, edges = np.histogram(res, bins=bins)
    data = {"bin_edges": edges.tolist(), "bin_counts": counts.tolist(), "mean": float(res.mean()), "stddev": float(res.std()), "res_count": len(res)}
    return {"schema_type": "residuals", "schema_version": "1.0.0", "data": data}


def predictions(y_true, y_pred, bins=10):
    """Bins over the true values: how many fell in each, and the mean and spread of their predictions."""
    edges = np.linspace(y_true.min(), y_true.max(), bins + 1)
    which = np.clip(np.digitize(y_true, edges) - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    averages = [float(y_pred[which == b].mean()) if counts[b] else None for b in range(bins)]
    errors = [float(y_pred[which == b].std()) if counts[b] else None for b in range(bins)]
    data = {"bin_averages": averages, "bin_errors": errors, "bin_counts": counts.tolist(), "bin_edges": edges.tolist()}
    return {"schema_type": "predictions", "schema_version": "1.0.0", "data": data}


def main():
    rng = np.random.default_rng(7)
    ws = Workspace.from_config()
    experiment = Experiment(workspace=ws, name="standard-charts")
    root = experiment.start_logging(display_name="standard-charts", tags={"demo": "charts"})

    with root.child_run("classifier") as run:
        x, y = make_classification(rng)
        train, test = slice(0, 450), slice(450, None)
        predict = train_softmax(run, x[train], y[train])
        probabilities = predict(x[test])
        run.log("test_accuracy", float(np.mean(probabilities.argmax(axis=1) == y[test])))
        run.log_confusion_matrix("confusion_matrix", confusion_matrix(y[test], probabilities.argmax(axis=1)))
        run.log_accuracy_table("accuracy_table", accuracy_table(y[test], probabilities))

    with root.child_run("regressor") as run:
        x = rng.normal(size=(500, 3))
        y = x @ np.array([3.0, -2.0, 0.5]) + 1.0 + rng.normal(scale=0.8, size=500) + 0.4 * x[:, 0] ** 2
        xb = np.hstack([x, np.ones((500, 1))])
        coef, *_ = np.linalg.lstsq(xb[:400], y[:400], rcond=None)
        y_pred = xb[400:] @ coef
        run.log("rmse", float(np.sqrt(np.mean((y[400:] - y_pred) ** 2))))
        run.log_residuals("residuals", residuals(y[400:], y_pred))
        run.log_predictions("predictions", predictions(y[400:], y_pred))

    root.complete()
    print(f"logged run {root.id} ({root.display_name}) with a classifier and a regressor")
    return root


if __name__ == "__main__":
    main()
