"""`/changes`: the change token moves when runs come or change status, and only then."""

from __future__ import annotations

import pytest

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.errors import NotFoundError
from tb_runhistory_plugin.plugin._changes import changes_impl
from tb_runhistory_plugin.store import SQLiteStore


def test_the_token_moves_with_new_runs_and_status_changes(tmp_path):
    path = str(tmp_path / "store")
    exp = Experiment("e", store=path)
    first = exp.start_logging(display_name="a")
    store = SQLiteStore(path)
    token = changes_impl(store, "e")["token"]
    assert changes_impl(store, "e", token) == {"experiment": exp.id, "token": token, "changed": False}
    first.log("loss", 1.0)
    first.flush()
    assert changes_impl(store, "e", token)["changed"] is False  # logging alone: the tab polls running runs itself
    first.complete()
    after_status = changes_impl(store, "e", token)
    assert after_status["changed"] is True
    second = exp.start_logging(display_name="b")
    assert changes_impl(store, "e", after_status["token"])["changed"] is True
    second.complete()
    with pytest.raises(NotFoundError, match="nope"):
        changes_impl(store, "nope")
