"""End-to-end: the Run History tab in a real TensorBoard, driven in a real Chromium.

One TensorBoard (in-process, over a real SQLite store written with the public logging API) and
one headless Chromium (Debian's, through Playwright) serve the whole module; each test gets a
fresh browser context (so fresh localStorage). Waits are Playwright expectations or
`wait_for_function`, never sleeps.

Needs: `apt-get install -y chromium` and `pip install playwright` (no `playwright install`: the
system browser is used through `executable_path`). Without them the module is skipped.
"""

from __future__ import annotations

import json
import math
import os
import re
import types

import pytest

if os.environ.get("RUNHISTORY_REQUIRE_BROWSER"):  # CI: a missing browser is a failure, not a skip
    import playwright.sync_api  # noqa: F401

    assert os.path.exists("/usr/bin/chromium"), "no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser tests drive Chromium with it)")
from browser import CHROMIUM, IFRAME, chromium
from playwright.sync_api import expect
from tensorboard.summary import Writer
from tensorboard_server import serve_tensorboard

from tb_runhistory_plugin import Experiment

XSS = "<img src=x onerror=alert(1)>"
ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0)
STEPS = 300  # points per child's train/loss: fewer than a chart's buckets, so drawn exactly
TIMEOUT_MS = 20_000  # generous: two cores shared with other work

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")


def loss(alpha: float, step: int) -> float:
    """The logged train/loss of child `alpha` at `step` (the test checks the drawn values against it)."""
    return (1 + alpha) / (step + 1) + 0.01 * math.sin(step)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A store with a sweep (parent and five children), a failed run with a hostile name, a live run;
    and event files for two children where the exporter would put them (for the Scalars tab)."""
    root = tmp_path_factory.mktemp("e2e")
    store = str(root / "store")
    logdir = root / "logdir"
    exp = Experiment("e2e-sweep", store=store)
    sweep = exp.start_logging(display_name="sweep", tags={"team": "vision"}, description="ridge sweep")
    children = {}
    for alpha in ALPHAS:
        with sweep.child_run(f"alpha{alpha}", tags={"alpha": alpha}, properties={"alpha": alpha}) as run:
            run.log_list("train/loss", [loss(alpha, step) for step in range(STEPS)])
            run.log("val/mse", alpha * 2 + 0.1)
            children[alpha] = run.id
    sweep.complete()
    bad = exp.start_logging(display_name=XSS, tags={"note": "<b>bold</b>"})
    bad.log_list("train/loss", [1.0, 0.5])
    bad.fail("ValueError: <script>alert(2)</script>")
    live = exp.start_logging(display_name="live-run")
    live.log_list("train/loss", [1.0, 0.5])
    live.flush()
    for alpha in (0.1, 0.3):
        writer = Writer(str(logdir / "sweep" / f"alpha{alpha}"))
        for step in range(20):
            writer.add_scalar("train/loss", loss(alpha, step), step=step)
        writer.close()
    yield types.SimpleNamespace(store=store, logdir=str(logdir), exp=exp, sweep=sweep, children=children, bad=bad, live=live)
    if live.status == "Running":
        live.complete()


@pytest.fixture(scope="module")
def tensorboard_url(data):
    """A real TensorBoard with the plugin, served from a daemon thread; stopped after the module."""
    with serve_tensorboard(data.logdir, "--runhistory_store", data.store) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A fresh context and page; fails the test on any JavaScript error or dialog."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", on_dialog)
    opened.errors, opened.dialogs = errors, dialogs
    yield opened
    context.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert [e for e in errors if "Three.js" not in e] == [], f"JavaScript errors: {errors}"


def open_tab(page, url):
    """Open TensorBoard on the Run History tab and wait for the runs table."""
    page.goto(url + "#runhistory", wait_until="domcontentloaded")
    frame = page.frame_locator(IFRAME)
    expect(frame.locator(".rh-row[data-id]").first).to_be_visible(timeout=TIMEOUT_MS)
    return frame


def plugin_frame(page):
    """The iframe as a Frame (for wait_for_function)."""
    return next(f for f in page.frames if "plugin_entry.html" in f.url)


def row(frame, text):
    return frame.locator(".rh-row[data-id]").filter(has=frame.locator(".rh-name", has_text=re.compile(f"^{re.escape(text)}$")))


def expand_sweep(frame):
    row(frame, "sweep").locator(".rh-twisty").click()
    expect(row(frame, "alpha0.1")).to_be_visible(timeout=TIMEOUT_MS)


def chart_snapshot(page, metric, predicate="s => s !== null"):
    """Wait until the chart of `metric` drew data satisfying `predicate`, then return it."""
    script = f"""() => {{
        const el = document.querySelector('.rh-chart-card[data-metric="{metric}"]');
        const s = el && el.runhistoryChart ? el.runhistoryChart.snapshot() : null;
        return s !== null && ({predicate})(s) ? JSON.stringify(s) : null;
    }}"""
    handle = plugin_frame(page).wait_for_function(script, timeout=TIMEOUT_MS)
    return json.loads(handle.json_value())


def test_tab_appears_after_the_native_tabs(page, tensorboard_url):
    page.goto(tensorboard_url, wait_until="domcontentloaded")
    tabs = page.locator(".mat-mdc-tab .plugin-name")
    expect(tabs.filter(has_text="Run History")).to_have_count(1, timeout=TIMEOUT_MS)
    names = [name.strip().lower() for name in tabs.all_inner_texts()]
    # After TensorBoard's own dashboards (its entry-point plugins, like the projector, may come
    # either side: their order is TensorBoard's).
    assert all(names.index("run history") > names.index(native) for native in ("time series", "scalars", "images", "histograms", "hparams")), names
    tabs.filter(has_text="Run History").click()
    expect(page.frame_locator(IFRAME).locator(".rh-exp-current .rh-exp-name", has_text="e2e-sweep")).to_be_visible(timeout=TIMEOUT_MS)


def test_tree_expands_to_a_child_and_its_chart_draws(page, tensorboard_url, data):
    frame = open_tab(page, tensorboard_url)
    expect(row(frame, "alpha0.1")).to_have_count(0)  # children load lazily
    expand_sweep(frame)
    expect(frame.locator(".rh-row[data-id]")).to_have_count(3 + len(ALPHAS))
    row(frame, "alpha0.1").click()
    expect(frame.locator(".rh-tab-on")).to_have_text(re.compile("Charts"))
    snap = chart_snapshot(page, "train/loss")
    assert [r["name"] for r in snap["runs"]] == ["alpha0.1"]
    drawn = snap["runs"][0]
    assert snap["xs"] == list(range(STEPS))
    assert drawn["total"] == STEPS and not drawn["downsampled"]
    expected = [loss(0.1, step) for step in range(STEPS)]
    assert drawn["raw"] == pytest.approx(expected, rel=1e-6)  # float32 on the wire
    assert drawn["smooth"][0] == pytest.approx(expected[0], rel=1e-6)  # debiased EMA starts at the first value
    assert drawn["smooth"][-1] != pytest.approx(expected[-1], rel=1e-3)
    # The line is on the canvas: count pixels of the first run colour (#ff7043).
    pixels = frame.locator('.rh-chart-card[data-metric="train/loss"] canvas').evaluate(
        """canvas => {
            const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            let n = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (Math.abs(data[i] - 255) < 12 && Math.abs(data[i + 1] - 112) < 12 && Math.abs(data[i + 2] - 67) < 12 && data[i + 3] > 200) n++;
            }
            return n;
        }"""
    )
    assert pixels > 50, pixels
    # Ctrl-click overlays a second run in the same chart, in the next colour.
    row(frame, "alpha1.0").click(modifiers=["Control"])
    snap = chart_snapshot(page, "train/loss", "s => s.runs.length === 2")
    assert {r["name"] for r in snap["runs"]} == {"alpha0.1", "alpha1.0"}
    expect(frame.locator('.rh-chart-card[data-metric="train/loss"] .rh-legend-item')).to_have_count(2)
    # The full data of a run is one click away.
    href = frame.locator('.rh-chart-card[data-metric="train/loss"] .rh-menu-row', has_text="alpha0.1").get_by_text("CSV").get_attribute("href")
    download = page.request.get(tensorboard_url + "data/plugin/runhistory/" + href.removeprefix("./"))
    assert download.status == 200 and download.text().startswith("step,wall_time,value\n0,")
    assert len(download.text().splitlines()) == STEPS + 1
    # Keyboard: Home focuses the first row, Enter selects it alone.
    frame.locator(".rh-tree-scroll").press("Home")
    frame.locator(".rh-tree-scroll").press("Enter")
    expect(frame.locator(".rh-chip-run .rh-chip-text")).to_have_text(["live-run"])
    # Keys typed faster than a frame act on the row the previous key focused (End, then Enter
    # in one task: before the fix, Enter selected the focus of the last render).
    last = frame.locator(".rh-row[data-id] .rh-name").last.text_content()
    frame.locator(".rh-tree-scroll").evaluate(
        """el => { for (const key of ['End', 'Enter']) el.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true})); }"""
    )
    expect(frame.locator(".rh-chip-run .rh-chip-text")).to_have_text([last])


def test_chart_zoom_axes_and_scales(page, tensorboard_url, data):
    frame = open_tab(page, tensorboard_url)
    expand_sweep(frame)
    row(frame, "alpha0.1").click()
    card = frame.locator('.rh-chart-card[data-metric="train/loss"]')
    chart_snapshot(page, "train/loss", "s => s.xs.length === 300")
    # Drag across the middle of the plot: the range is fetched again and only it is drawn.
    over = card.locator(".u-over").bounding_box()
    y = over["y"] + over["height"] / 2
    page.mouse.move(over["x"] + over["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.6, y, steps=5)
    page.mouse.up()
    snap = chart_snapshot(page, "train/loss", "s => s.zoom !== null && s.xs.length < 300")
    lo, hi = snap["zoom"]
    assert 0 < lo < hi < STEPS - 1 and all(lo <= x <= hi for x in snap["xs"])
    expect(card.get_by_role("button", name="Reset zoom")).to_be_visible()
    card.locator(".u-over").dblclick()
    chart_snapshot(page, "train/loss", "s => s.zoom === null && s.xs.length === 300")
    expect(card.get_by_role("button", name="Reset zoom")).to_be_hidden()
    # Smoothing 0 draws the raw values.
    frame.locator(".rh-input-number").fill("0")
    frame.locator(".rh-input-number").press("Enter")
    chart_snapshot(page, "train/loss", "s => s.runs[0].smooth[5] === s.runs[0].raw[5]")
    # A log scale cannot show values <= 0 (the sine makes late losses negative): left out, and said so.
    negatives = sum(1 for step in range(STEPS) if loss(0.1, step) <= 0)
    assert negatives > 0
    frame.get_by_label("Log scale").check()
    expect(card.locator(".rh-card-message")).to_have_text(f"{negatives} values ≤ 0 are not shown on the log scale.")
    snap = chart_snapshot(page, "train/loss", "s => s.runs[0].raw.includes(null)")
    assert sum(v is None for v in snap["runs"][0]["raw"]) == negatives
    # Relative time: seconds since the run's first point.
    frame.locator('.rh-seg[data-x="relative"]').click()
    snap = chart_snapshot(page, "train/loss", "s => s.xAxis === 'relative'")
    assert snap["xs"][0] == 0 and snap["xs"] == sorted(snap["xs"]) and len(snap["runs"][0]["raw"]) == len(snap["xs"])
    expect(page).to_have_url(re.compile(r"p\.runhistory\.x=relative"))


def test_filter_narrows_the_tree(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    expect(frame.locator(".rh-row[data-id]")).to_have_count(3)
    frame.locator(".rh-filter").fill("alpha0.3")
    # The children were never expanded: the server search finds the match and its parent.
    expect(row(frame, "alpha0.3")).to_be_visible(timeout=TIMEOUT_MS)
    expect(frame.locator(".rh-row[data-id]")).to_have_count(2)
    expect(row(frame, "sweep")).to_have_class(re.compile("rh-row-context"))
    expect(row(frame, "live-run")).to_have_count(0)
    frame.locator(".rh-filter").fill("")
    frame.locator(".rh-status-chip", has_text="Failed").click()
    expect(frame.locator(".rh-row[data-id]")).to_have_count(1)
    expect(frame.locator(".rh-row[data-id] .rh-name")).to_have_text(XSS)
    frame.locator(".rh-status-chip", has_text="Failed").click()
    frame.locator(".rh-tag-filter").fill("team:vision")
    expect(frame.locator(".rh-row[data-id]")).to_have_count(1)
    expect(row(frame, "sweep")).to_be_visible()
    # Sorting: by name, then the other way round.
    frame.locator(".rh-tag-filter").fill("")
    frame.locator(".rh-row-header [data-sort=display_name]").click()
    expect(frame.locator(".rh-row[data-id] .rh-name").first).to_have_text(XSS)  # "<" sorts before letters
    frame.locator(".rh-row-header [data-sort=display_name]").click()
    expect(frame.locator(".rh-row[data-id] .rh-name").first).to_have_text("sweep")


def test_sweep_plots_children_and_a_click_selects_one(page, tensorboard_url, data):
    frame = open_tab(page, tensorboard_url)
    row(frame, "sweep").click()
    frame.locator(".rh-tab", has_text="Sweep").click()
    expect(frame.locator(".rh-sweep-table tbody tr")).to_have_count(len(ALPHAS), timeout=TIMEOUT_MS)
    expect(frame.locator(".rh-sweep select").first).to_have_value("property:alpha")
    plot = frame.locator(".rh-scatter")
    points = plot.evaluate("el => el.runhistorySweep.points()")
    assert points["xs"] == list(ALPHAS)
    assert points["ys"] == pytest.approx([loss(a, STEPS - 1) for a in ALPHAS])  # final train/loss (val/mse, logged once, is a parameter)
    assert points["runs"] == [data.children[a] for a in ALPHAS]
    where = plot.evaluate("el => el.runhistorySweep.position(3)")  # alpha 0.3
    over = plot.locator(".u-over").bounding_box()
    page.mouse.click(over["x"] + where["left"], over["y"] + where["top"])
    expect(frame.locator(".rh-chip-run .rh-chip-text")).to_have_count(0)  # the charts tab is not shown
    expect(frame.locator(".rh-sweep-table tr.rh-row-selected .rh-name")).to_have_text("alpha0.3")
    expect(row(frame, "alpha0.3")).to_have_attribute("aria-selected", "true")


def test_open_in_scalars_lands_on_the_scalars_tab_filtered(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    expand_sweep(frame)
    row(frame, "alpha0.1").click()
    card = frame.locator('.rh-chart-card[data-metric="train/loss"]')
    expect(card.locator("canvas")).to_be_visible(timeout=TIMEOUT_MS)
    card.get_by_role("button", name="Open in Scalars").click()
    expect(page).to_have_url(re.compile(r"#scalars&tagFilter=%5Etrain%5C%2Floss%24&regexInput="), timeout=TIMEOUT_MS)
    expect(page.locator(".mat-mdc-tab.mdc-tab--active .plugin-name")).to_have_text(re.compile("scalars", re.IGNORECASE), timeout=TIMEOUT_MS)
    # The Scalars dashboard applied both filters: only the matching run is listed.
    expect(page.get_by_text("sweep/alpha0.1", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("sweep/alpha0.3", exact=True)).to_have_count(0)
    expect(page.get_by_text(re.compile(r"Tags matching"))).to_be_visible()


def test_a_hostile_run_name_stays_text(page, tensorboard_url):
    frame = open_tab(page, tensorboard_url)
    name = row(frame, XSS).locator(".rh-name")
    expect(name).to_have_text(XSS)
    row(frame, XSS).click()
    frame.locator(".rh-tab", has_text="Details").click()
    expect(frame.locator(".rh-detail-title h2")).to_have_text(XSS, timeout=TIMEOUT_MS)
    expect(frame.locator(".rh-error-text")).to_have_text("ValueError: <script>alert(2)</script>")
    expect(frame.locator(".rh-tag-list .rh-tag")).to_have_text("note: <b>bold</b>")
    assert frame.locator("img[src='x'], script:not([type]), .rh-tag b").count() == 0
    frame.locator(".rh-tab", has_text="Charts").click()
    expect(frame.locator(".rh-chip-run .rh-chip-text")).to_have_text(XSS)
    expect(frame.locator('.rh-chart-card[data-metric="train/loss"] .rh-legend-name')).to_have_text(XSS)
    # (the page fixture fails the test if a dialog opened or a script error happened)


def test_selection_filter_and_smoothing_survive_a_reload(page, tensorboard_url, data):
    frame = open_tab(page, tensorboard_url)
    expand_sweep(frame)
    row(frame, "alpha0.3").click()
    frame.locator(".rh-input-number").fill("0.9")
    frame.locator(".rh-input-number").press("Enter")
    frame.locator(".rh-filter").fill("alpha")
    expect(page).to_have_url(re.compile(r"p\.runhistory\.q=alpha"), timeout=TIMEOUT_MS)
    assert f"p.runhistory.sel={data.children[0.3]}" in page.url
    assert "p.runhistory.smooth=0.9" in page.url
    page.reload(wait_until="domcontentloaded")
    frame = page.frame_locator(IFRAME)
    expect(frame.locator(".rh-filter")).to_have_value("alpha", timeout=TIMEOUT_MS)
    expect(frame.locator(".rh-input-number")).to_have_value("0.9")
    expect(frame.locator(".rh-chip-run .rh-chip-text")).to_have_text("alpha0.3")
    expect(row(frame, "alpha0.3")).to_have_attribute("aria-selected", "true")


def test_errors_and_the_empty_store_say_what_to_do(page, tensorboard_url):
    route = "**/data/plugin/runhistory/experiments"
    page.route(route, lambda r: r.fulfill(status=500, content_type="application/json", body='{"error": "database disk image is malformed"}'))
    page.goto(tensorboard_url + "#runhistory", wait_until="domcontentloaded")
    frame = page.frame_locator(IFRAME)
    expect(frame.get_by_text("database disk image is malformed")).to_be_visible(timeout=TIMEOUT_MS)
    page.unroute(route)
    frame.get_by_role("button", name="Retry").click()
    expect(frame.locator(".rh-row[data-id]").first).to_be_visible(timeout=TIMEOUT_MS)
    hint = "No run history store yet. Looked in: /nowhere (from --logdir)."
    page.route(
        route, lambda r: r.fulfill(status=200, content_type="application/json", body=json.dumps({"experiments": [], "hint": hint, "store": {"found": False}}))
    )
    page.reload(wait_until="domcontentloaded")
    expect(frame.get_by_text("No run history found")).to_be_visible(timeout=TIMEOUT_MS)
    expect(frame.get_by_text(hint)).to_be_visible()
    expect(frame.locator(".rh-code")).to_contain_text("start_logging()")


def test_a_live_run_updates_without_a_reload(page, tensorboard_url, data):
    frame = open_tab(page, tensorboard_url)
    row(frame, "live-run").click()
    chart_snapshot(page, "train/loss", "s => s.xs.length === 2")
    plugin_frame(page).evaluate("() => { window.__sameDocument = true; }")
    data.live.log("train/loss", 0.25)
    data.live.flush()
    snap = chart_snapshot(page, "train/loss", "s => s.xs.length === 3")
    assert snap["xs"] == [0, 1, 2]
    assert snap["runs"][0]["raw"][-1] == pytest.approx(0.25)
    expect(row(frame, "live-run").locator(".rh-status")).to_have_text("Running")
    data.live.complete()
    expect(row(frame, "live-run").locator(".rh-status")).to_have_text("Completed", timeout=TIMEOUT_MS)
    assert plugin_frame(page).evaluate("() => window.__sameDocument === true")


def test_tensorboard_reload_button_refreshes_the_tab(page, tensorboard_url, data):
    frame = open_tab(page, tensorboard_url)
    if data.live.status == "Running":  # polling would find the new run anyway
        data.live.complete()
    expect(frame.locator(".rh-live-on")).to_have_count(0, timeout=TIMEOUT_MS)
    with data.exp.start_logging(display_name="made-after-load") as late:
        late.log("train/loss", 1.0)
    reloads = plugin_frame(page).evaluate("() => window.runhistoryApp.reloads")
    page.locator("button.reload-button").click()
    plugin_frame(page).wait_for_function(f"() => window.runhistoryApp.reloads > {reloads}", timeout=TIMEOUT_MS)
    expect(row(frame, "made-after-load")).to_be_visible(timeout=TIMEOUT_MS)
