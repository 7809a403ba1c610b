"""Every bad input of issue 2 raises a typed error whose message names the offending value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tb_runhistory_plugin import (
    ConflictError,
    Experiment,
    InvalidArgumentError,
    NotFoundError,
    Run,
    RunHistoryError,
    Status,
    open_store,
)

LONG = "n" * 256
BAD_NAMES = [
    pytest.param("", "empty", id="empty"),
    pytest.param("   ", "empty", id="blank"),
    pytest.param(LONG, "256", id="too-long"),
    pytest.param("nul\x00here", "control", id="nul"),
    pytest.param("tab\there", "control", id="tab"),
    pytest.param("new\nline", "control", id="newline"),
    pytest.param("esc\x1b[31m", "control", id="escape"),
    pytest.param("del\x7f", "control", id="del"),
]


def _assert_names(error: BaseException, bad: str, what: str, reason: str) -> None:
    """The message says what was wrong and shows the value (long values by their start)."""
    message = str(error)
    assert what in message, message
    assert reason in message, message
    if bad is LONG:
        assert "255" in message and "n" * 40 in message, message
    else:
        assert repr(bad) in message, message


@pytest.fixture
def exp(tmp_path):
    return Experiment("validation", store=str(tmp_path / "store"))


@pytest.fixture
def run(exp):
    return exp.start_logging("subject")


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, reason", BAD_NAMES)
def test_bad_experiment_names(tmp_path, bad, reason):
    with pytest.raises(InvalidArgumentError) as caught:
        Experiment(bad, store=str(tmp_path / "store"))
    _assert_names(caught.value, bad, "experiment name", reason)


@pytest.mark.parametrize("bad", ["has space", "-leading-dash", "a/b", "ünïcode", "semi;colon"])
def test_experiment_names_outside_the_allowed_characters(tmp_path, bad):
    with pytest.raises(InvalidArgumentError, match="experiment name") as caught:
        Experiment(bad, store=str(tmp_path / "store"))
    assert repr(bad) in str(caught.value)


@pytest.mark.parametrize("bad, reason", BAD_NAMES)
def test_bad_run_display_names(exp, bad, reason):
    with pytest.raises(InvalidArgumentError) as caught:
        exp.start_logging(display_name=bad)
    _assert_names(caught.value, bad, "display name", reason)
    root = exp.start_logging("root")
    with pytest.raises(InvalidArgumentError) as caught:
        root.child_run(bad)
    _assert_names(caught.value, bad, "display name", reason)
    # Nothing was created by the refused calls.
    assert [r.display_name for r in exp.get_runs(include_children=True)] == ["root"]


@pytest.mark.parametrize("bad, reason", BAD_NAMES)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda run, name: run.log(name, 1.0), id="log"),
        pytest.param(lambda run, name: run.log_list(name, [1.0]), id="log_list"),
        pytest.param(lambda run, name: run.log_row(name, a=1), id="log_row"),
        pytest.param(lambda run, name: run.log_table(name, {"a": [1]}), id="log_table"),
        pytest.param(lambda run, name: run.log_image(name, array=np.zeros((2, 2), np.uint8)), id="log_image"),
        pytest.param(lambda run, name: run.log_histogram(name, [1.0, 2.0]), id="log_histogram"),
    ],
)
def test_bad_metric_names(run, call, bad, reason):
    with pytest.raises(InvalidArgumentError) as caught:
        call(run, bad)
    _assert_names(caught.value, bad, "metric name", reason)
    assert run.get_metrics() == {}


@pytest.mark.parametrize("bad, reason", BAD_NAMES)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda exp, run, name: run.tag(name, "v"), id="tag"),
        pytest.param(lambda exp, run, name: run.set_tags({"fine": "1", name: "v"}), id="set_tags"),
        pytest.param(lambda exp, run, name: run.remove_tags([name]), id="remove_tags"),
        pytest.param(lambda exp, run, name: exp.start_logging("t", tags={name: "v"}), id="start_logging"),
        pytest.param(lambda exp, run, name: run.child_run("c", tags={name: "v"}), id="child_run"),
        pytest.param(lambda exp, run, name: exp.get_runs(tags=[name]), id="get_runs"),
    ],
)
def test_bad_tag_names(exp, run, call, bad, reason):
    with pytest.raises(InvalidArgumentError) as caught:
        call(exp, run, bad)
    _assert_names(caught.value, bad, "tag name", reason)
    assert run.get_tags() == {}
    assert len(exp.get_runs(include_children=True)) == 1


@pytest.mark.parametrize("bad, reason", BAD_NAMES)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda exp, run, name: run.add_properties({"fine": 1, name: 1}), id="add_properties"),
        pytest.param(lambda exp, run, name: exp.start_logging("p", properties={name: 1}), id="start_logging"),
        pytest.param(lambda exp, run, name: run.child_run("c", properties={name: 1}), id="child_run"),
    ],
)
def test_bad_property_names(exp, run, call, bad, reason):
    with pytest.raises(InvalidArgumentError) as caught:
        call(exp, run, bad)
    _assert_names(caught.value, bad, "property name", reason)
    assert run.get_properties() == {}
    assert len(exp.get_runs(include_children=True)) == 1


@pytest.mark.parametrize("bad, reason", BAD_NAMES)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda run, col: run.log_row("t", **{"ok": 1, col: 2}), id="log_row"),
        pytest.param(lambda run, col: run.log_table("t", {"ok": [1], col: [2]}), id="log_table"),
    ],
)
def test_bad_column_names(run, call, bad, reason):
    with pytest.raises(InvalidArgumentError) as caught:
        call(run, bad)
    _assert_names(caught.value, bad, "column name", reason)
    assert run.get_metrics() == {}


def test_names_at_the_limit_are_accepted(exp):
    name = "m" * 255
    run = exp.start_logging(display_name=name, tags={name: "v"}, properties={name: 1})
    run.log(name, 1.0)
    run.log_row("t", **{name: 1})
    assert run.get_metrics() == {name: 1.0, "t": {name: [1]}}
    assert Experiment("e" * 255, store=exp.store).name == "e" * 255


# --- values passed to log() ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, fragments",
    [
        pytest.param("high", ["'high'", "string", "log_row", "tag"], id="str"),
        pytest.param("1.5", ["'1.5'", "string", "log_row"], id="numeric-str"),
        pytest.param([1, 2], ["list", "log_list"], id="list"),
        pytest.param((1, 2), ["tuple", "log_list"], id="tuple"),
        pytest.param(np.array([1.0, 2.0]), ["ndarray", "log_list"], id="ndarray"),
        pytest.param({"a": 1}, ["dict", "log_row"], id="dict"),
        pytest.param(None, ["None"], id="None"),
        pytest.param(1 + 2j, ["complex", "(1+2j)"], id="complex"),
        pytest.param(b"bytes", ["bytes"], id="bytes"),
    ],
)
def test_log_rejects_non_numbers_pointing_at_the_right_call(run, value, fragments):
    with pytest.raises(InvalidArgumentError) as caught:
        run.log("metric-x", value)
    message = str(caught.value)
    assert "'metric-x'" in message
    for fragment in fragments:
        assert fragment in message, message
    assert run.get_metrics() == {}


def test_log_rejects_a_non_number_after_good_values(run):
    run.log("m", 1.0)
    run.log("m", 2.0)
    with pytest.raises(InvalidArgumentError, match="'oops'"):
        run.log("m", "oops")
    with pytest.raises(InvalidArgumentError, match="log_list"):
        run.log("m", [3.0])
    run.log("m", 3.0)
    assert run.get_metric_history("m").values.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "values, fragment",
    [("abc", "str"), (5, "int"), (None, "NoneType"), ([1.0, "two"], "'two'"), ([1.0, [2.0]], "log_list"), ([1.0, None], "None")],
)
def test_log_list_rejects_non_lists_and_bad_items_atomically(run, values, fragment):
    run.log_list("m", [0.5])
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_list("m", values)
    assert "'m'" in str(caught.value) and fragment in str(caught.value)
    assert run.get_metrics() == {"m": 0.5}  # no part of the bad list was logged


# --- tables --------------------------------------------------------------------------------


def test_log_table_unequal_columns(run):
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_table("coef", {"feature": ["age", "bmi", "bp"], "weight": [0.1, 0.7]})
    message = str(caught.value)
    assert "'coef'" in message and "unequal" in message and "'feature': 3" in message and "'weight': 2" in message
    assert run.get_metrics() == {}


@pytest.mark.parametrize("column", [5, "abc", None, 1.5, b"xyz"], ids=["int", "str", "None", "float", "bytes"])
def test_log_table_non_list_columns(run, column):
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_table("coef", {"ok": [1], "bad-col": column})
    message = str(caught.value)
    assert "'bad-col'" in message and "'coef'" in message and type(column).__name__ in message
    assert run.get_metrics() == {}


@pytest.mark.parametrize("table", [[1, 2], "abc", 5])
def test_log_table_not_a_mapping(run, table):
    with pytest.raises(InvalidArgumentError, match="'coef'") as caught:
        run.log_table("coef", table)
    assert type(table).__name__ in str(caught.value)


def test_log_table_and_log_row_need_columns_and_plain_cells(run):
    with pytest.raises(InvalidArgumentError, match="'t'"):
        run.log_table("t", {})
    with pytest.raises(InvalidArgumentError, match="'t'"):
        run.log_row("t")
    with pytest.raises(InvalidArgumentError, match="'cell'") as caught:
        run.log_row("t", cell={"nested": 1})
    assert "dict" in str(caught.value)
    with pytest.raises(InvalidArgumentError, match="'cell'"):
        run.log_table("t", {"cell": [1, [2, 3]]})
    assert run.get_metrics() == {}


def test_kind_clash_names_the_metric(run):
    run.log("m", 1.0)
    with pytest.raises(RunHistoryError, match="'m'"):
        run.log_row("m", a=1)
    run.log_row("t", a=1)
    with pytest.raises(RunHistoryError, match="'t'"):
        run.log("t", 1.0)
    with pytest.raises(RunHistoryError, match="'t'"):
        run.log_image("t", array=np.zeros((2, 2), np.uint8))
    assert run.get_metrics() == {"m": 1.0, "t": {"a": [1]}}


# --- ended runs ----------------------------------------------------------------------------

_LOGGING_CALLS = [
    pytest.param(lambda run: run.log("m", 1.0), id="log"),
    pytest.param(lambda run: run.log("fresh", 1.0), id="log-new-name"),
    pytest.param(lambda run: run.log_list("m", [1.0]), id="log_list"),
    pytest.param(lambda run: run.log_row("t", a=1), id="log_row"),
    pytest.param(lambda run: run.log_table("t", {"a": [1]}), id="log_table"),
    pytest.param(lambda run: run.log_image("img", array=np.zeros((2, 2), np.uint8)), id="log_image"),
    pytest.param(lambda run: run.log_histogram("h", [1.0, 2.0]), id="log_histogram"),
    pytest.param(lambda run: run.child_run("kid"), id="child_run"),
]


@pytest.mark.parametrize("end", ["complete", "fail", "cancel"])
@pytest.mark.parametrize("call", _LOGGING_CALLS)
def test_logging_to_an_ended_run_conflicts(exp, call, end):
    run = exp.start_logging("ended")
    run.log("m", 0.5)
    run.log_row("t", a=0)
    getattr(run, end)()
    with pytest.raises(ConflictError) as caught:
        call(run)
    assert run.id in str(caught.value)
    assert run.get_metrics() == {"m": 0.5, "t": {"a": [0]}}
    assert run.get_children() == []


@pytest.mark.parametrize("call", _LOGGING_CALLS)
def test_logging_through_a_handle_to_a_completed_run_conflicts(exp, call):
    run = exp.start_logging("ended")
    run.complete()
    handle = Run.get(run.id, store=exp.store)
    with pytest.raises(ConflictError, match=run.id):
        call(handle)


def test_a_run_ended_through_another_handle_refuses_later_values_loudly(exp):
    run = exp.start_logging()
    run.log("kept", 1.0)
    Run.get(run.id, store=exp.store).complete()  # flushes what was logged before
    run.log("late", 2.0)  # this handle does not know yet; the store refuses the write
    with pytest.raises(ConflictError, match=run.id):
        run.flush()
    assert Run.get(run.id, store=exp.store).get_metrics() == {"kept": 1.0}


# --- properties ----------------------------------------------------------------------------


def test_changing_a_property_conflicts(exp):
    run = exp.start_logging(properties={"git_sha": "abc"})
    run.add_properties({"git_sha": "abc", "seed": 1})  # same values: fine
    with pytest.raises(ConflictError) as caught:
        run.add_properties({"git_sha": "def"})
    message = str(caught.value)
    assert "'git_sha'" in message and "'abc'" in message
    with pytest.raises(ConflictError, match="'seed'"):
        run.add_properties({"seed": 2})
    assert run.get_properties() == {"git_sha": "abc", "seed": 1}


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, math.nan, math.inf, object()])
def test_bad_property_values(run, value):
    with pytest.raises(InvalidArgumentError, match="'prop'"):
        run.add_properties({"prop": value})
    assert run.get_properties() == {}


@pytest.mark.parametrize("value", [[1], {"a": 1}, object()])
def test_bad_tag_values(run, value):
    with pytest.raises(InvalidArgumentError, match="'k'"):
        run.tag("k", value)
    assert run.get_tags() == {}


# --- run ids -------------------------------------------------------------------------------


def test_unknown_run_id(exp):
    unknown = "0123456789abcdef" * 2
    with pytest.raises(NotFoundError, match=unknown):
        Run.get(unknown, store=exp.store)
    with pytest.raises(InvalidArgumentError):
        Run.get("", store=exp.store)
    with pytest.raises(InvalidArgumentError):
        Run.get("bad\nid", store=exp.store)


# --- steps ---------------------------------------------------------------------------------

_BAD_STEPS = [
    pytest.param(-1, "-1", id="negative"),
    pytest.param(-(2**70), "-", id="very-negative"),
    pytest.param(1.5, "1.5", id="float"),
    pytest.param(2.0, "2.0", id="integral-float"),
    pytest.param(np.float64(3.0), "3.0", id="numpy-float"),
    pytest.param(True, "True", id="bool-true"),
    pytest.param(False, "False", id="bool-false"),
    pytest.param(2**62 + 1, str(2**62 + 1), id="too-large"),
    pytest.param(2**64, str(2**64), id="beyond-int64"),
    pytest.param("3", "'3'", id="str"),
]


@pytest.mark.parametrize("step, shown", _BAD_STEPS)
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda run, step: run.log("m", 1.0, step=step), id="log"),
        pytest.param(lambda run, step: run.log_image("m", array=np.zeros((2, 2), np.uint8), step=step), id="log_image"),
        pytest.param(lambda run, step: run.log_histogram("m", [1.0, 2.0], step=step), id="log_histogram"),
    ],
)
def test_bad_steps(run, call, step, shown):
    with pytest.raises(InvalidArgumentError) as caught:
        call(run, step)
    message = str(caught.value)
    assert "step" in message and "'m'" in message and shown in message, message
    assert run.get_metrics() == {}


def test_bad_step_after_good_values_keeps_them(run):
    run.log("m", 1.0)
    with pytest.raises(InvalidArgumentError):
        run.log("m", 2.0, step=-3)
    run.log("m", 3.0)
    history = run.get_metric_history("m")
    assert history.values.tolist() == [1.0, 3.0] and history.steps.tolist() == [0, 1]


def test_largest_steps_and_numpy_integers_are_accepted(run):
    run.log("m", 1.0, step=np.int32(5))
    run.log("m", 2.0, step=np.uint16(6))
    run.log("m", 3.0, step=2**62)
    assert run.get_metric_history("m").steps.tolist() == [5, 6, 2**62]


# --- images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array, fragment",
    [
        pytest.param(np.zeros(5, np.uint8), "(5,)", id="1d"),
        pytest.param(np.zeros((2, 3, 2), np.uint8), "(2, 3, 2)", id="2-channels"),
        pytest.param(np.zeros((2, 3, 5), np.uint8), "(2, 3, 5)", id="5-channels"),
        pytest.param(np.zeros((1, 2, 3, 3), np.uint8), "(1, 2, 3, 3)", id="4d"),
        pytest.param(np.zeros((0, 3), np.uint8), "(0, 3)", id="empty"),
        pytest.param(np.zeros((2, 2), np.complex128), "complex128", id="complex"),
        pytest.param(np.array([["a", "b"], ["c", "d"]]), "<U1", id="strings"),
        pytest.param(np.full((2, 2), 1.5), "1.5", id="float-above-1"),
        pytest.param(np.full((2, 2), -0.25), "-0.25", id="float-negative"),
        pytest.param(np.array([[0.5, np.nan]]), "nan", id="float-nan"),
        pytest.param(np.array([[0, 300]], np.int32), "300", id="int-above-255"),
        pytest.param(np.array([[-1, 3]], np.int16), "-1", id="int-negative"),
        pytest.param([[1, 2], [3]], "rectangular", id="ragged"),
    ],
)
def test_bad_image_arrays(run, array, fragment):
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_image("img", array=array)
    assert fragment in str(caught.value), str(caught.value)
    assert run.get_metrics() == {}


def test_log_image_needs_exactly_one_source(run, tmp_path):
    png = tmp_path / "ok.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")  # the source count is checked before the file is read
    with pytest.raises(InvalidArgumentError, match="exactly one") as caught:
        run.log_image("img")
    assert "'img'" in str(caught.value)
    with pytest.raises(InvalidArgumentError, match="exactly one") as caught:
        run.log_image("img", path=str(png), array=np.zeros((2, 2), np.uint8))
    assert "path" in str(caught.value) and "array" in str(caught.value)
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        run.log_image("img", array=np.zeros((2, 2), np.uint8), plot=object())
    assert run.get_metrics() == {}


def test_log_image_bad_paths(run, tmp_path):
    missing = tmp_path / "missing.png"
    with pytest.raises(InvalidArgumentError, match="missing.png"):
        run.log_image("img", path=str(missing))
    text = tmp_path / "notes.txt"
    text.write_text("not an image at all")
    with pytest.raises(InvalidArgumentError, match="notes.txt"):
        run.log_image("img", path=text)
    assert run.get_metrics() == {}


# --- stores --------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["", "   "])
def test_open_store_empty(uri):
    with pytest.raises(InvalidArgumentError) as caught:
        open_store(uri)
    assert repr(uri) in str(caught.value)


@pytest.mark.parametrize("uri, scheme", [("ftp://host/store", "ftp"), ("s3://bucket/x", "s3"), ("mongodb://localhost", "mongodb")])
def test_open_store_unknown_scheme(uri, scheme):
    with pytest.raises(InvalidArgumentError) as caught:
        open_store(uri)
    assert repr(scheme) in str(caught.value) and uri in str(caught.value)


@pytest.mark.parametrize("uri", ["sqlite://", "file://", "sqlite://   "])
def test_open_store_empty_path_in_uri(tmp_path, uri):
    with pytest.raises(InvalidArgumentError) as caught:
        open_store(uri)
    assert repr(uri) in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_open_store_on_a_file_that_is_not_sqlite(tmp_path):
    bogus = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 100
    bogus.write_bytes(content)
    with pytest.raises(InvalidArgumentError) as caught:
        open_store(str(bogus))
    assert str(bogus) in str(caught.value)
    with pytest.raises(InvalidArgumentError):
        Experiment("e", store=str(bogus / ".." / "notes.db"))
    assert bogus.read_bytes() == content  # the user's file is untouched


def test_open_store_on_a_directory_with_a_bogus_database(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "runhistory.db").write_bytes(b"garbage" * 1000)
    with pytest.raises(InvalidArgumentError, match="runhistory.db"):
        open_store(folder)


def test_open_store_missing_without_create(tmp_path):
    with pytest.raises(NotFoundError, match="absent"):
        open_store(str(tmp_path / "absent"), create=False)
    assert not (tmp_path / "absent").exists()


# --- other arguments -----------------------------------------------------------------------


def test_bad_statuses_and_texts(exp, run):
    with pytest.raises(InvalidArgumentError, match="'Exploded'"):
        exp.get_runs(status="Exploded")
    with pytest.raises(InvalidArgumentError, match="description"):
        exp.start_logging("d", description=42)
    with pytest.raises(InvalidArgumentError, match="tags"):
        exp.start_logging("d", tags=["not", "a", "dict"])
    with pytest.raises(InvalidArgumentError, match="error"):
        run.fail(error=123)
    assert run.status == Status.RUNNING


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../b", "a//b", "a\\b", "", "."])
def test_bad_file_names(run, tmp_path, name):
    source = tmp_path / "f.txt"
    source.write_text("x")
    with pytest.raises(InvalidArgumentError) as caught:
        run.upload_file(name, source)
    assert repr(name) in str(caught.value)
    with pytest.raises(InvalidArgumentError):
        run.download_file(name, str(tmp_path))
    assert run.get_file_names() == []


def test_upload_a_missing_file_or_folder(run, tmp_path):
    with pytest.raises(InvalidArgumentError, match="nothing.bin"):
        run.upload_file("x", tmp_path / "nothing.bin")
    with pytest.raises(InvalidArgumentError, match="no-folder"):
        run.upload_folder("x", tmp_path / "no-folder")


# --- nothing already logged is lost by an error --------------------------------------------


def test_errors_lose_nothing_already_logged(exp, tmp_path):
    run = exp.start_logging("survivor", properties={"sha": "abc"})
    run.log("a", 1.0)
    run.log("a", 2.0)
    run.log("b", 7)
    run.log_row("t", x=1)
    run.log_image("img", array=np.zeros((2, 2), np.uint8))
    run.log_histogram("h", [1.0, 2.0, 3.0])
    bad_calls = [
        lambda: run.log("a", "bad"),
        lambda: run.log("a", [1.0]),
        lambda: run.log("a", 9.0, step=-5),
        lambda: run.log("", 1.0),
        lambda: run.log_list("a", [1.0, "x"]),
        lambda: run.log_row("a", x=1),
        lambda: run.log_row("t", y={"bad": 1}),
        lambda: run.log_table("t", {"x": [1], "y": [1, 2]}),
        lambda: run.log_image("img", array=np.zeros(5)),
        lambda: run.log_image("img"),
        lambda: run.log_histogram("h", []),
        lambda: run.add_properties({"sha": "changed"}),
        lambda: run.tag("", "v"),
        lambda: Run.get("f" * 32, store=exp.store),
    ]
    for call in bad_calls:
        with pytest.raises(RunHistoryError):
            call()
    run.log("a", 3.0)
    run.flush()
    metrics = run.get_metrics()
    assert metrics["a"] == [1.0, 2.0, 3.0] and metrics["b"] == 7 and metrics["t"] == {"x": [1]}
    assert len(metrics["img"]) == 1 and len(metrics["h"]) == 1 and set(metrics) == {"a", "b", "t", "img", "h"}
    assert run.get_metric_history("a").steps.tolist() == [0, 1, 2]
    assert run.get_properties() == {"sha": "abc"}
    run.complete()
    assert run.status == Status.COMPLETED


def test_a_refused_background_write_loses_no_other_data(exp):
    run = exp.start_logging()
    other = Run.get(run.id, store=exp.store)  # a second handle: its kind check cannot see the first's
    run.log("x", 1.0)
    run.log("y", 2.0)
    run.log_row("t", a=1)
    other.log_row("x", a=1)  # clashes with the scalar 'x' in the store
    with pytest.raises(ConflictError, match="'x'"):
        run.flush()
    run.flush()  # the error is reported once
    run.log("y", 3.0)
    assert run.get_metrics() == {"x": 1.0, "y": [2.0, 3.0], "t": {"a": [1]}}
    run.complete()
    assert run.status == Status.COMPLETED


# --- inputs that once slipped through the checks ---------------------------------------------


def test_log_of_an_int_too_large_for_a_float(run):
    with pytest.raises(InvalidArgumentError, match="'m'"):
        run.log("m", 10**400)
    with pytest.raises(InvalidArgumentError, match="'m'"):
        run.log_list("m", [1.0, 2.0, 10**400])
    assert run.get_metrics() == {}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda exp, run: exp.start_logging("bad\ud800"), id="display-name"),
        pytest.param(lambda exp, run: run.tag("bad\ud800", "v"), id="tag-name"),
        pytest.param(lambda exp, run: run.add_properties({"bad\ud800": 1}), id="property-name"),
    ],
)
def test_names_that_are_not_valid_unicode(exp, run, call):
    with pytest.raises(InvalidArgumentError, match="ud800"):
        call(exp, run)


_POISON_SCRIPT = r"""
import os, sys
from tb_runhistory_plugin import Experiment, InvalidArgumentError
exp = Experiment("e", store=sys.argv[1])
run = exp.start_logging()
try:
    run.log("bad\ud800", 1.0)
    print("accepted")
except InvalidArgumentError:
    print("rejected")
other = exp.start_logging()
other.log("good", 2.0)
try:
    other.flush(timeout=5)
    print("flushed", other.get_metrics())
except Exception as exc:
    print("flush failed:", type(exc).__name__)
sys.stdout.flush()
os._exit(0)  # a wedged writer would otherwise hold the exit for its flush timeout
"""


def test_a_metric_name_that_is_not_valid_unicode_wedges_nothing(tmp_path):
    # In a child process: in this one the wedged writer would stall the interpreter's exit.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _POISON_SCRIPT, str(tmp_path / "store")], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.splitlines() == ["rejected", "flushed {'good': 2.0}"], done.stdout + done.stderr[-2000:]
