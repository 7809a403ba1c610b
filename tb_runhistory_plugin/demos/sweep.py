"""The ridge-regression sweep: one child run per alpha on the diabetes data, ridge in closed form.

The shape of the original product's sample: a root run, one child per alpha with the property
``alpha`` (its hyperparameter) logging ``mse`` (the test-set mean squared error), and on the root
a ``by_alpha`` table, the coefficient path as a table, and a residual plot of the best alpha as an
image. Each child logs ``mse`` (and ``train_mse``) as a short learning curve, fitting on growing
shares of the training split with the number of training samples as the step; the last point is
the fit on the whole split.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from .._experiment import Experiment
from .._run import Run
from ..errors import InvalidArgumentError
from ..store import Store
from . import _data, _raster

EXPERIMENT = "diabetes-ridge"
DEFAULT_ALPHAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
_CURVE_POINTS = 4  # training-set sizes per alpha: 1/4, 2/4, 3/4 and all of the training split


def _curve_sizes(n: int) -> list[int]:
    """Training-set sizes of the learning curve, ending with all `n` samples."""
    return sorted({max(12, round(n * k / _CURVE_POINTS)) for k in range(1, _CURVE_POINTS + 1)} | {n})


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Weights and intercept minimising |y - xw - b|^2 + alpha |w|^2 (the intercept is not penalised)."""
    x_mean, y_mean = x.mean(axis=0), float(y.mean())
    xc = x - x_mean
    weights = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - y_mean))
    return weights, y_mean - float(x_mean @ weights)


def prepare(test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) of the diabetes data, split by `seed`.

    Features are centred and scaled to unit norm with the training split's statistics, as in Efron
    et al. (2004), so alphas around 0.1 to 1 regularise noticeably.
    """
    data = _data.load_diabetes()
    train, test = _data.split(len(data.y), test_fraction, seed)
    mean = data.x[train].mean(axis=0)
    norm = data.x[train].std(axis=0) * math.sqrt(len(train))
    scaled = (data.x - mean) / norm
    return scaled[train], data.y[train], scaled[test], data.y[test]


def _check_alphas(alphas: Sequence[float]) -> list[float]:
    values = [alphas] if isinstance(alphas, (int, float)) else list(alphas)
    if not values:
        raise InvalidArgumentError("run_sweep needs at least one alpha")
    for alpha in values:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha) or alpha < 0:
            raise InvalidArgumentError(f"alpha must be a finite number >= 0, got {alpha!r}")
    return [float(a) for a in values]


def run_sweep(
    store: str | os.PathLike[str] | Store | None = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    *,
    experiment: str = EXPERIMENT,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> Run:
    """Fit ridge regression for each alpha, one child run each; returns the completed root run.

    Args:
        store: where to log (a path, a URI or a Store; default: $RUNHISTORY_STORE, else ./runhistory).
        alphas: the regularisation strengths, one child run each.
        experiment: the experiment the runs go into.
        seed: fixes the train/test split.
        test_fraction: share of the 442 patients held out for the mse.

    Returns:
        The root run, Completed, with one Completed child per alpha.

    Raises:
        InvalidArgumentError: no alphas, or a negative or non-finite one.
    """
    values = _check_alphas(alphas)
    if not 0 < test_fraction < 1:
        raise InvalidArgumentError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    x_train, y_train, x_test, y_test = prepare(test_fraction, seed)
    exp = Experiment(experiment, store=store)
    root = exp.start_logging(
        "ridge-sweep",
        tags={"demo": "sweep", "model": "ridge"},
        description="Ridge regression on the diabetes data (Efron et al. 2004): one child run per alpha.",
        properties={"dataset": "diabetes", "seed": seed, "n_train": len(y_train), "n_test": len(y_test)},
    )
    with root:
        coefficients: dict[str, list[float]] = {"alpha": []}
        best = None
        for alpha in values:
            with root.child_run(f"alpha{alpha:g}", description=f"ridge regression with alpha={alpha:g}") as child:
                child.add_properties({"alpha": alpha})  # the hyperparameter (TensorBoard's HPARAMS tab)
                # A learning curve: fits on growing shares of the training split, the last on all of it,
                # so mse is a series (a metric in TensorBoard's HPARAMS tab) whose final value is the result.
                for size in _curve_sizes(len(y_train)):
                    weights, bias = ridge(x_train[:size], y_train[:size], alpha)
                    predicted = x_test @ weights + bias
                    mse = float(np.mean((predicted - y_test) ** 2))
                    train_mse = float(np.mean((x_train[:size] @ weights + bias - y_train[:size]) ** 2))
                    child.log("mse", mse, "test-set mean squared error, by number of training samples", step=size)
                    child.log("train_mse", train_mse, "training-set mean squared error, by number of training samples", step=size)
            root.log_row("by_alpha", alpha=alpha, mse=mse)
            coefficients["alpha"].append(alpha)
            for name, weight in zip(_data.DIABETES_FEATURES, weights.tolist(), strict=True):
                coefficients.setdefault(name, []).append(weight)
            if best is None or mse < best[1]:
                best = (alpha, mse, predicted)
        assert best is not None
        root.log_table("coefficients", coefficients, "ridge coefficients per alpha (the regularisation path)")
        alpha, mse, predicted = best
        root.log("best_alpha", alpha)
        root.log("best_mse", mse)
        root.log_image(
            "residuals",
            array=_raster.scatter(predicted, y_test - predicted),
            description=f"test residuals (actual - predicted) against predicted, alpha={alpha:g}",
        )
    return root
