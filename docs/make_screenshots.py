"""Take the screenshots of the Run History tab shown in the README (docs/*.png).

Builds a small, realistic store with the public logging API (a learning-rate sweep with one
diverged and one failed child, a live run, tables, images, histograms), starts TensorBoard with
the plugin in this process, and drives Debian's Chromium with Playwright.

    python docs/make_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import tempfile
import threading

import numpy as np
from playwright.sync_api import expect
from tensorboard.summary import Writer

from tb_runhistory_plugin import Experiment

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from browser import IFRAME, chromium  # noqa: E402 - the tests' Chromium launcher
from tensorboard_server import start_tensorboard  # noqa: E402 - the tests' in-process TensorBoard

LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
STEPS = 3000
LONG_STEPS = 2_000_000
SEEDS = 200


def curve(lr: float, step: int, rng: random.Random) -> float:
    """A plausible training loss: fast early drop, a floor that depends on the learning rate, noise."""
    floor = 0.08 + 2.5 * abs(math.log10(lr) + 2.6) ** 2 / 10
    speed = 300 * (1e-3 / lr) ** 0.5
    return floor + (2.3 - floor) * math.exp(-step / speed) + rng.gauss(0, 0.04 + 0.02 * math.exp(-step / 800))


def image(seed: int) -> np.ndarray:
    """A 64x64 'sample prediction': smooth coloured blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:64, 0:64] / 64.0
    channels = []
    for _ in range(3):
        cx, cy, s = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.3)
        channels.append(np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s)))
    return (np.stack(channels, axis=-1) * 255).astype(np.uint8)


def build(store: str, logdir: str):
    """The demo store; returns the live run (still running) and a function that keeps it logging."""
    rng = random.Random(7)
    mnist = Experiment("mnist-baseline", store=store)
    for name in ("mlp", "cnn-small"):
        with mnist.start_logging(display_name=name, tags={"model": name}) as run:
            run.log_list("train/loss", [curve(1e-3, s, rng) * 0.6 for s in range(500)])
    exp = Experiment("resnet18-cifar10", store=store)
    sweep = exp.start_logging(
        display_name="lr-sweep",
        tags={"model": "resnet18", "dataset": "cifar10"},
        description="Learning-rate sweep, SGD with momentum 0.9, batch 256, cosine schedule.",
    )
    for i, lr in enumerate(LRS):
        name = f"lr={lr:g}"
        run = sweep.child_run(name, tags={"optimizer": "sgd", "lr": f"{lr:g}"}, properties={"lr": lr, "batch_size": 256, "seed": i})
        losses = [curve(lr, s, rng) for s in range(STEPS)]
        if lr == 3e-2:  # diverges: a spike the envelope keeps visible
            losses = losses[:1800] + [v * 6 + 3 for v in losses[1800:1803]] + losses[1803:]
        run.log_list("train/loss", losses)
        for s in range(0, STEPS, 100):
            run.log("val/acc", max(0.1, 0.95 - losses[s] * 0.32 + rng.gauss(0, 0.004)), step=s)
        run.log_row("final", lr=lr, val_acc=0.95 - losses[-1] * 0.32, epochs=30)
        for k in range(8):
            run.log_histogram("conv1/weights", np.random.default_rng(k + i).normal(0, 0.05 + k * 0.01 * (1 + i / 3), 4000), step=k * 400)
        for k in range(3):
            run.log_image("samples", array=image(10 * i + k), step=k * 1000)
        if lr == 1e-2:
            run.log_table(
                "per_class",
                {
                    "class": ["airplane", "car", "bird", "cat", "deer", "dog"],
                    "precision": [0.93, 0.95, 0.86, 0.78, 0.9, 0.84],
                    "recall": [0.94, 0.96, 0.83, 0.8, 0.91, 0.82],
                },
            )
        if lr == 1e-4:
            try:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)")
            except RuntimeError as error:
                run.fail(error)
        else:
            run.complete()
        if lr in (1e-3, 3e-3):
            writer = Writer(os.path.join(logdir, "lr-sweep", name))
            for s in range(0, STEPS, 10):
                writer.add_scalar("train/loss", losses[s], step=s)
            writer.close()
    sweep.complete()
    pretrain = exp.start_logging(
        display_name="pretrain-2M-steps", tags={"model": "resnet18"}, description="Two million logged steps; one bad batch at step 1,300,000."
    )
    noise = np.random.default_rng(3).normal(0, 0.03, LONG_STEPS)
    values = 0.35 + 1.9 * np.exp(-np.arange(LONG_STEPS) / 250_000) + noise
    values[1_300_000] = 42.0  # a loss spike: one point among two million
    pretrain.log_list("train/loss", values.tolist())
    pretrain.complete()
    seeds = exp.start_logging(display_name="seed-sweep", tags={"model": "resnet18"}, description=f"{SEEDS} seeds of the same configuration.")
    for k in range(SEEDS):
        scale = 0.85 + 0.3 * rng.random()
        with seeds.child_run(f"seed-{k:03d}", properties={"seed": k, "lr": 3e-3}) as run:
            run.log_list("train/loss", [curve(3e-3, s * 4, rng) * scale for s in range(400)])
    seeds.complete()
    canceled = exp.start_logging(display_name="resnet34-warmup", tags={"model": "resnet34"})
    canceled.log_list("train/loss", [curve(3e-3, s, rng) + 0.05 for s in range(700)])
    canceled.cancel()
    live = exp.start_logging(display_name="resnet50-long", tags={"model": "resnet50", "dataset": "cifar10"}, properties={"lr": 3e-3})
    live.log_list("train/loss", [curve(3e-3, s, rng) * 0.9 for s in range(1200)])
    live.flush()
    stop = threading.Event()

    def keep_logging():
        step = 1200
        while not stop.wait(0.5):
            live.log("train/loss", curve(3e-3, step, rng) * 0.9)
            step += 20

    threading.Thread(target=keep_logging, daemon=True).start()
    return live, stop


def row(frame, text):
    return frame.locator(".rh-row[data-id]").filter(has=frame.locator(".rh-name", has_text=re.compile(f"^{re.escape(text)}$")))


def shoot(browser, url: str, out: str, scheme: str, name: str, steps) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=scheme, device_scale_factor=1)
    page = context.new_page()
    page.goto(url + "#runhistory")
    frame = page.frame_locator(IFRAME)
    expect(frame.locator(".rh-row[data-id]").first).to_be_visible(timeout=30_000)
    steps(page, frame)
    page.screenshot(path=os.path.join(out, name))
    context.close()
    print("wrote", os.path.join(out, name))


def charts(page, frame):
    row(frame, "lr-sweep").locator(".rh-twisty").click()
    expect(row(frame, "lr=0.001")).to_be_visible()
    row(frame, "lr=0.001").click()
    for name in ("lr=0.003", "lr=0.01", "lr=0.03"):
        row(frame, name).click(modifiers=["Control"])
    card = frame.locator('.rh-chart-card[data-metric="train/loss"]')
    expect(card.locator("canvas")).to_be_visible()
    expect(card).to_have_attribute("data-paints", re.compile(r"\d"))
    expect(frame.locator('.rh-chart-card[data-metric="val/acc"]')).to_have_attribute("data-paints", re.compile(r"\d"))
    box = card.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.55)
    expect(card.locator(".rh-tooltip")).to_be_visible()


def sweep(page, frame):
    row(frame, "lr-sweep").locator(".rh-twisty").click()
    row(frame, "lr=0.003").click()
    frame.locator(".rh-tab", has_text="Sweep").click()
    expect(frame.locator(".rh-sweep-table")).to_be_visible()
    frame.locator(".rh-sweep select").nth(1).select_option("scalar:val/acc")
    expect(frame.locator(".rh-scatter canvas")).to_be_visible()


def failed(page, frame):
    row(frame, "lr-sweep").locator(".rh-twisty").click()
    row(frame, "lr=0.0001").click()
    frame.locator(".rh-tab", has_text="Details").click()
    expect(frame.locator(".rh-traceback")).to_be_visible()


def media(page, frame):
    row(frame, "lr-sweep").locator(".rh-twisty").click()
    row(frame, "lr=0.01").click()
    frame.locator(".rh-tab", has_text="Details").click()
    expect(frame.locator(".rh-histogram")).to_be_visible()
    expect(frame.locator(".rh-image")).to_be_visible()
    expect(frame.locator(".rh-detail-section", has_text="Table: per_class").locator("td", has_text="airplane")).to_be_visible()
    frame.locator(".rh-detail-section", has_text="Images: samples").evaluate("el => el.scrollIntoView({block: 'start'})")
    expect(frame.locator(".rh-image")).to_be_in_viewport()


def spike(page, frame):
    row(frame, "pretrain-2M-steps").click()
    card = frame.locator('.rh-chart-card[data-metric="train/loss"]')
    expect(card).to_have_attribute("data-paints", re.compile(r"\d"))
    snap = card.evaluate(
        "el => { const s = el.runhistoryChart.snapshot(); const m = s.runs[0].max; let k = 0; m.forEach((v, i) => { if (v > m[k]) k = i; }); return {x: el.runhistoryChart.plot.valToPos(s.xs[k], 'x')}; }"
    )
    box = card.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + snap["x"], box["y"] + box["height"] * 0.45)
    expect(card.locator(".rh-tooltip")).to_be_visible()


def parent(page, frame):
    row(frame, "lr-sweep").click()
    expect(frame.locator(".rh-parent-note")).to_be_visible()
    card = frame.locator('.rh-chart-card[data-metric="train/loss"]')
    expect(card).to_have_attribute("data-paints", re.compile(r"\d"))


def many(page, frame):
    row(frame, "seed-sweep").click()
    frame.get_by_role("button", name="Select the children").click()
    expect(frame.locator(".rh-chip-more")).to_be_visible()
    card = frame.locator('.rh-chart-card[data-metric="train/loss"]')
    expect(card).to_have_attribute("data-paints", re.compile(r"\d"))
    card.evaluate(
        f"el => new Promise((resolve) => {{ const check = () => el.runhistoryChart.runs.length === {SEEDS} && el.runhistoryChart.snapshot()?.runs.length === {SEEDS} ? resolve() : setTimeout(check, 100); check(); }})"
    )
    box = card.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    expect(card.locator(".rh-tooltip")).to_be_visible()


def compare(page, frame):
    row(frame, "lr-sweep").locator(".rh-twisty").click()
    row(frame, "lr=0.001").click()
    for name in ("lr=0.003", "lr=0.01"):
        row(frame, name).click(modifiers=["Control"])
    frame.locator(".rh-tab", has_text="Compare").click()
    expect(frame.locator(".rh-compare-table")).to_be_visible()


def dark(page, frame):
    charts(page, frame)
    frame.locator(".rh-filter").fill("lr=")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="runhistory-shots-") as tmp:
        store, logdir = os.path.join(tmp, "store"), os.path.join(tmp, "logdir")
        live, stop = build(store, logdir)
        url, stop_tensorboard = start_tensorboard(logdir, "--runhistory_store", store)
        try:
            with chromium() as browser:
                shoot(browser, url, args.out, "light", "runhistory-charts.png", charts)
                shoot(browser, url, args.out, "light", "runhistory-spike.png", spike)
                shoot(browser, url, args.out, "light", "runhistory-parent.png", parent)
                shoot(browser, url, args.out, "light", "runhistory-200-runs.png", many)
                shoot(browser, url, args.out, "light", "runhistory-compare.png", compare)
                shoot(browser, url, args.out, "light", "runhistory-sweep.png", sweep)
                shoot(browser, url, args.out, "light", "runhistory-failed-run.png", failed)
                shoot(browser, url, args.out, "light", "runhistory-details.png", media)
                shoot(browser, url, args.out, "dark", "runhistory-dark.png", dark)
        finally:
            stop.set()
            live.complete()
            stop_tensorboard()


if __name__ == "__main__":
    main()
