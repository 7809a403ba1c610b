"""run.get_portal_url() opened in a real Chromium lands on the Run History tab of the TensorBoard our launcher started, the run selected."""

from __future__ import annotations

import os
import re

import pytest

pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser tests drive Chromium with it)")
from browser import CHROMIUM, CHROMIUM_ARGS, IFRAME
from playwright.sync_api import expect, sync_playwright
from test_e2e_browser import TIMEOUT_MS

from tb_runhistory_plugin import Experiment, Tensorboard

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")


def test_portal_url_opens_the_run_selected_in_the_tab(tmp_path):
    store = str(tmp_path / "store")
    exp = Experiment("portal", store=store)
    sweep = exp.start_logging(display_name="sweep")
    target = None
    for i in range(3):
        with sweep.child_run(f"trial-{i}") as kid:
            kid.log_list("loss", [1.0 / (i + 1), 0.5 / (i + 1), 0.25 / (i + 1)])
            target = kid if i == 1 else target
    sweep.complete()
    exp.start_logging(display_name="newest").complete()  # the tab would select this one on a plain first visit
    with Tensorboard([exp], local_root=tmp_path / "tb", port=0, store=store) as board, sync_playwright() as p:
        url = target.get_portal_url()
        assert url.startswith(board.url.rstrip("/") + "/#runhistory&")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url, wait_until="domcontentloaded")
            frame = page.frame_locator(IFRAME)
            chosen = frame.locator(f'.rh-row[data-id="{target.id}"]')
            expect(chosen).to_be_visible(timeout=TIMEOUT_MS)  # its parent was expanded to show it
            expect(chosen).to_have_attribute("aria-selected", "true", timeout=TIMEOUT_MS)
            expect(chosen.locator(".rh-name")).to_have_text("trial-1")
            expect(frame.locator(".rh-chip-run .rh-chip-text")).to_have_text(["trial-1"], timeout=TIMEOUT_MS)
            expect(frame.locator('.rh-chart-card[data-metric="loss"]')).to_be_visible(timeout=TIMEOUT_MS)
            expect(page.locator(".mat-mdc-tab.mdc-tab--active .plugin-name, .mat-mdc-tab-label-active .plugin-name").first).to_have_text(
                re.compile("Run History", re.I), timeout=TIMEOUT_MS
            )
            page.screenshot(path=str(tmp_path / "portal.png"))
            assert [e for e in errors if "Three.js" not in e] == []
        finally:
            browser.close()
