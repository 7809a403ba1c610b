"""Export to TensorBoard event files, read back with TensorBoard's own loader and a running TensorBoard."""

from __future__ import annotations

import argparse
import io
import json
import os
import threading
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.summary import Writer
from tensorboard.util import tensor_util

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin._launcher import Tensorboard
from tb_runhistory_plugin.cli._transfer import add_parsers, run_export
from tb_runhistory_plugin.errors import InvalidArgumentError, NotFoundError
from tb_runhistory_plugin.export import ExportWarning, export_to_tensorboard
from tb_runhistory_plugin.export._layout import safe_name
from tb_runhistory_plugin.export._progress import Progress
from tb_runhistory_plugin.store import SQLiteStore

SPECIAL = [0.1, 1 / 3, float("nan"), float("inf"), float("-inf"), -0.0, 1e300, -1e-320, 65504.0, 123456789.123456789]
LONG = 1500  # points of the long series: more than TensorBoard's default reservoir keeps
SAMPLES = ["--samples_per_plugin", "scalars=100000,images=100,histograms=100,text=100"]


# -- helpers ------------------------------------------------------------------------------------


def event_files(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if "tfevents" in p.name)


def load(run_dir: Path) -> dict[str, list[tuple[int, float, object]]]:
    """tag -> [(step, wall, value)] through TensorBoard's own (data-migrating) event file loader."""
    series: dict[str, list[tuple[int, float, object]]] = {}
    for path in event_files(run_dir):
        for event in event_file_loader.EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                array = tensor_util.make_ndarray(value.tensor) if value.HasField("tensor") else None
                series.setdefault(value.tag, []).append((event.step, event.wall_time, array))
    return series


def scalars(run_dir: Path, tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = load(run_dir)[tag]
    return (
        np.array([p[0] for p in points], dtype=np.int64),
        np.array([p[1] for p in points]),
        np.array([float(p[2]) for p in points]),
    )


def get(url: str, path: str, body: object | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url.rstrip("/") + path, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_for(check, timeout: float = 60.0):
    """Poll `check` until it returns a truthy value (TensorBoard loads files in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (OSError, KeyError, ValueError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for TensorBoard")
        time.sleep(0.3)


def query(**params: str) -> str:
    return "?" + urllib.parse.urlencode(params)


def float32(values) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(np.float32).astype(np.float64)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit (NaN equals NaN, -0.0 differs from 0.0)."""
    return np.asarray(a, dtype=np.float64).tobytes() == np.asarray(b, dtype=np.float64).tobytes()


def sweep(exp: Experiment, name: str = "sweep", child_names=None) -> object:
    """The README demo: a parent with one child per alpha."""
    root = exp.start_logging(display_name=name, tags={"team": "vision"}, description="alpha | sweep *demo*")
    for i, alpha in enumerate((0.1, 0.3, 0.5)):
        with root.child_run(child_names[i] if child_names else f"alpha{alpha}") as run:
            run.add_properties({"alpha": alpha})  # the hyperparameter
            for step in range(100):
                run.log("train/loss", 1 / (step + 1) + alpha)
            run.log_row("by_alpha", alpha=alpha, mse=3.2 * alpha)
    root.complete()
    return root


# -- the shared export (one TensorBoard per module) ----------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    store = SQLiteStore(base / "store")
    exp = Experiment("export-tests", store=store)
    main = exp.start_logging(display_name="main", tags={"k": "v|w"}, properties={"lr": 0.1}, description="the *main* run")
    main.log_list("listed", [3, 1, 2])
    for i, value in enumerate(SPECIAL):
        main.log("special", value, step=10 * i)
    for step in range(LONG):
        main.log("train/loss", 1 / (step + 1), step=step)
    main.log_row("by_alpha", alpha=0.1, mse=3.2, note="first")
    main.log_row("by_alpha", alpha=0.2, mse=2.5, note=None)
    main.log_table("tab", {"x": [1, 2, 3], "name": ["a", "b", "c"]})
    main.log_image("img", array=np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3), step=2)
    main.log_histogram("weights", np.linspace(-1, 1, 101), step=7, bins=4)
    dupes = exp.start_logging(display_name="dupes")
    dupes.child_run("trial").complete()
    dupes.child_run("trial").complete()
    dupes.complete()
    evil = exp.start_logging(display_name="../../etc")
    evil.log("x", 1.0)
    evil.complete()
    main.complete()
    root = base / "tb"
    report = export_to_tensorboard(exp, root / "main")
    demo = Experiment("demo", store=store)
    sweep(demo)
    demo_report = export_to_tensorboard(demo, root / "demo")
    board = Tensorboard([], local_root=root, port=0, reload_interval=1, tensorboard_args=SAMPLES)
    board.start()
    yield {"store": store, "exp": exp, "main": main, "root": root, "report": report, "demo": demo_report, "url": board.url}
    board.stop()
    store.close()


def run_dir(world, name: str) -> Path:
    return world["root"] / "main" / name


def test_layout_nests_by_display_name_and_keeps_names_apart(world):
    main = world["root"] / "main"
    assert (main / "main").is_dir()
    assert sorted(p.name for p in (main / "dupes").iterdir() if not p.name.startswith(".") and p.is_dir()) == ["trial", "trial_2"]
    assert event_files(main / "dupes" / "trial") and event_files(main / "dupes" / "trial_2")
    evil = [p for p in main.iterdir() if "etc" in p.name]
    assert len(evil) == 1 and evil[0].parent == main and not evil[0].name.startswith(".")
    assert not (world["root"].parent / "etc").exists()
    assert set(world["report"].run_dirs.values()) >= {str(main / "main"), str(main / "dupes" / "trial"), str(main / "dupes" / "trial_2")}


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc", "___.._etc"),
        ("..", "__"),
        (".hidden", "_hidden"),
        ("a/b\\c", "a_b_c"),
        ("con", "con_"),
        ("trailing. ", "trailing"),
        ("", "run"),
        ("x" * 300, "x" * 100),
        ("é" * 80, "é" * 50),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_scalars_keep_steps_wall_times_and_float32_values(world):
    store, main = world["store"], world["main"]
    for name in ("special", "train/loss", "listed"):
        history = store.read_scalars(main.id, name)
        steps, walls, values = scalars(run_dir(world, "main"), name)
        assert steps.tolist() == history.steps.tolist()
        assert same(walls, history.wall_times)
        assert same(values, float32(history.values))
    assert scalars(run_dir(world, "main"), "listed")[0].tolist() == [0, 1, 2]


def test_tables_become_column_series_and_text(world):
    series = load(run_dir(world, "main"))
    assert [(s, float(v)) for s, _, v in series["by_alpha/mse"]] == [(0, 3.2000000476837158), (1, 2.5)]
    assert [s for s, _, _ in series["by_alpha/alpha"]] == [0, 1]
    assert [(s, v.item().decode()) for s, _, v in series["by_alpha/note"]] == [(0, "first")]
    assert [s for s, _, _ in series["tab/x"]] == [0, 1, 2]
    assert [v.item().decode() for _, _, v in series["tab/name"]] == ["a", "b", "c"]
    whole = series["by_alpha"][-1][2].item().decode()
    assert "| alpha | mse | note |" in whole and "first" in whole


def test_running_tensorboard_serves_every_point(world):
    url, store, main = world["url"], world["store"], world["main"]
    history = store.read_scalars(main.id, "train/loss")
    served = wait_for(lambda: (d := get(url, "/data/plugin/scalars/scalars" + query(run="main/main", tag="train/loss"))) and len(d) == LONG and d)
    assert [p[1] for p in served] == history.steps.tolist()
    assert same([p[0] for p in served], history.wall_times)
    assert same([p[2] for p in served], float32(history.values))
    special = get(url, "/data/plugin/scalars/scalars" + query(run="main/main", tag="special"))
    assert [p[1] for p in special] == [10 * i for i in range(len(SPECIAL))]
    runs = get(url, "/data/runs")
    assert {"main/main", "main/dupes/trial", "main/dupes/trial_2", "demo/sweep/alpha0.1"} <= set(runs)
    assert not any(".runhistory" in r for r in runs)


def test_running_tensorboard_hparams_compare_the_sweep(world):
    url = world["url"]
    experiment = wait_for(
        lambda: (
            get(url, "/data/plugin/hparams/experiment", {"experimentName": ""}).get("hparamInfos")
            and get(url, "/data/plugin/hparams/experiment", {"experimentName": ""})
        )
    )
    alpha = next(h for h in experiment["hparamInfos"] if h["name"] == "alpha")
    assert alpha["type"] == "DATA_TYPE_FLOAT64" and alpha["domainInterval"] == {"minValue": 0.1, "maxValue": 0.5}
    assert {m["name"]["tag"] for m in experiment["metricInfos"]} == {"train/loss", "by_alpha/alpha", "by_alpha/mse"}
    body = {
        "experimentName": "",
        "startIndex": 0,
        "sliceSize": 100,
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "colParams": [],
    }
    groups = get(url, "/data/plugin/hparams/session_groups", body)["sessionGroups"]
    by_alpha = {g["hparams"]["alpha"]: g for g in groups if "alpha" in g["hparams"]}
    assert sorted(by_alpha) == [0.1, 0.3, 0.5]
    mse = {a: next(m["value"] for m in g["metricValues"] if m["name"]["tag"] == "by_alpha/mse") for a, g in by_alpha.items()}
    assert mse[0.5] == pytest.approx(1.6)
    assert by_alpha[0.3]["sessions"][0]["status"] == "STATUS_SUCCESS"


def test_running_tensorboard_images_histograms_and_text(world):
    url = world["url"]
    images = wait_for(lambda: get(url, "/data/plugin/images/images" + query(run="main/main", tag="img", sample="0")))
    assert [i["step"] for i in images] == [2]
    histograms = get(url, "/data/plugin/histograms/histograms" + query(run="main/main", tag="weights"))
    assert histograms[0][1] == 7 and sum(b[2] for b in histograms[0][2]) == 101
    text = get(url, "/data/plugin/text/text" + query(run="main/main", tag="run_history/info"))
    assert "Completed" in text[-1]["text"] and "lr" in text[-1]["text"] and "v|w" in text[-1]["text"]


def test_reexport_writes_nothing_new(world):
    files = sorted(p for p in (world["root"] / "main").rglob("*") if p.is_file() and p.name != "lock")
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in files}
    report = export_to_tensorboard(world["exp"], world["root"] / "main")
    assert (report.scalars, report.records, report.skipped) == (0, 0, 0)
    assert {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in files} == before


# -- incremental export of live runs -------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    made = SQLiteStore(tmp_path / "store")
    yield made
    made.close()


def test_incremental_export_appends_only_new_points(store, tmp_path):
    run = Experiment("live", store=store).start_logging(display_name="live")
    for step in range(5):
        run.log("loss", float(step))
    run.flush()
    export_to_tensorboard(run, tmp_path / "tb")
    for step in range(5, 9):
        run.log("loss", float(step))
    run.log_row("t", a=1)
    run.flush()
    report = export_to_tensorboard(run, tmp_path / "tb")
    assert report.scalars == 4 + 1 and report.live_runs == 1
    steps, _, values = scalars(tmp_path / "tb" / "live", "loss")
    assert steps.tolist() == list(range(9)) and values.tolist() == [float(s) for s in range(9)]
    assert len(event_files(tmp_path / "tb" / "live")) == 1
    run.complete()
    info_steps = [s for s, _, _ in load(tmp_path / "tb" / "live")["run_history/info"]]
    assert info_steps == [0]
    assert export_to_tensorboard(run, tmp_path / "tb").live_runs == 0
    info = load(tmp_path / "tb" / "live")["run_history/info"]
    assert [s for s, _, _ in info] == [0, 1] and "Completed" in info[-1][2].item().decode()


def test_steps_that_go_back_are_kept_out_once_warned_and_counted(store, tmp_path):
    run = Experiment("back", store=store).start_logging(display_name="r")
    for step, value in [(5, 1.0), (3, 2.0), (9, 3.0), (9, 4.0)]:
        run.log("loss", value, step=step)
    run.flush()
    with pytest.warns(ExportWarning, match="2 points of 'loss'"):
        report = export_to_tensorboard(run, tmp_path / "tb")
    assert report.skipped == 2
    assert scalars(tmp_path / "tb" / "r", "loss")[0].tolist() == [5, 9]
    run.log("loss", 5.0, step=1)
    run.log("loss", 6.0, step=10)
    run.flush()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only the first time a tag goes back warns
        report = export_to_tensorboard(run, tmp_path / "tb")
    assert report.skipped == 1
    assert scalars(tmp_path / "tb" / "r", "loss")[0].tolist() == [5, 9, 10]
    manifest = json.loads((tmp_path / "tb" / "r" / ".runhistory" / "run.json").read_text())
    assert manifest["series"]["loss"]["skipped"] == 3 and manifest["series"]["loss"]["count"] == 6
    run.complete()


def test_export_that_died_half_way_is_finished_cleanly(store, tmp_path):
    run = Experiment("crash", store=store).start_logging(display_name="r")
    run.log_list("loss", [1.0, 2.0])
    run.flush()
    export_to_tensorboard(run, tmp_path / "tb")
    events = event_files(tmp_path / "tb" / "r")[0]
    sidecar = tmp_path / "tb" / "r" / ".runhistory" / "scalars" / "0.f64"
    with open(events, "ab") as handle:
        handle.write(b"\x07" * 37)  # half a record from an export that died
    with open(sidecar, "ab") as handle:
        handle.write(b"\x01" * 30)
    run.log("loss", 3.0)
    run.flush()
    export_to_tensorboard(run, tmp_path / "tb")
    assert scalars(tmp_path / "tb" / "r", "loss")[0].tolist() == [0, 1, 2]
    assert sidecar.stat().st_size == 3 * 24
    run.complete()


def test_deleted_event_file_is_written_again(store, tmp_path):
    run = Experiment("heal", store=store).start_logging(display_name="r")
    run.log_list("loss", [1.0, 2.0])
    run.complete()
    export_to_tensorboard(run, tmp_path / "tb")
    event_files(tmp_path / "tb" / "r")[0].unlink()
    assert export_to_tensorboard(run, tmp_path / "tb").scalars == 2
    assert scalars(tmp_path / "tb" / "r", "loss")[0].tolist() == [0, 1]


def test_concurrent_exports_never_duplicate(store, tmp_path):
    run = Experiment("race", store=store).start_logging(display_name="r")
    run.log_list("loss", list(range(1000)))
    run.complete()
    errors = []

    def export():
        try:
            export_to_tensorboard(run, tmp_path / "tb")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert scalars(tmp_path / "tb" / "r", "loss")[0].tolist() == list(range(1000))


def test_child_given_before_its_parent_is_still_nested(store, tmp_path):
    parent = Experiment("order", store=store).start_logging(display_name="p")
    child = parent.child_run("c")
    child.complete()
    parent.complete()
    export_to_tensorboard([child, parent], tmp_path / "tb", recursive=False)
    assert event_files(tmp_path / "tb" / "p" / "c")


def test_run_logs_folder_is_mirrored_and_followed(store, tmp_path):
    logs = tmp_path / "own-logs"
    run = Experiment("logs", store=store).start_logging(display_name="r", logs_dir=logs)
    writer = Writer(str(logs / "train"))
    writer.add_scalar("acc", 0.5, step=0)
    writer.flush()
    report = export_to_tensorboard(run, tmp_path / "tb")
    mirrored = tmp_path / "tb" / "r" / "logs" / "train"
    assert report.log_bytes > 0 and scalars(mirrored, "acc")[0].tolist() == [0]
    writer.add_scalar("acc", 0.75, step=1)
    writer.flush()
    before = report.log_bytes
    report = export_to_tensorboard(run, tmp_path / "tb")
    assert 0 < report.log_bytes < before  # only the new bytes moved
    assert scalars(mirrored, "acc")[2].tolist() == [0.5, 0.75]
    writer.close()
    run.complete()


def test_bad_inputs(store, tmp_path):
    run = Experiment("bad", store=store).start_logging(display_name="r")
    run.complete()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        export_to_tensorboard(run, a_file)
    with pytest.raises(InvalidArgumentError, match="a part of it is a file"):
        export_to_tensorboard(run, a_file / "below")  # unwritable, even for root
    with pytest.raises(NotFoundError, match="nope"):
        export_to_tensorboard("nope", tmp_path / "tb", store=store)
    with pytest.raises(InvalidArgumentError, match="run_data"):
        export_to_tensorboard(42, tmp_path / "tb")
    with pytest.raises(InvalidArgumentError, match="cannot export"):
        export_to_tensorboard([run, 3.5], tmp_path / "tb")


@pytest.mark.may_skip("as root, permissions do not stop writes")
def test_read_only_logdir_is_reported(store, tmp_path):
    run = Experiment("ro", store=store).start_logging(display_name="r")
    run.complete()
    if os.path.isdir("/sys"):
        with pytest.raises(InvalidArgumentError, match="not writable"):
            export_to_tensorboard(run, "/sys/tb-runhistory-export")  # sysfs refuses new entries, even to root
    logdir = tmp_path / "ro"
    logdir.mkdir()
    logdir.chmod(0o500)
    try:
        if os.access(logdir, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes (sysfs and the path below a file cover it)")
        with pytest.raises(InvalidArgumentError, match="not writable"):
            export_to_tensorboard(run, logdir)
    finally:
        logdir.chmod(0o700)


def test_progress_bar_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    bar = Progress(10**6, label="export", stream=quiet)
    bar.update(10**6)
    bar.close()
    assert quiet.getvalue() == ""
    loud = Tty()
    bar = Progress(10**6, label="export", stream=loud)
    bar.update(5 * 10**5)
    bar.close()
    assert "export [" in loud.getvalue() and " 50.0% 500,000/1,000,000 points" in loud.getvalue() and loud.getvalue().endswith("\n")


def test_cli_export(store, tmp_path, capsys):
    exp = Experiment("cli", store=store)
    sweep(exp)
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", str(tmp_path / "tb"), "--experiment", "cli"])
    assert run_export(store, args) == 0
    assert "exported 4 runs" in capsys.readouterr().out
    assert event_files(tmp_path / "tb" / "sweep" / "alpha0.3")
    with pytest.raises(InvalidArgumentError, match="--experiment"):
        run_export(store, parser.parse_args(["export", str(tmp_path / "tb")]))
