"""The rest of the original Run/Experiment API, on every store (SQLite, PostgreSQL, HTTP), bad input first."""

from __future__ import annotations

import os
import threading
import urllib.parse

import pytest

from tb_runhistory_plugin import (
    ConflictError,
    Experiment,
    InvalidArgumentError,
    NotFoundError,
    Run,
    RunFailedError,
    RunHistoryError,
    RunTimeoutError,
)


@pytest.fixture
def exp(store):
    return Experiment("surface", store=store)


# --- name, tags, properties as attributes ----------------------------------------------------


def test_tags_and_properties_are_live_read_only_views(exp):
    run = exp.start_logging(display_name="viewed", tags={"team": "a"}, properties={"lr": 0.1})
    tags, props = run.tags, run.properties
    assert run.name == "viewed" == run.display_name
    assert dict(tags) == {"team": "a"} and props == {"lr": 0.1}
    run.tag("stage", "two")
    run.remove_tags("team")
    run.add_properties({"seed": 3})
    assert dict(tags) == {"stage": "two"} and "team" not in tags  # the same view shows later changes
    assert props["seed"] == 3 and len(props) == 2
    Run.get(run.id, exp.store).tag("from", "elsewhere")  # another handle's change shows too
    assert tags["from"] == "elsewhere"
    with pytest.raises(TypeError):
        tags["x"] = "y"  # read-only
    with pytest.raises(AttributeError):
        run.name = "renamed"
    with pytest.raises(KeyError):
        props["missing"]
    run.complete()


# --- child_run(name, run_id, outputs) and create_children ----------------------------------------


def test_child_run_with_a_chosen_id_and_outputs(exp, tmp_path):
    parent = exp.start_logging(display_name="parent")
    outputs = tmp_path / "outs"
    (outputs / "model").mkdir(parents=True)
    (outputs / "model" / "weights.bin").write_bytes(b"\x00\x01")
    with parent.child_run("kid", "my-kid.1", str(outputs)) as kid:
        assert kid.id == "my-kid.1" and kid.type == "child"
    assert Run.get("my-kid.1", exp.store).parent.id == parent.id
    assert kid.get_file_names() == ["outputs/model/weights.bin"]
    with pytest.raises(ConflictError, match="'my-kid.1'"):
        parent.child_run("again", run_id="my-kid.1")
    parent.complete()


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "-lead", "x" * 129, "spa ce", 7, "nul\x00"])
def test_child_run_refuses_a_bad_id_naming_it(exp, bad):
    parent = exp.start_logging()
    with pytest.raises(InvalidArgumentError, match="run id"):
        parent.child_run("kid", run_id=bad)
    assert parent.get_children() == []
    parent.complete()


def test_child_run_refuses_outputs_that_is_a_file(exp, tmp_path):
    parent = exp.start_logging()
    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        parent.child_run("kid", outputs=str(tmp_path / "f"))
    parent.complete()


def test_create_children_by_count_and_by_tag_values(exp):
    parent = exp.start_logging(display_name="sweep")
    kids = parent.create_children(count=3)
    assert [k.display_name for k in kids] == ["child_0", "child_1", "child_2"]
    assert all(k.status == "Running" and k.parent.id == parent.id for k in kids)
    tagged = parent.create_children(tag_key="alpha", tag_values=[0.1, 0.3])
    assert [k.get_tags() for k in tagged] == [{"alpha": "0.1"}, {"alpha": "0.3"}]
    assert len(parent.get_children()) == 5
    for kid in kids + tagged:
        kid.log("loss", 1.0)
        kid.complete()
    parent.complete()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "count must be"),
        ({"count": 0}, "count must be"),
        ({"count": 10_001}, "count must be"),
        ({"count": True}, "count must be"),
        ({"count": 2.0}, "count must be"),
        ({"tag_values": [1, 2]}, "needs a tag_key"),
        ({"tag_key": "k"}, "needs tag_values"),
        ({"tag_key": "k", "tag_values": "ab"}, "must be a list"),
        ({"count": 3, "tag_key": "k", "tag_values": [1, 2]}, "count=3"),
        ({"tag_key": "bad\nkey", "tag_values": [1]}, "tag name"),
    ],
)
def test_create_children_refuses_bad_arguments(exp, kwargs, message):
    parent = exp.start_logging()
    with pytest.raises(InvalidArgumentError, match=message):
        parent.create_children(**kwargs)
    assert parent.get_children() == []
    parent.complete()
    with pytest.raises(ConflictError):
        parent.create_children(count=1)


# --- fail(error_details, error_code) ---------------------------------------------------------------


def test_fail_keeps_details_and_code_in_every_form(exp):
    a = exp.start_logging()
    a.fail("disk full", "DiskFull")
    assert (a.info().error, a.info().error_code, a.status) == ("disk full", "DiskFull", "Failed")
    assert a.get_details()["errorCode"] == "DiskFull"
    b = exp.start_logging()
    try:
        raise ValueError("bad batch")
    except ValueError as exc:
        b.fail(exc, error_code="BadData")  # the old positional form, now with a code
    assert b.info().error == "ValueError: bad batch" and "Traceback" in b.info().traceback and b.info().error_code == "BadData"
    c = exp.start_logging()
    c.fail(error_details="plain")
    assert (c.info().error, c.info().error_code) == ("plain", None)


@pytest.mark.parametrize("code", ["", "   ", "line\nbreak", "x" * 256, 42])
def test_fail_refuses_a_bad_error_code_and_the_run_stays_open(exp, code):
    run = exp.start_logging()
    with pytest.raises(InvalidArgumentError, match="error code"):
        run.fail("boom", code)
    assert run.status == "Running"
    run.complete()


# --- get_runs(type, tags, properties, include_children) -------------------------------------------


def test_get_runs_filters_by_type_tags_and_properties(exp):
    a = exp.start_logging(display_name="a", tags={"team": "x"}, properties={"lr": 0.1, "opt": "adam"})
    b = exp.start_logging(display_name="b", tags={"team": "y"}, properties={"lr": 0.3}, run_type="sweep")
    kid = a.child_run("kid", properties={"lr": 0.1})

    def names(**kwargs):
        return [r.display_name for r in exp.get_runs(**kwargs)]

    assert names() == ["b", "a"]
    assert names(type="sweep") == ["b"] and names(type="interactive") == ["a"]
    assert names(type="child", include_children=True) == ["kid"]
    assert names(properties="opt") == ["a"]
    assert names(properties={"lr": 0.1}) == ["a"]
    assert names(properties={"lr": "0.3"}) == ["b"]  # the value's text matches, as properties were strings there
    assert names(properties={"lr": 0.1}, include_children=True) == ["kid", "a"]
    assert names(properties=["lr", "opt"], tags={"team": "x"}) == ["a"]
    assert names(properties={"lr": 1}) == [] and names(properties={"opt": None}) == ["a"]
    assert names(type="nope") == []
    assert [r.display_name for r in exp.get_runs(None, None, None, True)] == ["kid", "b", "a"]  # the original's argument order
    for run in (kid, a, b):
        run.complete()
    assert names(status="Completed", type="sweep") == ["b"]


@pytest.mark.parametrize(
    "kwargs",
    [{"type": ""}, {"type": 3}, {"type": "a\x00b"}, {"properties": {"": 1}}, {"properties": 5}, {"properties": ["ok", "bad\nname"]}, {"status": "Exploded"}],
)
def test_get_runs_refuses_bad_filters(exp, kwargs):
    with pytest.raises(InvalidArgumentError):
        exp.get_runs(**kwargs)


# --- wait_for_completion -------------------------------------------------------------------------


def test_wait_for_completion_sees_another_handle_end_the_run(exp, capsys):
    run = exp.start_logging(display_name="waited")
    run.log("loss", 0.5)
    run.flush()
    other = Run.get(run.id, exp.store)
    ended = threading.Event()

    def finish():
        ended.wait(30)
        other.complete()

    worker = threading.Thread(target=finish)
    worker.start()
    ended.set()
    details = run.wait_for_completion(show_output=True)
    worker.join()
    assert details["status"] == "Completed" and details["runId"] == run.id
    assert run.status == "Completed"
    out = capsys.readouterr().out
    assert "waited" in out and "loss" in out and "Completed" in out


def test_wait_for_completion_times_out_naming_the_run(exp):
    run = exp.start_logging(display_name="slow")
    with pytest.raises(RunTimeoutError, match=run.id) as caught:
        run.wait_for_completion(timeout=0.2)
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, RunHistoryError)
    assert run.status == "Running"
    run.complete()


def test_wait_for_completion_on_a_failed_run(exp):
    run = exp.start_logging()
    run.fail("kaput", "Kaput")
    with pytest.raises(RunFailedError, match="kaput.*Kaput"):
        run.wait_for_completion()
    assert run.wait_for_completion(raise_on_error=False)["error"] == "kaput"


@pytest.mark.parametrize("kwargs", [{"timeout": -1}, {"timeout": "5"}, {"timeout": float("nan")}, {"timeout": True}, {"show_output": "yes"}])
def test_wait_for_completion_refuses_bad_arguments(exp, kwargs):
    run = exp.start_logging()
    with pytest.raises(InvalidArgumentError):
        run.wait_for_completion(**kwargs)
    run.complete()


# --- upload_files / download_files -----------------------------------------------------------------


def test_upload_files_and_download_files_round_trip(exp, tmp_path):
    run = exp.start_logging()
    (tmp_path / "a.txt").write_bytes(b"A")
    (tmp_path / "b.bin").write_bytes(b"B" * 1000)
    run.upload_files(["outputs/a.txt", "outputs/deep/b.bin"], [str(tmp_path / "a.txt"), tmp_path / "b.bin"])
    run.upload_file("logs/x.log", str(tmp_path / "a.txt"))
    out = tmp_path / "down"
    written = run.download_files(prefix="outputs", output_directory=str(out))
    assert sorted(os.path.relpath(p, out) for p in written) == ["outputs/a.txt", "outputs/deep/b.bin"]
    assert (out / "outputs" / "deep" / "b.bin").read_bytes() == b"B" * 1000
    flat = run.download_files(prefix="outputs/", output_directory=str(tmp_path / "flat"), append_prefix=False)
    assert sorted(os.path.relpath(p, tmp_path / "flat") for p in flat) == ["a.txt", "deep/b.bin"]
    everything = run.download_files(output_directory=str(tmp_path / "all"))
    assert len(everything) == 3
    chosen = run.download_files(prefix="logs", output_paths=[str(tmp_path / "mine.log")])
    assert chosen == [str(tmp_path / "mine.log")] and (tmp_path / "mine.log").read_bytes() == b"A"
    run.complete()


@pytest.mark.parametrize(
    ("names", "paths", "message"),
    [
        (["a"], [], "1 names for 0 paths"),
        (["../etc/passwd"], ["f"], "relative path"),
        (["/abs"], ["f"], "relative path"),
        (["a", "a"], ["f", "f"], "given twice"),
        (["ok"], ["missing"], "not a file"),
        ("ab", ["f", "f"], "must be a list"),
    ],
)
def test_upload_files_checks_everything_before_uploading(exp, tmp_path, names, paths, message):
    (tmp_path / "f").write_bytes(b"x")
    run = exp.start_logging()
    with pytest.raises(InvalidArgumentError, match=message):
        run.upload_files(names, [str(tmp_path / p) for p in paths])
    assert run.get_file_names() == []
    run.complete()


def test_download_files_never_writes_through_a_symlink(exp, tmp_path):
    run = exp.start_logging()
    (tmp_path / "f").write_bytes(b"payload")
    run.upload_files(["outputs/evil.txt", "top.txt"], [str(tmp_path / "f"), str(tmp_path / "f")])
    target = tmp_path / "victim"
    target.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(target, out / "outputs")  # a folder on the way is a link elsewhere
    with pytest.raises(InvalidArgumentError, match="symbolic link"):
        run.download_files(prefix="outputs", output_directory=str(out))
    assert list(target.iterdir()) == []
    os.symlink(tmp_path / "victim" / "stolen", out / "top.txt")  # the file itself is a link
    with pytest.raises(InvalidArgumentError, match="symbolic link"):
        run.download_files(prefix="top", output_directory=str(out))
    assert not (target / "stolen").exists()
    for bad in ("../x", "/etc", "a/../../b", ""):
        with pytest.raises(InvalidArgumentError, match="prefix"):
            run.download_files(prefix=bad, output_directory=str(out))
    with pytest.raises(InvalidArgumentError, match="output_paths"):
        run.download_files(prefix="outputs", output_paths=[str(tmp_path / "1"), str(tmp_path / "2")])
    run.complete()


# --- get_portal_url ----------------------------------------------------------------------------------


def test_portal_url_opens_the_tab_on_the_run(exp, monkeypatch):
    monkeypatch.delenv("TB_RUNHISTORY_URL", raising=False)
    root = exp.start_logging()
    kid = root.child_run("kid")
    grandkid = kid.child_run("grandkid", run_id="g-1.x")
    url = grandkid.get_portal_url()
    base, _, fragment = url.partition("#")
    assert base == "http://localhost:6006/"
    tab, *items = fragment.split("&")
    state = dict(urllib.parse.unquote(item).split("=", 1) for item in items)
    assert tab == "runhistory"
    assert state == {
        "p.runhistory.exp": exp.id,
        "p.runhistory.focus": "g-1.x",
        "p.runhistory.sel": "g-1.x",
        "p.runhistory.open": f"{root.id},{kid.id}",
    }
    monkeypatch.setenv("TB_RUNHISTORY_URL", "http://tb.example:8080/prefix/")
    assert root.get_portal_url().startswith("http://tb.example:8080/prefix/#runhistory&")
    for run in (grandkid, kid, root):
        run.complete()


def test_run_get_of_a_missing_run_names_it(exp):
    with pytest.raises(NotFoundError, match="'nobody'"):
        Run.get("nobody", exp.store)


def test_portal_url_escapes_list_items_as_the_tab_does():
    """An imported run's id may hold ',' or '%': list items are escaped as hash-state.js encodeList does."""
    from tb_runhistory_plugin._portal import run_url

    url = run_url("http://h:1", "e 1", "r,1%", ["p&q"])
    assert url == "http://h:1/#runhistory&p.runhistory.exp=e%201&p.runhistory.focus=r%2C1%25&p.runhistory.open=p%26q&p.runhistory.sel=r%252C1%2525"
