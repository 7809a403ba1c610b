"""End-to-end: the standard charts demo logged by a real script, drawn in the Run History tab in Chromium.

demo/charts.py (a cloud-SDK script with its import changed) runs as its own process into a real
SQLite store; a real TensorBoard serves the tab; headless Chromium opens each run's details and
the test reads what a user sees: the heatmap's labels and counts, and coloured pixels on the ROC,
precision-recall, residual and predicted-versus-true canvases. A hostile class label stays text.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from chart_docs import HOSTILE_LABEL, doc
from playwright.sync_api import expect
from tensorboard_server import serve_tensorboard
from test_e2e_browser import TIMEOUT_MS, browser, open_tab, page, row  # noqa: F401 - browser, page: fixtures

from tb_runhistory_plugin import Experiment

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Pixels far from grey (r, g, b spread over 60): the curves, bars and points, not the axes, grid or text.
COLOURED_PIXELS = """canvas => {
    const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
        const hi = Math.max(data[i], data[i + 1], data[i + 2]), lo = Math.min(data[i], data[i + 1], data[i + 2]);
        if (data[i + 3] > 150 && hi - lo > 60) n++;
    }
    return n;
}"""


@pytest.fixture(scope="module")
def charts(tmp_path_factory):
    """The demo script's runs, plus one run whose confusion matrix has a hostile class label."""
    root = tmp_path_factory.mktemp("charts-e2e")
    store = str(root / "store")
    env = {**os.environ, "RUNHISTORY_STORE": store, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, os.path.join(REPO, "demo", "charts.py")], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    exp = Experiment("standard-charts", store=store)
    hostile = exp.start_logging(display_name="hostile-labels")
    hostile.log_confusion_matrix("cm", doc("confusion_matrix"))
    hostile.complete()
    runs = {r.display_name: r for r in exp.get_runs(include_children=True)}
    with serve_tensorboard(root / "logdir", "--runhistory_store", store) as url:
        yield {"url": url, "runs": runs}


def details_of(page, url, names):
    """Open the tab, click down the tree to the last of `names`, and show its details."""
    frame = open_tab(page, url)
    for name in names[:-1]:
        row(frame, name).locator(".rh-twisty").click()
        expect(row(frame, names[-1])).to_be_visible(timeout=TIMEOUT_MS)
    row(frame, names[-1]).click()
    frame.locator(".rh-tab", has_text="Details").click()
    expect(frame.locator(".rh-detail-title h2")).to_have_text(names[-1], timeout=TIMEOUT_MS)
    return frame


def drawn(frame, selector) -> int:
    canvas = frame.locator(selector)
    expect(canvas).to_be_visible(timeout=TIMEOUT_MS)
    canvas.scroll_into_view_if_needed()
    count = 0
    for _ in range(50):  # the canvas paints on the next animation frame; poll what the user would see
        count = canvas.evaluate(COLOURED_PIXELS)
        if count:
            break
        frame.locator("body").evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return count


def test_classifier_heatmap_and_curves(page, charts):  # noqa: F811
    frame = details_of(page, charts["url"], ["standard-charts", "classifier"])
    stored = charts["runs"]["classifier"].get_metrics()["confusion_matrix"][0]["data"]
    heatmap = frame.locator('.rh-std-chart[data-chart-kind="confusion_matrix"] table.rh-heatmap')
    expect(heatmap).to_be_visible(timeout=TIMEOUT_MS)
    expect(heatmap.locator("thead th")).to_have_text(["actual \\ predicted", *stored["class_labels"]])
    expect(heatmap.locator("tbody th")).to_have_text(stored["class_labels"])
    expected_cells = [str(v) for row_ in stored["matrix"] for v in row_]
    expect(heatmap.locator("tbody td")).to_have_text(expected_cells)
    expect(frame.locator('.rh-std-chart[data-chart-kind="confusion_matrix"]')).to_contain_text("accuracy 80.0%")
    # The diagonal cell with the largest share is the darkest: shaded, with light text.
    assert heatmap.locator("td.rh-heatmap-dark").count() >= 1
    section = frame.locator('.rh-std-chart[data-chart-kind="accuracy_table"]')
    expect(section.locator(".rh-std-legend li")).to_have_count(3)
    expect(section.locator(".rh-std-legend-label")).to_have_text(stored["class_labels"])
    expect(section.locator(".rh-std-legend li").first).to_contain_text("AUC 0.")
    assert drawn(section, "canvas.rh-roc") > 300
    assert drawn(section, "canvas.rh-pr") > 300
    expect(section.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", "./download?run=" + charts["runs"]["classifier"].id + "&name=accuracy_table&format=csv"
    )


def test_regressor_residuals_and_predictions(page, charts):  # noqa: F811
    frame = details_of(page, charts["url"], ["standard-charts", "regressor"])
    residuals = frame.locator('.rh-std-chart[data-chart-kind="residuals"]')
    expect(residuals.locator("h3")).to_have_text("Residuals: residuals")
    assert drawn(residuals, "canvas") > 1000, "the bars fill"
    predictions = frame.locator('.rh-std-chart[data-chart-kind="predictions"]')
    expect(predictions.locator("h3")).to_have_text("Predicted vs. true: predictions")
    assert drawn(predictions, "canvas") > 100
    expect(predictions).to_contain_text("step 0")


def test_a_hostile_class_label_is_shown_as_text(page, charts):  # noqa: F811
    frame = details_of(page, charts["url"], ["hostile-labels"])
    heatmap = frame.locator('.rh-std-chart[data-chart-kind="confusion_matrix"] table.rh-heatmap')
    expect(heatmap.locator("tbody th").last).to_have_text(HOSTILE_LABEL, timeout=TIMEOUT_MS)
    expect(heatmap.locator("thead th").last).to_have_text(HOSTILE_LABEL)
    assert frame.locator("img[src='x']").count() == 0
    # (the page fixture fails the test if a dialog opened or a script error happened)
