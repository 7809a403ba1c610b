"""`/changes`: a cheap "did anything change?" check the tab polls while nothing is running.

The token changes when a run is added to the experiment, removed, or leaves (or enters) the
Running status: two COUNT queries, far cheaper than listing runs. The tab fetches the runs
again only when the token differs from the one it saw last.
"""

from __future__ import annotations

from typing import Any

from .._filter import RunFilter
from .._types import Status
from ..store import Store
from ._params import Params
from ._respond import respond_json


def changes_impl(store: Store, experiment: str, since: str | None = None) -> dict[str, Any]:
    """The experiment's change token, and whether it differs from `since`.

    Raises:
        NotFoundError: no experiment `experiment`.
    """
    exp = store.get_experiment(experiment)
    total = store.count_runs(exp.id)
    running = store.count_runs(exp.id, RunFilter(statuses=(Status.RUNNING,))) if total else 0
    token = f"{total}.{running}"
    return {"experiment": exp.id, "token": token, "changed": since is not None and since != token}


def changes_route(plugin: Any, request: Any) -> Any:
    """GET /changes?experiment=ID[&since=TOKEN] (see http_api.md)."""
    p = Params(request.args)
    experiment = p.text("experiment", required=True)
    assert experiment is not None  # required=True raised InvalidArgumentError otherwise
    return respond_json(request, changes_impl(plugin._store(), experiment, p.text("since")))
