"""Workspace: the original SDK's `Experiment(workspace=ws, name=...)` and `Experiment(ws, name)` run unchanged."""

import pytest

from tb_runhistory_plugin import Experiment, InvalidArgumentError, Workspace
from tb_runhistory_plugin.store import SQLiteStore


def test_from_config_names_the_environment_store(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNHISTORY_STORE", str(tmp_path / "env-store"))
    ws = Workspace.from_config()
    exp = Experiment(workspace=ws, name="kw")
    with exp.start_logging() as run:
        run.log("x", 1.0)
    assert ws.store.uri == exp.store.uri
    with SQLiteStore(tmp_path / "env-store", create=False) as store:
        assert [e.name for e in store.list_experiments()] == ["kw"]


def test_original_positional_order(tmp_path):
    ws = Workspace(str(tmp_path / "s"))
    exp = Experiment(ws, "positional")
    assert (exp.name, exp.store) == ("positional", ws.store)
    assert Experiment("positional", ws.store).id == exp.id  # our own order keeps working


@pytest.mark.parametrize(
    ("args", "kwargs", "named"),
    [
        ((), {"workspace": "not a workspace", "name": "x"}, "workspace must be a Workspace"),
        ((), {"workspace": None, "name": None}, "experiment name must be a string"),
        (("x", "somewhere"), {"workspace": "ws"}, "workspace must be a Workspace"),
    ],
)
def test_bad_arguments_are_named(tmp_path, args, kwargs, named):
    with pytest.raises(InvalidArgumentError, match=named):
        Experiment(*args, **kwargs)


def test_workspace_and_store_together_are_refused(tmp_path):
    ws = Workspace(str(tmp_path / "a"))
    with pytest.raises(InvalidArgumentError, match="not both"):
        Experiment("x", str(tmp_path / "b"), workspace=ws)
