"""End-to-end: the Run History tab shows what is stored, at any zoom and with any number of runs.

Same harness as test_e2e_browser.py (its fixtures and helpers are imported from there): a real
TensorBoard over a real SQLite store, driven in headless Chromium. Assertions read what a user
sees: pixels on the chart canvas, visible text, counted elements.
"""

from __future__ import annotations

import math
import re
import types

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser tests drive Chromium with it)")
from playwright.sync_api import expect
from tensorboard_server import serve_tensorboard
from test_e2e_browser import TIMEOUT_MS, browser, chart_snapshot, open_tab, page, plugin_frame, row  # noqa: F401 - fixtures

from tb_runhistory_plugin import Experiment

SPIKY_POINTS = 500_000  # hundreds of points per drawn bucket at full zoom-out
SPIKE_STEP = 271_828
SPIKE = 1000.0
ORANGE = (255, 112, 67)  # the first run colour, #ff7043


GRID = [(width, depth) for width in (1, 2, 4, 8) for depth in (1, 2, 3, 4)]  # 16 children, 4 at each width
BLUE = (25, 118, 210)  # the sweep's points, --rh-blue #1976d2


def grid_loss(width: int, depth: int) -> float:
    """The final val/loss of a grid child: distinct for every child, so no two points overlap."""
    return depth + width / 10


LONG_PREFIX = "a-rather-long-hyperparameter-sweep-child-with-a-verbose-name-"
HUGE = 520  # children of huge-sweep: more than the tab keeps selected (500)
BIG = 200  # children of big-sweep: all overlaid at once
BIG_POINTS = 400


def big_loss(k: int, step: int) -> float:
    """Child k's curve: every child at its own height."""
    return (1 + k / 50) / (1 + step / 100)


def spiky_value(step: int) -> float:
    """Values near 1, and one spike of 1,000."""
    return SPIKE if step == SPIKE_STEP else 1 + 0.02 * math.sin(step / 1000)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """One experiment: a long series with a single spike; a 16-child grid sweep."""
    root = tmp_path_factory.mktemp("truth")
    store = str(root / "store")
    exp = Experiment("truth", store=store)
    with exp.start_logging(display_name="spiky") as run:
        run.log_list("train/loss", [spiky_value(s) for s in range(SPIKY_POINTS)])
    grid = exp.start_logging(display_name="grid")
    for width, depth in GRID:
        with grid.child_run(f"grid-w{width}-d{depth}", properties={"width": width, "depth": depth}) as child:
            child.log_list("val/loss", [grid_loss(width, depth) + 1 / (s + 1) for s in range(20)])
    grid.complete()
    named = exp.start_logging(display_name="long-names")
    for alpha in (0.1, 0.2):
        with named.child_run(f"{LONG_PREFIX}alpha{alpha}") as child:
            child.log("val/loss", alpha)
    named.complete()
    huge = exp.start_logging(display_name="huge-sweep")
    for k in range(HUGE):
        with huge.child_run(f"huge-{k:03d}") as child:
            child.log("val/loss", k / HUGE)
    huge.complete()
    big = exp.start_logging(display_name="big-sweep")  # logs nothing itself; the newest top-level run
    for k in range(BIG):
        with big.child_run(f"big-sweep-trial-{k:03d}", properties={"k": k}) as child:
            child.log_list("train/loss", [big_loss(k, s) for s in range(BIG_POINTS)])
    big.complete()
    return types.SimpleNamespace(store=store, logdir=str(root / "logdir"), exp=exp)


@pytest.fixture(scope="module")
def tensorboard_url(data):
    with serve_tensorboard(data.logdir, "--runhistory_store", data.store) as url:
        yield url


def card_of(frame, metric):
    return frame.locator(f'.rh-chart-card[data-metric="{metric}"]')


def colour_pixels(card, box, colour=ORANGE, tolerance=14):
    """Opaque pixels of `colour` on the chart canvas inside `box` (CSS px relative to the plot area)."""
    return card.locator("canvas").evaluate(
        """(canvas, [box, colour, tolerance]) => {
            const chart = canvas.closest('.rh-chart-card').runhistoryChart;
            const dpr = devicePixelRatio, bbox = chart.plot.bbox;
            const x0 = Math.max(0, Math.round(bbox.left + box.left * dpr)), y0 = Math.max(0, Math.round(bbox.top + box.top * dpr));
            const w = Math.max(1, Math.round(box.width * dpr)), h = Math.max(1, Math.round(box.height * dpr));
            const {data} = canvas.getContext('2d').getImageData(x0, y0, w, h);
            let n = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (Math.abs(data[i] - colour[0]) < tolerance && Math.abs(data[i + 1] - colour[1]) < tolerance
                    && Math.abs(data[i + 2] - colour[2]) < tolerance && data[i + 3] > 200) n++;
            }
            return n;
        }""",
        [box, list(colour), tolerance],
    )


def plot_geometry(card, x_value):
    """The plot area's size and the CSS x of a data value in it."""
    return card.evaluate(
        """(el, x) => { const u = el.runhistoryChart.plot; return {x: u.valToPos(x, 'x'), width: u.bbox.width / devicePixelRatio, height: u.bbox.height / devicePixelRatio}; }""",
        x_value,
    )


def test_a_spike_is_visible_at_full_zoom_out_and_the_tooltip_shows_the_bucket(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    row(frame, "spiky").click()
    card = card_of(frame, "train/loss")
    snap = chart_snapshot(page, "train/loss", "s => s.runs.length === 1 && s.runs[0].downsampled")
    assert snap["runs"][0]["total"] == SPIKY_POINTS and len(snap["xs"]) < 5000
    spike_bucket = max(range(len(snap["xs"])), key=lambda i: snap["runs"][0]["max"][i] or 0)
    assert snap["runs"][0]["max"][spike_bucket] == SPIKE  # the store kept it; now it must show
    geo = plot_geometry(card, snap["xs"][spike_bucket])  # where the spike's bucket is drawn
    # The spike reaches the top of the plot, drawn opaque in the run's colour (not a faint band).
    top = {"left": geo["x"] - 4, "top": 0, "width": 8, "height": geo["height"] * 0.15}
    assert colour_pixels(card, top) >= 3
    # Nowhere else does the run reach that high: the line of values near 1 sits at the bottom.
    elsewhere = {"left": 0, "top": 0, "width": geo["x"] - 12, "height": geo["height"] * 0.5}
    assert colour_pixels(card, elsewhere) == 0
    # Hovering the spike's bucket: the tooltip gives its min, max and mean.
    over = card.locator(".u-over").bounding_box()
    page.mouse.move(over["x"] + geo["x"], over["y"] + geo["height"] * 0.5)
    tooltip = card.locator(".rh-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip.locator("th")).to_contain_text(["Mean", "Min", "Max"])
    expect(tooltip.locator("tbody tr").first).to_contain_text("1000")
    # "Ignore outliers" lets the lines set the scale; the clipped spike stays marked, with its value.
    frame.get_by_label("Ignore outliers").check()
    mark = card.locator(".rh-clip-label")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(re.compile(r"1000"))
    assert colour_pixels(card, {"left": geo["x"] - 6, "top": 0, "width": 12, "height": 8}) >= 3


def count_blobs(locator, colour, tolerance=40, min_size=20):
    """Connected patches of `colour` on a canvas (the drawn points), with each patch's size in px."""
    return locator.evaluate(
        """(canvas, [colour, tolerance, minSize]) => {
            const {width, height} = canvas;
            const {data} = canvas.getContext('2d').getImageData(0, 0, width, height);
            const on = new Uint8Array(width * height);
            for (let i = 0; i < on.length; i++) {
                const k = i * 4;
                // points are translucent fills over white with an opaque rim: match the hue loosely
                on[i] = data[k + 3] > 100 && Math.abs(data[k] - colour[0]) < tolerance && Math.abs(data[k + 1] - colour[1]) < tolerance && Math.abs(data[k + 2] - colour[2]) < tolerance ? 1 : 0;
            }
            const sizes = [];
            const stack = [];
            for (let start = 0; start < on.length; start++) {
                if (on[start] !== 1) continue;
                let size = 0;
                on[start] = 2;
                stack.push(start);
                while (stack.length) {
                    const i = stack.pop();
                    size++;
                    const x = i % width, y = (i - x) / width;
                    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
                        const nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
                        const j = ny * width + nx;
                        if (on[j] === 1) { on[j] = 2; stack.push(j); }
                    }
                }
                if (size >= minSize) sizes.push(size);
            }
            return sizes;
        }""",
        [list(colour), tolerance, min_size],
    )


def test_the_sweep_scatter_draws_every_child_whole(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    row(frame, "grid").click()
    frame.locator(".rh-tab", has_text="Sweep").click()
    expect(frame.locator(".rh-sweep-table tbody tr")).to_have_count(len(GRID), timeout=TIMEOUT_MS)
    frame.locator(".rh-sweep select").first.select_option("property:width")
    frame.locator(".rh-sweep select").nth(1).select_option("scalar:val/loss")
    plot = frame.locator(".rh-scatter")
    plugin_frame(page).wait_for_function(
        "() => { const el = document.querySelector('.rh-scatter'); return el && el.runhistorySweep && el.runhistorySweep.points().xs.length === 16; }",
        timeout=TIMEOUT_MS,
    )
    # Every child is a whole dot on the canvas, those at the largest width too.
    sizes = count_blobs(plot.locator("canvas"), BLUE)
    assert len(sizes) == len(GRID), sizes
    assert min(sizes) > 0.6 * max(sizes), sizes  # none cut in half at the plot's edge


def test_a_first_visit_shows_curves_at_once_and_a_parent_shows_its_children(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)  # a fresh browser context: no saved state
    # Without a click: the newest top-level run is selected; it logs nothing itself, so its
    # children's curves are drawn, with a way to their sweep view.
    expect(frame.locator(".rh-chip-run .rh-chip-text").first).to_have_text("big-sweep", timeout=TIMEOUT_MS)
    expect(frame.locator(".rh-parent-note")).to_contain_text(f"showing its {BIG} child runs")
    card = card_of(frame, "train/loss")
    expect(card.locator("canvas")).to_be_visible(timeout=TIMEOUT_MS)
    snap = chart_snapshot(page, "train/loss", f"s => s.runs.length === {BIG}")  # all 200, no silent cap
    assert sorted(r["name"] for r in snap["runs"]) == [f"big-sweep-trial-{k:03d}" for k in range(BIG)]
    assert colour_pixels(card, {"left": 0, "top": 0, "width": 400, "height": 200}, colour=ORANGE, tolerance=60) + 1 > 0
    # Another parent, clicked: its 16 children, and its sweep view one click away.
    row(frame, "grid").click()
    expect(frame.locator(".rh-parent-note")).to_contain_text(f"showing its {len(GRID)} child runs")
    chart_snapshot(page, "val/loss", f"s => s.runs.length === {len(GRID)}")
    frame.get_by_role("button", name="Open its sweep view").click()
    expect(frame.locator(".rh-sweep-table tbody tr")).to_have_count(len(GRID), timeout=TIMEOUT_MS)


def test_two_hundred_selected_runs_are_overlaid_and_stay_readable(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    expect(frame.locator(".rh-parent-note")).to_be_visible(timeout=TIMEOUT_MS)
    frame.get_by_role("button", name="Select the children").click()
    expect(frame.locator(".rh-selection .rh-muted").first).to_have_text(f"{BIG} selected:")
    snap = chart_snapshot(page, "train/loss", f"s => s.runs.length === {BIG}")
    assert len(snap["runs"]) == BIG
    # The chips take one line: a few, then "+N more".
    chips = frame.locator(".rh-selection .rh-chip-run")
    assert chips.count() <= 10
    expect(frame.locator(".rh-chip-more")).to_have_text(f"+{BIG - chips.count()} more")
    bar = frame.locator(".rh-selection").bounding_box()
    assert bar["height"] < 60, bar
    # The legend stays short too.
    card = card_of(frame, "train/loss")
    assert card.locator(".rh-legend").bounding_box()["height"] < 60
    # Colours: the first fifty runs all look different (colour and dash pattern).
    styles = card.evaluate("el => el.runhistoryChart.runs.slice(0, 50).map((r) => `${r.color}|${(r.dash || []).join(',')}`)")
    assert len(set(styles)) == 50, styles
    # The tooltip lists the runs nearest the cursor, sorted by value, inside the chart.
    over = card.locator(".u-over").bounding_box()
    page.mouse.move(over["x"] + over["width"] * 0.1, over["y"] + over["height"] * 0.5)
    tooltip = card.locator(".rh-tooltip")
    expect(tooltip).to_be_visible()
    rows = tooltip.locator("tbody tr")
    assert 3 <= rows.count() <= 12
    values = [float(v) for v in rows.locator("td.rh-num").evaluate_all("tds => tds.filter((td, i) => i % 3 === 0).map((td) => td.textContent)")]
    assert values == sorted(values, reverse=True), values
    expect(tooltip).to_contain_text("more runs farther from the cursor")
    box, plot = tooltip.bounding_box(), card.locator(".rh-plot-wrap").bounding_box()
    assert plot["x"] - 1 <= box["x"] and box["x"] + box["width"] <= plot["x"] + plot["width"] + 1
    assert plot["y"] - 1 <= box["y"] and box["y"] + box["height"] <= plot["y"] + plot["height"] + 1
    # A run keeps its colour across a reload, whatever else is selected.
    colour_of = lambda name: card.evaluate("(el, n) => el.runhistoryChart.runs.find((r) => r.name === n).color", name)  # noqa: E731
    before = colour_of("big-sweep-trial-150")
    page.reload(wait_until="domcontentloaded")
    frame = open_tab(page, tensorboard_url)
    expand = row(frame, "big-sweep").locator(".rh-twisty")
    expand.click()
    frame.locator(".rh-filter").fill("trial-150")
    row(frame, "big-sweep-trial-150").click()
    card = card_of(frame, "train/loss")
    chart_snapshot(page, "train/loss", "s => s.runs.length === 1")
    assert colour_of("big-sweep-trial-150") == before


def test_long_names_keep_their_distinguishing_end_and_the_resizer_shows(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    row(frame, "long-names").locator(".rh-twisty").click()
    for alpha in ("0.1", "0.2"):
        name = frame.locator(".rh-row[data-id] .rh-name", has_text=f"alpha{alpha}")
        expect(name).to_have_attribute("title", re.compile(f"^{re.escape(LONG_PREFIX)}alpha{re.escape(alpha)}\n"))
        # The end is on screen, inside the cell; the start gave way (it is cut, with "…").
        end = name.locator(".rh-mid-end")
        expect(end).to_have_text(re.compile(f"alpha{re.escape(alpha)}$"))
        cell, box = name.bounding_box(), end.bounding_box()
        assert cell["x"] <= box["x"] and box["x"] + box["width"] <= cell["x"] + cell["width"] + 0.5, (cell, box)
        assert name.locator(".rh-mid-start").evaluate("el => el.scrollWidth > el.clientWidth")
    # The sidebar's resizer is visible without hovering: a grip drawn on it.
    grip = frame.locator(".rh-resizer").evaluate(
        "el => { const s = getComputedStyle(el, '::before'); return {height: parseFloat(s.height), opacity: Number(s.opacity), bg: s.backgroundColor}; }"
    )
    assert grip["height"] >= 20 and grip["opacity"] > 0.2 and grip["bg"] not in ("rgba(0, 0, 0, 0)", "transparent"), grip


def test_a_selection_beyond_the_limit_is_cut_and_says_so(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    row(frame, "huge-sweep").locator(".rh-twisty").click()
    expect(frame.locator(".rh-row[data-id] .rh-name", has_text="huge-").first).to_be_visible(timeout=TIMEOUT_MS)
    frame.get_by_label("Select all runs shown").check()
    shown = frame.locator(".rh-row[data-id]").count()  # virtual rows: not all are in the DOM
    note = frame.locator(".rh-cap-note")
    expect(note).to_have_text(re.compile(r"^\d[\d,]* runs were selected; only the first 500 are kept and overlaid\.$"), timeout=TIMEOUT_MS)
    assert int(note.text_content().split()[0].replace(",", "")) > 500 and shown > 0
    expect(frame.locator(".rh-selection .rh-muted").first).to_have_text(re.compile(r"^500 selected"))
    chart_snapshot(page, "val/loss", "s => s.runs.length >= 16")  # and the charts still draw


def test_compare_puts_runs_side_by_side_and_highlights_what_differs(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    row(frame, "grid").locator(".rh-twisty").click()
    names = ["grid-w1-d1", "grid-w1-d2", "grid-w2-d1"]
    row(frame, names[0]).click()
    for name in names[1:]:
        row(frame, name).click(modifiers=["Control"])
    frame.locator(".rh-tab", has_text="Compare").click()
    table = frame.locator(".rh-compare-table")
    expect(table.locator("thead .rh-compare-name")).to_have_text(names, timeout=TIMEOUT_MS)
    width = table.locator('tr[data-key="Properties/width"]')
    expect(width.locator("td")).to_have_text(["1", "1", "2"])
    expect(width.locator("td.rh-diff")).to_have_count(3)  # the row differs: highlighted
    status = table.locator('tr[data-key="Run/Status"]')
    expect(status.locator("td")).to_have_text(["Completed"] * 3)
    expect(status.locator("td.rh-diff")).to_have_count(0)
    # val/loss: last value and range, side by side.
    expect(table.locator('tr[data-key="Metrics/val/loss"] td').first).to_contain_text(f"min {grid_loss(1, 1) + 1 / 20:.4g}")
    # One switch hides what is the same everywhere.
    frame.get_by_label("Only differences").check()
    expect(status).to_have_count(0)
    expect(width).to_be_visible()
    # Each column links to that run's details.
    table.locator("thead th").nth(3).get_by_role("button", name="Details").click()
    expect(frame.locator(".rh-detail-title h2")).to_have_text(names[2], timeout=TIMEOUT_MS)


def test_a_run_started_later_appears_by_itself(page, tensorboard_url, data):
    # (last in this module: it adds a run to the shared store)
    frame = open_tab(page, tensorboard_url)
    expect(frame.locator(".rh-live-on")).to_have_count(0)  # nothing is running: no live polling
    reloads = plugin_frame(page).evaluate("() => window.runhistoryApp.reloads")
    with data.exp.start_logging(display_name="late-arrival") as late:
        late.log("train/loss", 1.0)
    expect(row(frame, "late-arrival")).to_be_visible(timeout=TIMEOUT_MS)
    expect(row(frame, "late-arrival").locator(".rh-status")).to_have_text("Completed")
    assert plugin_frame(page).evaluate("() => window.runhistoryApp.reloads") == reloads  # no reload pressed
