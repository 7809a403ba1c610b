"""One bad value costs nothing else: refused at the call on every store; ending a run takes any text."""

from __future__ import annotations

import pytest

from tb_runhistory_plugin import Experiment, InvalidArgumentError, RunHistoryError, Status, WriteErrors
from tb_runhistory_plugin._types import MetricKind

NUL = "bad\x00text"
SURROGATE = "bad\udc80text"


@pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
def test_bad_text_is_refused_at_the_call_and_nothing_else_is_lost(store, text):
    run = Experiment("bad", store=store).start_logging()
    run.log("good", 1.0)
    with pytest.raises(InvalidArgumentError):
        run.log("described", 2.0, description=text)
    with pytest.raises(InvalidArgumentError):
        run.log_row("table", cell=text)
    with pytest.raises(InvalidArgumentError):
        run.log_table("table2", {"cell": ["ok", text]})
    with pytest.raises(InvalidArgumentError):
        run.tag("t", text)
    run.log("good", 2.0)
    run.log_row("table", cell="fine")
    run.flush()
    assert run.get_metric_history("good").values.tolist() == [1.0, 2.0]
    assert run.get_metrics("table") == {"table": {"cell": ["fine"]}}
    run.complete()
    assert run.status == Status.COMPLETED


def test_every_series_the_store_refuses_later_is_reported_and_the_others_are_written(store):
    run = Experiment("bad", store=store).start_logging()
    other = type(run).get(run.id, store)  # a second handle that does not know the first one's kinds
    run.log_row("m1", a=1)
    run.log_row("m2", a=1)
    run.flush()
    other.log("m1", 1.0)  # a kind clash only the store can see
    other.log("m2", 1.0)
    other.log("fine", 3.0)
    with pytest.raises(WriteErrors) as caught:
        other.flush()
    assert len(caught.value.errors) == 2
    assert isinstance(caught.value, RunHistoryError)
    text = str(caught.value)
    assert "'m1'" in text and "'m2'" in text
    assert run.get_metric_history("fine").values.tolist() == [3.0]
    kinds = {m.name: m.kind for m in store.list_metrics(run.id)}
    assert kinds == {"m1": MetricKind.TABLE, "m2": MetricKind.TABLE, "fine": MetricKind.SCALAR}
    run.complete()


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(NUL, id="nul"),
        pytest.param(SURROGATE, id="lone-surrogate"),
        pytest.param("x" * 10_000_000, id="10MB-text"),
        pytest.param(RuntimeError("boom\x00" + "\udc80" * 3 + "y" * 10_000_000), id="10MB-exception"),
    ],
)
def test_fail_with_any_text_marks_the_run_failed(store, error):
    run = Experiment("bad", store=store).start_logging()
    run.log("x", 1.0)
    try:
        raise error if isinstance(error, BaseException) else RuntimeError("unused")
    except RuntimeError as exc:
        given = exc if isinstance(error, BaseException) else error
    run.fail(given)
    info = run.info()
    assert info.status == Status.FAILED
    assert "\x00" not in info.error and len(info.error) <= 70_000
    if len(str(given)) > 70_000:
        assert "characters cut" in info.error
    if isinstance(given, BaseException):
        assert "Traceback" in info.traceback and "\x00" not in info.traceback
    assert run.get_metric_history("x").values.tolist() == [1.0]
