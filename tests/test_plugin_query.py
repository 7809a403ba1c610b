"""The plugin's /runs with filter=, sort=, with_ancestors= and inherit=, and params in /runs, /run and /sweep."""

from __future__ import annotations

import urllib.parse

import pytest
import query_data
from test_plugin_routes import get_json, make_client

from tb_runhistory_plugin import _query


@pytest.fixture
def client(tmp_path, store):
    query_data.build(store)
    made, _ = make_client(tmp_path, store=store)
    return made


def _runs(client, status=200, **params):
    return get_json(client, "/runs?" + urllib.parse.urlencode({"experiment": "query", "parent": "*", **params}), status=status)


@pytest.mark.parametrize(
    "query, token, column",
    [
        ("metrics.loss <", "", 15),
        ("bogus = 1", "bogus", 1),
        ("name = 'a' or or name = 'b'", "or", 15),
        ("status = 'Exploded'", "'Exploded'", 10),
        ("name = 'x'; DROP TABLE runs", ";", 11),
        ("x" * (_query.MAX_QUERY_CHARS + 1), "", 0),
    ],
)
def test_a_bad_filter_answers_400_with_the_column(client, query, token, column):
    body = _runs(client, 400, filter=query)
    assert set(body) >= {"error", "line", "column", "token"}
    assert (body["token"], body["column"]) == (token, column)
    assert "Traceback" not in body["error"]
    assert _runs(client)["total"] == len(query_data.RUNS)  # nothing was harmed


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sort": "status"}, "sorted by status"),
        ({"sort": "bogus"}, "bogus"),
        ({"order": "sideways"}, "order"),
        ({"with_ancestors": "maybe"}, "with_ancestors"),
        ({"inherit": "2"}, "inherit"),
        ({"filter": "name = 'a\x00'"}, "NUL"),
    ],
)
def test_other_bad_parameters_answer_400(client, params, match):
    assert match in _runs(client, 400, **params)["error"]


def test_filter_selects_and_counts(client):
    body = _runs(client, filter='params.alpha >= 0.3 and tags.kind = "leaf"')
    assert body["total"] == 1 and [r["id"] for r in body["runs"]] == ["b-1"]
    assert body["filter"] == 'params.alpha >= 0.3 and tags.kind = "leaf"'
    row = body["runs"][0]
    assert row["params"] == {"alpha": 0.3, "mixed": 0.3} and row["matched"] is True


def test_roots_view_filters_top_level_runs_only(client):
    body = get_json(client, "/runs?" + urllib.parse.urlencode({"experiment": "query", "filter": 'tags.team = "vision"'}))
    assert [r["id"] for r in body["runs"]] == ["root-a", "root-b"]


def test_with_ancestors_marks_the_ancestors_unmatched(client):
    body = _runs(client, filter="metrics.loss.min < 0.3", with_ancestors="1")
    assert {r["id"]: r["matched"] for r in body["runs"]} == {"root-a": False, "a-2": True, "root-b": True}
    assert body["total"] == 3


def test_inherit_and_sort_and_paging(client):
    body = _runs(client, filter='params.opt = "adam"', inherit="1", sort="metrics.loss.min", order="desc", limit=2, offset=1)
    # matches: root-a (min 1), a-1 (5), a-2 (0.25), a-2-y (no loss: last); desc, NULLs last
    assert body["total"] == 4
    assert [r["id"] for r in body["runs"]] == ["root-a", "a-2"]
    assert (body["sort"], body["order"]) == ("metrics.loss.min", "desc")


def test_hostile_strings_match_literally(client):
    body = _runs(client, filter='tags.team = "x\'; DROP TABLE runs; --"')
    assert [r["id"] for r in body["runs"]] == ["a-2-y"]
    assert _runs(client, filter="tags.`x'; DROP TABLE runs; --` exists")["runs"] == []


def test_run_and_sweep_show_params(client):
    run = get_json(client, "/run?id=root-a")["run"]
    assert run["params"] == {"alpha": 0.1, "opt": "adam", "layers": 3}
    sweep = get_json(client, "/sweep?parent=a-2")
    keys = [c["key"] for c in sweep["columns"]]
    assert keys[:4] == ["params:alpha", "params:mixed", "params:opt", "property:flag"]  # params first
    by_key = {c["key"]: c for c in sweep["columns"]}
    assert by_key["params:alpha"]["numeric"] and not by_key["params:opt"]["numeric"]
    rows = {run["id"]: dict(zip(keys, values)) for run, values in zip(sweep["runs"], sweep["values"])}
    assert rows["a-2-x"]["params:opt"] == "sgd" and rows["a-2-y"]["params:mixed"] == 7


# -- tb-runhistory ls --filter ----------------------------------------------------------------
def test_cli_ls_filter_prints_matches_under_their_ancestors(tmp_path, sqlite_store):
    import json

    from test_cli import run_cli

    query_data.build(sqlite_store)
    path = str(tmp_path / "store")
    code, out, err = run_cli("ls", "query", "--store", path, "--filter", 'tags.`50%_off` = "yes"')
    assert code == 0, err
    lines = out.splitlines()
    assert "alpha root" in lines[1] and lines[1].endswith("(ancestor)")
    assert "a-2 " in lines[2] and lines[2].endswith("(ancestor)")
    assert "alpha*x" in lines[3] and not lines[3].endswith("(ancestor)")
    assert len(lines) == 4
    code, out, _ = run_cli("ls", "query", "--store", path, "--filter", "params.alpha >= 0.3", "--sort", "params.alpha", "--desc", "--json")
    (exp,) = json.loads(out)
    assert [(r["id"], r["matched"]) for r in exp["runs"]] == [("root-a", False), ("root-b", False)]
    assert [c["id"] for c in exp["runs"][0]["children"]] == ["a-1", "a-2"]  # siblings sorted, NULLs (a-2 has no alpha) last
    code, _, err = run_cli("ls", "query", "--store", path, "--filter", "params.alpha >=")
    assert code == 2 and "line 1, column 16" in err and "^" in err
