"""The demos: the ridge sweep on the diabetes data and the numpy MLP writing its own event files."""

from __future__ import annotations

import glob
import os
import runpy

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.util import tensor_util

from tb_runhistory_plugin import Run, export_to_tensorboard
from tb_runhistory_plugin.demos import _data, _raster, default_logs_root, run_sweep, run_training, sweep
from tb_runhistory_plugin.errors import InvalidArgumentError
from tb_runhistory_plugin.store import SQLiteStore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_events(folder: str) -> dict[tuple[str, str], list[tuple[int, object]]]:
    """(tag, plugin) -> [(step, value)] from the event files in `folder`, read by TensorBoard's own loader."""
    found: dict[tuple[str, str], list[tuple[int, object]]] = {}
    plugins: dict[str, str] = {}  # writers may give a tag's metadata only with its first value, as TensorBoard allows
    paths = sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*")))
    assert paths, f"no event file in {folder}"
    for path in paths:
        for event in event_file_loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                data = tensor_util.make_ndarray(value.tensor) if value.HasField("tensor") else None
                plugin = plugins.setdefault(value.tag, value.metadata.plugin_data.plugin_name)
                found.setdefault((value.tag, plugin), []).append((event.step, data))
    return found


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Run:
    store = SQLiteStore(tmp_path_factory.mktemp("sweep") / "store")
    return run_sweep(store=store)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Run, str]:
    base = tmp_path_factory.mktemp("train")
    store = SQLiteStore(base / "store")
    return run_training(store=store, logs_root=base / "logs"), str(base / "logs")


# -- data ---------------------------------------------------------------------------------------


def test_the_shipped_data_sets_are_the_classic_ones():
    diabetes = _data.load_diabetes()
    assert diabetes.x.shape == (442, 10) and diabetes.y.shape == (442,)
    assert diabetes.features == ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
    assert diabetes.y.min() == 25 and diabetes.y.max() == 346  # disease progression, as published
    digits = _data.load_digits()
    assert digits.x.shape == (1797, 64) and digits.y.dtype == np.int64
    assert set(digits.y.tolist()) == set(range(10)) and digits.x.min() == 0 and digits.x.max() == 16
    readme = os.path.join(REPO, "demo", "data", "README.md")
    assert "BSD 3-Clause" in open(readme, encoding="utf-8").read()


def test_split_is_fixed_by_the_seed_and_disjoint():
    train, test = _data.split(442, 0.2, 0)
    again = _data.split(442, 0.2, 0)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert len(test) == 88 and not set(train.tolist()) & set(test.tolist()) and len(train) + len(test) == 442
    assert not np.array_equal(test, _data.split(442, 0.2, 1)[1])


def test_ridge_in_closed_form():
    x_train, y_train, *_ = sweep.prepare()
    # alpha=0 is ordinary least squares with an intercept.
    weights, bias = sweep.ridge(x_train, y_train, 0.0)
    design = np.column_stack([x_train, np.ones(len(y_train))])
    expected = np.linalg.lstsq(design, y_train, rcond=None)[0]
    np.testing.assert_allclose(np.append(weights, bias), expected, rtol=1e-8, atol=1e-6)
    # The gradient of |y - xw - b|^2 + alpha |w|^2 vanishes at the solution.
    weights, bias = sweep.ridge(x_train, y_train, 0.5)
    residual = y_train - x_train @ weights - bias
    np.testing.assert_allclose(-x_train.T @ residual + 0.5 * weights, 0, atol=1e-6)


def test_images_are_drawn_without_matplotlib():
    plot = _raster.scatter(np.array([0.0, 1.0, 2.0]), np.array([-1.0, 0.0, 1.0]), width=100, height=60)
    assert plot.shape == (60, 100, 3) and plot.dtype == np.uint8
    assert (plot != 255).any(axis=2).sum() > 20  # frame, zero line and dots
    grid = _raster.digit_grid(np.full((12, 64), 16.0), columns=5, scale=2, gap=1)
    assert grid.shape == (3 * 17 + 1, 5 * 17 + 1) and grid.min() == 0 and grid.max() == 255


# -- the sweep ----------------------------------------------------------------------------------


def test_sweep_has_one_completed_child_per_alpha(swept):
    assert swept.status == "Completed"
    children = swept.get_children()
    assert [c.display_name for c in children] == [f"alpha0.{i}" for i in range(1, 8)]
    assert all(c.status == "Completed" for c in children)
    for alpha, child in zip(sweep.DEFAULT_ALPHAS, children, strict=True):
        assert child.get_properties()["alpha"] == alpha
        history = child.get_metric_history("mse")
        assert history.steps.tolist() == [88, 177, 266, 354]  # a learning curve; the last fit uses the whole split
    by_alpha = swept.get_metrics("by_alpha")["by_alpha"]
    assert by_alpha["alpha"] == list(sweep.DEFAULT_ALPHAS)
    assert by_alpha["mse"] == [c.get_metric_history("mse").values[-1] for c in children]


def test_sweep_mse_behaves_as_ridge_predicts(swept):
    children = swept.get_children()
    test_mse = np.array([c.get_metric_history("mse").values[-1] for c in children])
    train_mse = np.array([c.get_metric_history("train_mse").values[-1] for c in children])
    # More shrinkage can only raise the training error; on this split the test error rises too.
    assert np.all(np.diff(train_mse) > 0)
    assert np.all(np.diff(test_mse) > 0)
    # Sensible: about half the variance of the target explained (its variance is about 5,930).
    assert np.all((2000 < test_mse) & (test_mse < 4500))
    coefficients = swept.get_metrics("coefficients")["coefficients"]
    norms = np.linalg.norm([[coefficients[f][i] for f in _data.DIABETES_FEATURES] for i in range(7)], axis=1)
    assert np.all(np.diff(norms) < 0)  # the regularisation path shrinks
    metrics = swept.get_metrics()
    assert metrics["best_alpha"] == 0.1 and metrics["best_mse"] == test_mse[0]
    (image,) = metrics["residuals"]
    assert (image["content_type"], image["width"], image["height"]) == ("image/png", 360, 240)


def test_sweep_training_mse_rises_with_alpha_for_any_split(tmp_path):
    root = run_sweep(store=tmp_path / "s", alphas=[0.0, 1.0, 5.0], seed=7, experiment="other")
    finals = [c.get_metric_history("train_mse").values[-1] for c in root.get_children()]
    assert finals == sorted(finals) and finals[0] < finals[-1]
    assert root.experiment.name == "other"


@pytest.mark.parametrize("alphas", [[], [-0.1], [float("nan")], ["0.1"], [True]])
def test_sweep_rejects_bad_alphas(tmp_path, alphas):
    with pytest.raises(InvalidArgumentError, match="alpha"):
        run_sweep(store=tmp_path / "s", alphas=alphas)
    assert not (tmp_path / "s").exists() or not SQLiteStore(tmp_path / "s").list_experiments()


def test_sweep_script_exports_without_serving(tmp_path, capsys):
    script = runpy.run_path(os.path.join(REPO, "demo", "sweep.py"))
    assert script["main"](["--store", str(tmp_path / "s"), "--logdir", str(tmp_path / "tb"), "--no-serve"]) == 0
    assert "exported 8 runs" in capsys.readouterr().err
    events = read_events(str(tmp_path / "tb" / "ridge-sweep" / "alpha0.3"))
    assert [step for step, _ in events[("mse", "scalars")]] == [88, 177, 266, 354]


# -- the training script ------------------------------------------------------------------------


def test_training_run_and_folds_complete_with_sensible_accuracy(trained):
    root, _ = trained
    assert root.status == "Completed"
    metrics = root.get_metrics()
    assert metrics["test_accuracy"] > 0.9 and metrics["cv_accuracy"] > 0.9
    folds = root.get_children()
    assert [f.display_name for f in folds] == ["fold1", "fold2", "fold3"]
    for k, fold in enumerate(folds, start=1):
        assert fold.status == "Completed" and fold.get_properties() == {"fold": k}
        history = fold.get_metric_history("val_accuracy")
        assert history.steps.tolist() == list(range(10)) and history.values[-1] > 0.85
        assert fold.get_metric_history("loss").values[-1] < fold.get_metric_history("loss").values[0]
    assert np.isclose(metrics["cv_accuracy"], np.mean([f.get_metric_history("val_accuracy").values[-1] for f in folds]))
    per_digit = metrics["per_digit"]
    assert per_digit["digit"] == list(range(10)) and sum(per_digit["support"]) == 359
    assert root.get_properties()["epochs"] == 10


def test_training_writes_native_event_files_tied_to_the_run(trained):
    root, logs_root = trained
    logs = root.info().logs_dir
    assert logs == os.path.join(logs_root, f"digits-mlp-{root.id[:8]}")
    train, test = read_events(os.path.join(logs, "train")), read_events(os.path.join(logs, "test"))
    for events in (train, test):
        assert [step for step, _ in events[("loss", "scalars")]] == list(range(10))
        accuracy = [float(value) for _, value in events[("accuracy", "scalars")]]
        assert 0 <= min(accuracy) and max(accuracy) <= 1
    assert float(test[("accuracy", "scalars")][-1][1]) == pytest.approx(root.get_metrics()["test_accuracy"], abs=1e-6)
    for tag in ("layer1/weights", "layer1/biases", "layer1/activations", "layer2/weights", "layer2/biases"):
        steps = [step for step, _ in train[(tag, "histograms")]]
        assert steps == list(range(10)), tag
        buckets = train[(tag, "histograms")][-1][1]
        assert buckets.shape[1] == 3 and buckets[:, 2].sum() > 0  # (left, right, count) rows


def test_training_logs_are_exported_with_the_run(trained, tmp_path):
    root, _ = trained
    export_to_tensorboard(root, tmp_path / "tb")
    mirrored = read_events(str(tmp_path / "tb" / "digits-mlp" / "logs" / "train"))
    assert ("layer1/weights", "histograms") in mirrored
    assert ("val_accuracy", "scalars") in read_events(str(tmp_path / "tb" / "digits-mlp" / "fold2"))


def test_training_logs_default_to_the_store_folder(tmp_path):
    store = SQLiteStore(tmp_path / "s")
    assert default_logs_root(store) == os.path.join(store.root, "logs")
    root = run_training(store=store, epochs=1, folds=0, hidden=8)
    assert root.status == "Completed" and root.get_children() == []
    assert root.info().logs_dir.startswith(os.path.join(store.root, "logs") + os.sep)


@pytest.mark.parametrize(
    "options",
    [{"epochs": 0}, {"epochs": 1.5}, {"hidden": 0}, {"batch_size": -1}, {"folds": 1}, {"folds": -2}],
)
def test_training_rejects_bad_settings(tmp_path, options):
    with pytest.raises(InvalidArgumentError):
        run_training(store=tmp_path / "s", logs_root=tmp_path / "logs", **options)
    assert not (tmp_path / "logs").exists()


def test_live_training_logs_in_the_background_then_completes(tmp_path):
    from tb_runhistory_plugin.demos import start_live_training

    live = start_live_training(str(tmp_path / "store"), seconds=1.2)
    store = SQLiteStore(tmp_path / "store")
    assert store.get_run(live.run.id).status == "Running"
    assert live.wait(timeout=30)  # ends by itself after `seconds`
    info = store.get_run(live.run.id)
    loss = next(m for m in store.list_metrics(live.run.id) if m.name == "train/loss")
    assert info.status == "Completed" and loss.count > 20  # 20 points up front, then one every half second
    live.stop()  # stopping a finished run is harmless


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), True, "60"])
def test_live_training_rejects_bad_durations(tmp_path, seconds):
    from tb_runhistory_plugin.demos import start_live_training

    with pytest.raises(InvalidArgumentError, match="seconds"):
        start_live_training(str(tmp_path / "store"), seconds=seconds)
