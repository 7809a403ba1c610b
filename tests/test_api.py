"""The public logging API of issue 2, end to end against a real SQLite store in tmp_path."""

from __future__ import annotations

import io
import json
import math
import os
import struct
import time
import zlib
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

from tb_runhistory_plugin import (
    ConflictError,
    Experiment,
    NotFoundError,
    Run,
    Status,
    cli,
    open_store,
)


def _png(width: int = 3, height: int = 2) -> bytes:
    """A real greyscale PNG, built here without the library's encoder."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x * 40 + y) % 256 for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def exp(tmp_path):
    """An experiment in a store of its own under tmp_path."""
    return Experiment("api", store=str(tmp_path / "store"))


# --- the issue's snippet -------------------------------------------------------------------


def test_issue_snippet_works_verbatim(tmp_path):
    (tmp_path / "plot.png").write_bytes(_png(3, 2))  # the cwd is tmp_path
    values = np.random.default_rng(3).normal(size=1000)
    # --- verbatim from issue 2 ---
    from tb_runhistory_plugin import Experiment, Run, open_store  # noqa: F401

    exp = Experiment("export-to-tensorboard")  # get-or-create by name
    root = exp.start_logging(display_name=None, tags=None, description=None)  # a Running run
    with root.child_run("alpha0.1") as run:  # started now; completed on exit, failed on exception
        run.log("mse", 3.2)  # step = next index for that name unless step= given
        run.log("loss", 0.5, step=100)  # wall time recorded for every value
        run.log_list("losses", [0.9, 0.5, 0.3])
        run.log_row("by_alpha", alpha=0.1, mse=3.2)
        run.log_table("coef", {"feature": ["age", "bmi"], "weight": [0.1, 0.7]})
        run.log_image("residuals", path="plot.png")  # or array=HxW / HxWx3 / HxWx4 uint8 or float
        run.log_histogram("weights", values, step=3)
        run.tag("team", "vision")
        run.add_properties({"git_sha": "abc"})
    root.complete()  # also fail(error=...), cancel()
    # --- end of the snippet ---

    assert (tmp_path / "runhistory" / "runhistory.db").is_file()  # the default store
    assert root.status == Status.COMPLETED and run.status == Status.COMPLETED
    assert run.display_name == "alpha0.1" and run.experiment.name == "export-to-tensorboard"
    assert root.display_name and root.id != run.id
    assert run.parent.id == root.id and [c.id for c in root.get_children()] == [run.id]
    assert run.get_tags() == {"team": "vision"}
    assert run.get_properties() == {"git_sha": "abc"}

    metrics = run.get_metrics()
    assert set(metrics) == {"mse", "loss", "losses", "by_alpha", "coef", "residuals", "weights"}
    assert metrics["mse"] == 3.2 and metrics["loss"] == 0.5
    assert metrics["losses"] == [0.9, 0.5, 0.3]
    assert metrics["by_alpha"] == {"alpha": [0.1], "mse": [3.2]}
    assert metrics["coef"] == {"feature": ["age", "bmi"], "weight": [0.1, 0.7]}
    (image,) = metrics["residuals"]
    assert (image["step"], image["content_type"], image["width"], image["height"]) == (0, "image/png", 3, 2)
    (hist,) = metrics["weights"]
    assert hist["step"] == 3
    assert sum(hist["counts"]) == hist["count"] == 1000
    assert hist["min"] == values.min() and hist["max"] == values.max()
    assert run.get_metric_history("loss").steps.tolist() == [100]
    assert run.get_metric_history("losses").steps.tolist() == [0, 1, 2]
    (record,) = exp.store.read_records(run.id, "residuals")
    assert bytes(record.data) == (tmp_path / "plot.png").read_bytes()
    assert root.get_metrics(recursive=True) == {root.id: {}, run.id: metrics}
    assert run.get_metrics(name="coef") == {"coef": metrics["coef"]}


@pytest.mark.parametrize(
    "array, size",
    [
        (np.zeros((4, 5), np.uint8), (5, 4)),
        (np.full((2, 3, 3), 0.5), (3, 2)),
        (np.ones((6, 1, 4), np.float32), (1, 6)),
        (np.arange(12, dtype=np.uint8).reshape(2, 2, 3), (2, 2)),
    ],
)
def test_log_image_from_arrays(exp, array, size):
    run = exp.start_logging()
    run.log_image("img", array=array, step=7)
    run.log_image("img", array=array)
    (first, second) = run.get_metrics()["img"]
    assert (first["width"], first["height"]) == size
    assert (first["step"], second["step"]) == (7, 8)
    data = exp.store.read_records(run.id, "img")[0].data
    assert bytes(data).startswith(b"\x89PNG\r\n\x1a\n")


# --- reading metrics -----------------------------------------------------------------------


def test_get_metrics_single_value_or_list(exp):
    run = exp.start_logging()
    run.log("one", 1.5)
    run.log("two", 1.0)
    run.log("two", 2.0)
    run.log_list("listed", [3.0])
    assert run.get_metrics() == {"one": 1.5, "two": [1.0, 2.0], "listed": 3.0}
    assert run.get_metrics("two") == {"two": [1.0, 2.0]}
    assert run.get_metrics("absent") == {}


def test_tables_merge_rows_and_tables_with_none_for_missing_cells(exp):
    run = exp.start_logging()
    run.log_row("t", a=1, b="x")
    run.log_row("t", b="y", c=True)
    run.log_table("t", {"a": [2, 3], "d": [None, 0.5]})
    run.log_row("t", a=4)
    assert run.get_metrics()["t"] == {
        "a": [1, None, 2, 3, 4],
        "b": ["x", "y", None, None, None],
        "c": [None, True, None, None, None],
        "d": [None, None, None, 0.5, None],
    }


def test_get_metrics_recursive_is_keyed_by_run_id(exp):
    root = exp.start_logging("root")
    child = root.child_run("child")
    grandchild = child.child_run("grandchild")
    root.log("r", 1.0)
    child.log_row("tbl", x=1)
    grandchild.log("g", 2)
    grandchild.log("g", 3)
    assert root.get_metrics(recursive=True) == {root.id: {"r": 1.0}, child.id: {"tbl": {"x": [1]}}, grandchild.id: {"g": [2, 3]}}
    assert child.get_metrics(recursive=True) == {child.id: {"tbl": {"x": [1]}}, grandchild.id: {"g": [2, 3]}}
    assert root.get_metrics("g", recursive=True) == {root.id: {}, child.id: {}, grandchild.id: {"g": [2, 3]}}


def test_get_metric_history_arrays(exp):
    run = exp.start_logging()
    before = time.time()
    for i in range(5):
        run.log("m", i * 0.5)
    run.log("m", 9.0, step=100)
    run.log("m", 10.0)
    run.log("ints", 3)
    after = time.time()
    history = run.get_metric_history("m")
    assert len(history) == 7
    assert history.steps.dtype == np.int64 and history.wall_times.dtype == np.float64 and history.values.dtype == np.float64
    assert history.steps.tolist() == [0, 1, 2, 3, 4, 100, 101]
    assert history.values.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 9.0, 10.0]
    assert np.all(np.diff(history.wall_times) >= 0)
    assert before <= history.wall_times[0] and history.wall_times[-1] <= after
    assert run.get_metric_history("ints").values.tolist() == [3.0]
    with pytest.raises(NotFoundError, match="nothing"):
        run.get_metric_history("nothing")


def test_auto_steps_continue_after_an_explicit_step_across_flushes(exp):
    run = exp.start_logging()
    run.log("a", 1.0)
    run.flush()
    run.log("a", 2.0, step=10)
    run.flush()
    run.log("a", 3.0)
    run.log_list("a", [4.0, 5.0])
    run.log("a", 6.0, step=np.int64(40))
    run.log("a", 7.0)
    assert run.get_metric_history("a").steps.tolist() == [0, 10, 11, 12, 13, 40, 41]


def test_values_keep_their_types(exp):
    run = exp.start_logging()
    run.log("i", 3)
    run.log("i", 4)
    run.log("b", True)
    run.log("f", 0.5)
    run.log("np_i", np.int64(7))
    run.log("np_f", np.float32(0.25))
    run.log("np_b", np.bool_(False))
    run.log("zero_d", np.array(2.5))
    run.log_list("li", [1, 2, 3])
    run.log("mixed", 1)
    run.log("mixed", 2.5)
    run.log("widened", True)
    run.log("widened", 2)
    run.log("special", math.nan)
    run.log("special", math.inf)
    run.log("special", -math.inf)
    metrics = run.get_metrics()
    assert metrics["i"] == [3, 4] and all(type(v) is int for v in metrics["i"])
    assert metrics["b"] is True
    assert metrics["f"] == 0.5 and type(metrics["f"]) is float
    assert metrics["np_i"] == 7 and type(metrics["np_i"]) is int
    assert metrics["np_f"] == 0.25 and type(metrics["np_f"]) is float
    assert metrics["np_b"] is False
    assert metrics["zero_d"] == 2.5
    assert metrics["li"] == [1, 2, 3] and all(type(v) is int for v in metrics["li"])
    assert metrics["mixed"] == [1.0, 2.5] and all(type(v) is float for v in metrics["mixed"])
    assert metrics["widened"] == [1, 2] and all(type(v) is int for v in metrics["widened"])
    nan, pos, neg = metrics["special"]
    assert math.isnan(nan) and pos == math.inf and neg == -math.inf


def test_names_with_slash_namespaces(exp, tmp_path):
    run = exp.start_logging()
    run.log("train/loss", 0.5)
    run.log("eval/deep/acc", 0.9)
    run.log_row("eval/table", a=1)
    source = tmp_path / "f.txt"
    source.write_text("content")
    run.upload_file("outputs/nested/f.txt", source)
    assert run.get_metrics() == {"train/loss": 0.5, "eval/deep/acc": 0.9, "eval/table": {"a": [1]}}
    assert run.get_metric_history("train/loss").values.tolist() == [0.5]
    assert run.get_file_names() == ["outputs/nested/f.txt"]


# --- runs, children and statuses -----------------------------------------------------------


def test_children_to_depth_three(exp):
    root = exp.start_logging("root")
    c1 = root.child_run("c1")
    c2 = c1.child_run("c2")
    c3 = c2.child_run("c3")
    sibling = root.child_run("c1")  # display names need not be unique
    assert len({root.id, c1.id, c2.id, c3.id, sibling.id}) == 5
    assert [r.id for r in root.get_children()] == [c1.id, sibling.id]
    assert [r.id for r in root.get_children(recursive=True)] == [c1.id, c2.id, c3.id, sibling.id]
    assert [r.id for r in c2.get_children(recursive=True)] == [c3.id]
    assert c3.get_children() == [] and c3.get_children(recursive=True) == []
    assert c3.parent.id == c2.id and c3.parent.parent.parent.id == root.id
    assert root.parent is None
    assert c3.status == Status.RUNNING
    assert c3.experiment.id == exp.id
    details = c3.get_details()
    assert details["runId"] == c3.id and details["parentRunId"] == c2.id and details["status"] == "Running"
    assert details["displayName"] == "c3" and details["experimentId"] == exp.id


def test_with_child_run_completes_on_success(exp):
    root = exp.start_logging()
    with root.child_run("ok") as child:
        child.log("x", 1.0)
    assert child.status == Status.COMPLETED
    assert child.get_metrics() == {"x": 1.0}
    info = child.info()
    assert info.end_time is not None and info.end_time >= info.start_time and info.error is None
    assert root.status == Status.RUNNING


def _explode():
    raise ValueError("boom 42")


def test_with_child_run_fails_on_exception_and_reraises(exp):
    root = exp.start_logging()
    with pytest.raises(ValueError, match="boom 42"), root.child_run("bad") as child:
        child.log("before", 1.0)
        _explode()
    info = child.info()
    assert info.status == Status.FAILED
    assert "ValueError" in info.error and "boom 42" in info.error
    assert "Traceback" in info.traceback and "_explode" in info.traceback and "boom 42" in info.traceback
    assert child.get_metrics() == {"before": 1.0}
    details = child.get_details()
    assert details["error"] == info.error and details["traceback"] == info.traceback


def test_keyboard_interrupt_in_with_block_cancels(exp):
    root = exp.start_logging()
    with pytest.raises(KeyboardInterrupt), root.child_run("interrupted") as child:
        child.log("x", 1.0)
        raise KeyboardInterrupt
    assert child.status == Status.CANCELED
    assert child.get_metrics() == {"x": 1.0}


def test_ending_inside_a_with_block_is_kept(exp):
    root = exp.start_logging()
    with root.child_run("c") as child:
        child.cancel()
    assert child.status == Status.CANCELED


def test_fail_with_an_exception_cancel_and_complete(exp):
    try:
        _explode()
    except ValueError as exc:
        caught = exc
    failed = exp.start_logging("failed")
    failed.fail(error=caught)
    info = failed.info()
    assert info.status == Status.FAILED and "boom 42" in info.error and "_explode" in info.traceback

    texted = exp.start_logging("texted")
    texted.fail("out of memory")
    assert texted.info().error == "out of memory" and texted.status == Status.FAILED

    canceled = exp.start_logging("canceled")
    canceled.cancel()
    assert canceled.status == Status.CANCELED and canceled.get_status() == "Canceled"

    done = exp.start_logging("done")
    done.log("x", 1.0)
    done.complete()
    assert done.status == Status.COMPLETED and done.get_metrics() == {"x": 1.0}


def test_a_run_without_heartbeats_reads_not_responding(exp):
    quiet = exp.start_logging("quiet")
    lively = exp.start_logging("lively")
    exp.store.heartbeat([quiet.id], time=time.time() - 3600)
    assert quiet.status == Status.NOT_RESPONDING and lively.status == Status.RUNNING
    assert [r.id for r in exp.get_runs(status="NotResponding")] == [quiet.id]
    assert [r.id for r in exp.get_runs(status="Running")] == [lively.id]
    quiet.complete()  # its process came back after all
    assert quiet.status == Status.COMPLETED


def test_exp_get_runs_filters_newest_first(exp):
    r1 = exp.start_logging("r1", tags={"team": "vision", "size": "big"})
    r2 = exp.start_logging("r2", tags={"team": "speech"})
    r3 = exp.start_logging("r3", tags={"size": "small"})
    kid = r3.child_run("kid", tags={"team": "vision"})
    r1.complete()
    r2.fail("broken")

    def ids(**kwargs):
        return [r.display_name for r in exp.get_runs(**kwargs)]

    assert ids() == ["r3", "r2", "r1"]
    assert ids(include_children=True) == ["kid", "r3", "r2", "r1"]
    assert ids(tags="team") == ["r2", "r1"]
    assert ids(tags=["team", "size"]) == ["r1"]
    assert ids(tags={"team": "vision"}) == ["r1"]
    assert ids(tags={"team": "vision"}, include_children=True) == ["kid", "r1"]
    assert ids(tags={"team": None}) == ["r2", "r1"]
    assert ids(status="Completed") == ["r1"]
    assert ids(status=["Running", "Failed"]) == ["r3", "r2"]
    assert ids(status=Status.RUNNING, include_children=True) == ["kid", "r3"]
    assert ids(tags="team", status="Failed") == ["r2"]
    assert ids(tags="nobody") == []
    assert all(isinstance(r, Run) for r in exp.get_runs())
    assert exp.get_runs()[0].id == r3.id and kid.parent.id == r3.id


def test_run_get_by_id(exp, tmp_path):
    run = exp.start_logging("findme", tags={"k": "v"}, description="described")
    run.log("x", 2.0)
    run.flush()
    found = Run.get(run.id, store=str(tmp_path / "store"))
    assert found.id == run.id and found.display_name == "findme"
    assert found.get_tags() == {"k": "v"} and found.get_details()["description"] == "described"
    assert found.get_metrics() == {"x": 2.0}
    assert found.experiment.name == "api"
    assert Run.get(run.id, store=exp.store).id == run.id
    with pytest.raises(NotFoundError, match="f" * 32):
        Run.get("f" * 32, store=exp.store)


def test_tags_and_properties(exp):
    run = exp.start_logging(tags={"a": "1"}, properties={"seed": 7})
    run.tag("team", "vision")
    run.tag("epochs", 3)
    run.tag("flagged")
    run.set_tags({"a": "changed", "b": True})
    run.remove_tags(["b", "never"])
    run.remove_tags("flagged")
    assert run.get_tags() == {"a": "changed", "team": "vision", "epochs": "3"}
    run.add_properties({"lr": 0.1, "name": "x", "flag": False, "none": None})
    run.add_properties({"seed": 7})
    props = run.get_properties()
    assert props == {"seed": 7, "lr": 0.1, "name": "x", "flag": False, "none": None}
    assert type(props["seed"]) is int and props["flag"] is False


# --- store selection -----------------------------------------------------------------------


def test_store_from_path_argument(tmp_path):
    exp = Experiment("e", store=str(tmp_path / "custom"))
    exp.start_logging()
    assert (tmp_path / "custom" / "runhistory.db").is_file()
    assert not (tmp_path / "runhistory").exists()
    same = Experiment("e", store=tmp_path / "custom")  # a pathlib path works too
    assert same.id == exp.id and len(same.get_runs()) == 1


def test_store_from_an_opened_store(tmp_path):
    opened = open_store(str(tmp_path / "opened"))
    exp = Experiment("e", store=opened)
    assert exp.store is opened
    run = exp.start_logging()
    run.log("x", 1.0)
    run.complete()
    assert opened.read_scalars(run.id, "x").values.tolist() == [1.0]
    assert not (tmp_path / "runhistory").exists()


def test_store_from_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNHISTORY_STORE", str(tmp_path / "from-env"))
    exp = Experiment("e")
    exp.start_logging("env-run")
    assert (tmp_path / "from-env" / "runhistory.db").is_file()
    assert not (tmp_path / "runhistory").exists()
    # An explicit argument wins over the variable.
    Experiment("e", store=str(tmp_path / "explicit"))
    assert (tmp_path / "explicit" / "runhistory.db").is_file()


def test_default_store_is_runhistory_in_the_cwd(tmp_path):
    assert os.getcwd() == str(tmp_path)
    exp = Experiment("e")
    run = exp.start_logging()
    assert (tmp_path / "runhistory" / "runhistory.db").is_file()
    assert Run.get(run.id).id == run.id
    assert open_store().get_run(run.id).id == run.id


def test_store_uri_with_sqlite_scheme(tmp_path):
    exp = Experiment("e", store="sqlite:///" + str(tmp_path / "viauri").lstrip("/"))
    exp.start_logging()
    assert (tmp_path / "viauri" / "runhistory.db").is_file()


def test_a_store_opened_twice_shares_data(tmp_path):
    path = str(tmp_path / "shared")
    first, second = Experiment("e", store=path), Experiment("e", store=path)
    assert first.id == second.id
    run = first.start_logging("from-first")
    run.log("x", 1.0)
    run.flush()
    assert [r.id for r in second.get_runs()] == [run.id]
    # Two separately opened store objects on one path see each other's data too.
    a, b = Experiment("e", store=open_store(path)), Experiment("e", store=open_store(path))
    assert a.store is not b.store
    run_b = b.start_logging("from-b")
    run_b.log("y", 2.0)
    run_b.complete()
    seen = {r.display_name for r in a.get_runs()}
    assert seen == {"from-first", "from-b"}
    assert Run.get(run_b.id, store=a.store).get_metrics() == {"y": 2.0}
    assert Run.get(run.id, store=b.store).get_metrics() == {"x": 1.0}


# --- files ---------------------------------------------------------------------------------


def test_files_upload_download_folder(exp, tmp_path):
    run = exp.start_logging()
    source = tmp_path / "model.bin"
    payload = bytes(range(256)) * 10
    source.write_bytes(payload)
    run.upload_file("outputs/model.bin", str(source))
    folder = tmp_path / "logs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("A")
    (folder / "sub" / "b.txt").write_text("B")
    names = run.upload_folder("logs", folder)
    assert sorted(names) == ["logs/a.txt", "logs/sub/b.txt"]
    assert run.get_file_names() == ["logs/a.txt", "logs/sub/b.txt", "outputs/model.bin"]

    out = tmp_path / "out"
    out.mkdir()
    written = run.download_file("outputs/model.bin", str(out))
    assert written == str(out / "model.bin")
    assert (out / "model.bin").read_bytes() == payload
    explicit = run.download_file("logs/sub/b.txt", str(tmp_path / "renamed.txt"))
    assert (tmp_path / "renamed.txt").read_text() == "B" and explicit == str(tmp_path / "renamed.txt")
    source.write_bytes(b"new version")
    run.upload_file("outputs/model.bin", source)
    run.download_file("outputs/model.bin", out)
    assert (out / "model.bin").read_bytes() == b"new version"
    with pytest.raises(NotFoundError, match="missing.txt"):
        run.download_file("missing.txt", str(out))
    assert run.download_file("logs/a.txt") == "a.txt"  # no target: the base name in the cwd
    assert (tmp_path / "a.txt").read_text() == "A"


# --- command line --------------------------------------------------------------------------


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def tree_store(tmp_path):
    """A store with one experiment: a completed root with a child and a grandchild, and a failed root."""
    path = str(tmp_path / "clistore")
    exp = Experiment("cli-exp", store=path)
    root = exp.start_logging("root-run", tags={"team": "vision"})
    child = root.child_run("child-run")
    grandchild = child.child_run("grandchild-run")
    grandchild.complete()
    child.complete()
    root.complete()
    other = exp.start_logging("other-root")
    other.fail("nope")
    return path, exp, root, child, grandchild, other


def test_cli_ls_prints_a_tree_with_status(tree_store):
    path, exp, root, *_ = tree_store
    code, out, _ = _cli("ls", "--store", path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("cli-exp") and exp.id in lines[0]
    by_name = {name: next(line for line in lines if name in line) for name in ("root-run", "child-run", "grandchild-run", "other-root")}
    assert by_name["root-run"].startswith("├─ root-run") and "Completed" in by_name["root-run"] and "team=vision" in by_name["root-run"]
    assert by_name["child-run"].startswith("│  └─ child-run") and "Completed" in by_name["child-run"]
    assert by_name["grandchild-run"].startswith("│     └─ grandchild-run")
    assert by_name["other-root"].startswith("└─ other-root") and "Failed" in by_name["other-root"]
    assert lines.index(by_name["root-run"]) < lines.index(by_name["child-run"]) < lines.index(by_name["grandchild-run"])
    assert root.id[:8] in by_name["root-run"]
    # An experiment by name, and a depth limit.
    code, shallow, _ = _cli("ls", "cli-exp", "--store", path, "--depth", "0")
    assert code == 0 and "child-run" not in shallow and "1 child runs" in shallow


def test_cli_ls_json(tree_store):
    path, exp, root, child, grandchild, _ = tree_store
    code, out, _ = _cli("ls", "--store", path, "--json")
    assert code == 0
    (listed,) = json.loads(out)
    assert (listed["name"], listed["id"]) == ("cli-exp", exp.id)
    assert [r["display_name"] for r in listed["runs"]] == ["root-run", "other-root"]
    top = listed["runs"][0]
    assert (top["id"], top["status"], top["tags"], top["child_count"]) == (root.id, "Completed", {"team": "vision"}, 1)
    (kid,) = top["children"]
    assert kid["id"] == child.id and kid["children"][0]["id"] == grandchild.id
    assert listed["runs"][1]["status"] == "Failed" and "children" not in listed["runs"][1]


def test_cli_ls_uses_the_environment_variable(tree_store, monkeypatch):
    monkeypatch.setenv("RUNHISTORY_STORE", tree_store[0])
    code, out, _ = _cli("ls")
    assert code == 0 and "cli-exp" in out and "grandchild-run" in out


def test_cli_ls_missing_store_is_an_error_and_creates_nothing(tmp_path):
    missing = tmp_path / "no-store-here"
    code, out, err = _cli("ls", "--store", str(missing))
    assert code == cli.EXIT_ERROR == 1
    assert str(missing) in err and out == ""
    assert not missing.exists()


def test_cli_ls_unknown_experiment_is_an_error(tree_store):
    code, out, err = _cli("ls", "no-such-experiment", "--store", tree_store[0])
    assert code == 1 and "no-such-experiment" in err and out == ""


def test_cli_ls_escapes_control_characters_in_run_names(tree_store):
    path, exp = tree_store[0], tree_store[1]
    # The logging API refuses such names, so write one through the store as another client could.
    exp.store.create_run(exp.id, run_id="e" * 32, display_name="evil\x1b[2Jname\nsecond\u202eline", start_time=time.time())
    code, out, _ = _cli("ls", "--store", path)
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    (line,) = [line for line in out.splitlines() if "evil" in line]
    assert "evil\\x1b[2Jname\\nsecond\\u202eline" in line
    code, out, _ = _cli("ls", "--store", path, "--json")
    assert "evil\x1b[2Jname\nsecond\u202eline" in [r["display_name"] for r in json.loads(out)[0]["runs"]]


def test_cli_ls_escapes_control_characters_in_tags(tmp_path):
    path = str(tmp_path / "tagstore")
    run = Experiment("e", store=path).start_logging("tagged", tags={"note": "\x1b[2Jcleared\nfake line"})
    run.complete()
    code, out, _ = _cli("ls", "--store", path)
    assert code == 0
    assert "\x1b" not in out
    assert len([line for line in out.splitlines() if line.strip()]) == 2  # the experiment and one run
    assert "note=\\x1b[2Jcleared\\nfake line" in out


def test_a_completed_run_cannot_end_again(exp):
    run = exp.start_logging()
    run.complete()
    with pytest.raises(ConflictError, match=run.id):
        run.complete()
    with pytest.raises(ConflictError):
        run.fail("late")
    assert run.status == Status.COMPLETED
