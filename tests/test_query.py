"""The run query language: parser errors and limits first, then every store against the Python evaluator."""

from __future__ import annotations

import pytest
import query_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tb_runhistory_plugin import Experiment, InvalidArgumentError, QueryError, RunFilter, _query
from tb_runhistory_plugin._query import And, Compare, Exists, Field, Glob, Not, Or, parse, to_text


# -- parser: bad input first -------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, token, line, column",
    [
        ("metrics.mse <", "", 1, 14),
        ("metrics.mse < 3 and", "", 1, 20),
        ("name = 'x' or or name = 'y'", "or", 1, 15),
        ("(name = 'x'", "", 1, 12),
        ("name = 'x')", ")", 1, 11),
        ("name == ", "", 1, 9),
        ('name = "unterminated', '"', 1, 8),
        ("bogus = 1", "bogus", 1, 1),
        ("params = 1", "params", 1, 1),
        ("metrics.loss.median < 1", "metrics.loss.median", 1, 1),
        ("tags.a.b = 'x'", "tags.a.b", 1, 1),
        ("name = 3", "3", 1, 8),
        ("start_time > 'yesterday'", "'yesterday'", 1, 14),
        ("metrics.loss < 'low'", "'low'", 1, 16),
        ("status = 'Exploded'", "'Exploded'", 1, 10),
        ("status < 'Running'", "'Running'", 1, 10),
        ("params.flag > true", "true", 1, 15),
        ("metrics.loss ~ 'x*'", "metrics.loss", 1, 1),
        ("name ~ 3", "3", 1, 8),
        ("name = 1e999", "1e999", 1, 8),
        ("params.a = 99999999999999999999", "99999999999999999999", 1, 12),
        ("name = 'a'\nand\nparams.x >", "", 3, 11),
        ("name = 'a' ; DROP TABLE runs", ";", 1, 12),
        ("name = 'a' -- comment", "-", 1, 12),
        ("metrics.loss.min exists", "metrics.loss.min exists", 1, 1),
    ],
)
def test_bad_queries_name_token_line_and_column(text, token, line, column):
    with pytest.raises(QueryError) as caught:
        parse(text)
    error = caught.value
    assert isinstance(error, InvalidArgumentError)
    assert (error.token, error.line, error.column) == (token, line, column), str(error)
    assert f"line {line}, column {column}" in str(error)
    caret_line = str(error).splitlines()[-1]
    assert caret_line.index("^") == 2 + column - 1  # the caret sits under the offending column


@pytest.mark.parametrize("text", ["", "   ", "\n", 3, None, "name = 'a\x00'"])
def test_empty_or_non_text_queries_are_refused(text):
    with pytest.raises(QueryError):
        parse(text)  # type: ignore[arg-type]


def test_a_10000_term_query_is_refused_cleanly():
    query = " or ".join(f"params.p{i} = {i}" for i in range(10_000))
    with pytest.raises(QueryError, match="characters, over the limit"):
        parse(query)


def test_too_many_terms_under_the_length_limit_are_refused():
    query = " or ".join("name='a'" for _ in range(_query.MAX_TERMS + 1))
    assert len(query) < _query.MAX_QUERY_CHARS
    with pytest.raises(QueryError, match=f"more than {_query.MAX_TERMS} terms"):
        parse(query)
    assert isinstance(parse(" or ".join("name='a'" for _ in range(_query.MAX_TERMS))), Or)


def test_deep_nesting_is_refused_not_a_crash():
    nested = "name = 'a'"
    for i in range(_query.MAX_DEPTH + 5):
        nested = f"name = 'b' {'and' if i % 2 else 'or'} ({nested})"
    with pytest.raises(QueryError, match="nests deeper"):
        parse(nested)
    with pytest.raises(QueryError, match="nests deeper"):
        parse("not " * 2000 + "name = 'a'")
    # Redundant parentheses add no depth to the AST: accepted, without recursion.
    assert parse("(" * 4000 + "name = 'a'" + ")" * 4000) == Compare(Field("run", "name"), "=", "a")


# -- parser: what it accepts ---------------------------------------------------------------------
def test_the_example_of_the_issue_parses():
    node = parse('metrics.mse < 3000 and (params.alpha >= 0.3 or tags.team = "vision") and status = "Completed"')
    assert node == And(
        (
            Compare(Field("metrics", "mse", "last"), "<", 3000),
            Or((Compare(Field("params", "alpha"), ">=", 0.3), Compare(Field("tags", "team"), "=", "vision"))),
            Compare(Field("run", "status"), "=", "Completed"),
        )
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("params.`my key` = 1", Compare(Field("params", "my key"), "=", 1)),
        ('params."my key" = 1', Compare(Field("params", "my key"), "=", 1)),
        ("metrics.`train.loss`.min <= -1e-3", Compare(Field("metrics", "train.loss", "min"), "<=", -0.001)),
        ("metrics.train/loss.count > 2", Compare(Field("metrics", "train/loss", "count"), ">", 2)),
        ("name ~ 'alpha*'", Glob(Field("run", "name"), "alpha*")),
        ("name glob 'alpha*'", Glob(Field("run", "name"), "alpha*")),
        ("tags.team exists", Exists(Field("tags", "team"))),
        ("not params.alpha exists", Not(Exists(Field("params", "alpha")))),
        ("name in ('a', 'b')", Or((Compare(Field("run", "name"), "=", "a"), Compare(Field("run", "name"), "=", "b")))),
        ("name not in ('a')", Not(Compare(Field("run", "name"), "=", "a"))),
        ("params.flag == false", Compare(Field("params", "flag"), "=", False)),
        ("params.`in` = 'x'", Compare(Field("params", "in"), "=", "x")),
        ("tags.`x'; DROP TABLE runs; --` = 'y'", Compare(Field("tags", "x'; DROP TABLE runs; --"), "=", "y")),
        ('name = "say \\"hi\\"\\n"', Compare(Field("run", "name"), "=", 'say "hi"\n')),
        ("duration > 60 and end_time exists and parent exists", None),
    ],
)
def test_valid_queries(text, expected):
    node = parse(text)
    if expected is not None:
        assert node == expected
    assert parse(to_text(node)) == node  # the text of an AST reads back as the same AST


def test_keywords_need_a_word_boundary():
    with pytest.raises(QueryError):
        parse("params.x = 1 orparams.y = 2")
    assert parse("params.notes = 1") == Compare(Field("params", "notes"), "=", 1)


# -- every store against the evaluator -------------------------------------------------------
@pytest.fixture
def data(store):
    exp_id, _ = query_data.build(store)
    return store, exp_id, store.list_runs(exp_id)


def _answer(store, exp_id, query: RunFilter) -> dict[str, bool]:
    infos = store.list_runs(exp_id, query)
    assert store.count_runs(exp_id, query) == len(infos)
    found = {i.id: i.matched for i in infos}
    assert len(found) == len(infos)  # no run twice
    return found


@pytest.mark.parametrize(
    "text, expected",
    [
        ('tags.team = "vision"', {"root-a", "root-b"}),
        ('tags.team ~ "?ision"', {"root-a", "root-b", "c-1"}),
        ('tags.`my key` = "v 1"', {"root-a"}),
        ("params.alpha >= 0.3", {"a-1", "a-2-x", "b-1"}),
        ("params.mixed > 0", {"a-2-y", "b-1"}),
        ('params.mixed = "text"', {"a-2"}),
        ("params.mixed exists and not params.mixed > 0", {"a-2"}),
        ("params.flag = true", {"a-1"}),
        ("params.flag != true", {"root-b"}),
        ("params.layers = 3.0", {"root-a"}),
        ('params.opt = "a*b"', {"root-b"}),
        ('params.opt ~ "a*"', {"root-a", "root-b"}),
        ('params.opt ~ "[a]*"', set()),
        ("properties.seed >= 2", {"a-2", "b-1"}),
        ('properties.note ~ "a?c"', {"root-b"}),
        ("properties.flag = false", {"a-2-y"}),
        ("metrics.loss.min < 0.3", {"a-2", "root-b"}),
        ("metrics.loss > 100", set()),
        ("metrics.loss.max > 100", set()),
        ("metrics.loss.count = 2", {"a-1", "a-2", "a-2-x"}),
        ("metrics.loss.count = 2 and not (metrics.loss.min <= 0 or metrics.loss.min > 0)", {"a-2-x"}),
        ("metrics.loss.mean = 2", {"root-a", "c-1"}),
        ('status = "NotResponding"', {"root-b"}),
        ('status != "Completed" and status != "NotResponding"', {"a-2", "a-2-x", "root-c"}),
        ("not end_time exists", {"root-b"}),
        ("not parent exists", {"root-a", "root-b", "root-c"}),
        ('parent = "a-2"', {"a-2-x", "a-2-y"}),
        ('name ~ "alpha*"', {"root-a", "a-2-x"}),
        ('name ~ "alpha\\*x"', {"a-2-x"}),  # no escapes in globs: a backslash before * is just removed by the string
        ('name ~ "50%_*"', {"a-2-y"}),
        ('name ~ "50%%*"', set()),
        ("name = 'it''s'", None),
        ('name = "it\'s \\"c\\""', {"c-1"}),
        ('tags.team = "x\'; DROP TABLE runs; --"', {"a-2-y"}),
        ("tags.`x'; DROP TABLE runs; --` exists", set()),
        ('id in ("b-1", "c-1", "nope")', {"b-1", "c-1"}),
        ("duration > 500", {"root-b"}),
    ],
)
def test_queries_on_every_store(data, text, expected):
    store, exp_id, infos = data
    try:
        node = parse(text)
    except QueryError:
        assert expected is None
        return
    want = query_data.expected_ids(infos, node, inherit=False, with_ancestors=False)
    assert set(want) == expected  # the evaluator says what the example says
    assert _answer(store, exp_id, RunFilter(query=text)) == want
    assert store.count_runs(exp_id) == len(query_data.RUNS)  # the hostile text changed nothing


def test_with_ancestors_lists_each_match_path_at_any_depth(data):
    store, exp_id, _ = data
    found = _answer(store, exp_id, RunFilter(query='tags.`50%_off` = "yes"', with_ancestors=True))
    assert found == {"a-2-x": True, "a-2": False, "root-a": False}
    found = _answer(store, exp_id, RunFilter(query="metrics.loss.min < 0.3", with_ancestors=True))
    assert found == {"a-2": True, "root-a": False, "root-b": True}


def test_inherit_matches_on_the_nearest_ancestors_params_and_tags(data):
    store, exp_id, _ = data
    assert set(_answer(store, exp_id, RunFilter(query='tags.team = "nlp"', inherit=True))) == {"a-2", "a-2-x"}  # a-2-y has its own team
    assert set(_answer(store, exp_id, RunFilter(query="params.layers = 3", inherit=True))) == {"root-a", "a-1", "a-2", "a-2-x", "a-2-y"}
    assert set(_answer(store, exp_id, RunFilter(query='params.opt = "adam"', inherit=True))) == {"root-a", "a-1", "a-2", "a-2-y"}  # a-2-x says sgd
    both = RunFilter(query='params.opt = "sgd"', inherit=True, with_ancestors=True)
    assert _answer(store, exp_id, both) == {"a-2-x": True, "a-2": False, "root-a": False}


@pytest.mark.parametrize(
    "sort", ["start_time", "name", "duration", "end_time", "params.alpha", "params.mixed", "metrics.loss", "metrics.loss.min", "tags.team", "properties.seed"]
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorts_put_nulls_last_and_break_ties_by_start(data, sort, order):
    store, exp_id, infos = data
    got = [i.id for i in store.list_runs(exp_id, RunFilter(sort=sort, order=order))]
    assert got == query_data.expected_order(infos, _query.parse_field(sort), order == "desc")
    page = [i.id for i in store.list_runs(exp_id, RunFilter(sort=sort, order=order), limit=3, offset=2)]
    assert page == got[2:5]


@pytest.mark.parametrize("sort", ["status", "", "metrics", "params.a.b", "bogus", "name; DROP TABLE runs"])
def test_bad_sort_fields_are_refused(sort):
    with pytest.raises(QueryError):
        RunFilter(sort=sort)


def test_text_search_keeps_working_beside_a_query(data):
    store, exp_id, _ = data
    assert set(_answer(store, exp_id, RunFilter(text="ALPHA", query="params.alpha exists"))) == {"root-a", "a-2-x"}


def test_get_runs_takes_a_filter(store):
    query_data.build(store, "query")
    exp = Experiment("query", store=store)
    assert [r.id for r in exp.get_runs(filter='tags.team = "vision"')] == ["root-b", "root-a"]  # newest first
    assert [r.id for r in exp.get_runs(filter="params.alpha >= 0.3", include_children=True)] == ["b-1", "a-2-x", "a-1"]
    by_alpha = RunFilter(query="params.alpha >= 0.3", sort="params.alpha", order="desc")
    assert [r.id for r in exp.get_runs(filter=by_alpha, include_children=True)] == ["a-2-x", "b-1", "a-1"]  # ties: newest start first
    assert exp.get_runs(filter=by_alpha) == []  # top-level runs only, as without a filter
    with pytest.raises(QueryError):
        exp.get_runs(filter="params.alpha >=")
    with pytest.raises(InvalidArgumentError):
        exp.get_runs(filter=3)  # type: ignore[arg-type]


# -- property-based: random queries, every store, the evaluator decides ---------------------------
_NUM_FIELDS = [Field("run", "start_time"), Field("run", "end_time"), Field("run", "duration")] + [
    Field("metrics", name, agg) for name in ("loss", "acc", "nothing") for agg in _query.AGGREGATES
]
_STR_FIELDS = [Field("run", "name"), Field("run", "id"), Field("run", "parent")]
_ANY_FIELDS = [
    Field(source, key)
    for source in ("tags", "params", "properties")
    for key in ("team", "alpha", "opt", "mixed", "flag", "layers", "seed", "note", "my key", "50%_off", query_data.NASTY)
]
_STRINGS = st.sampled_from(
    ["vision", "nlp", "adam", "Adam", "a*b", "text", "first", "a-2", "root-a", "alpha root", "50%_y", query_data.NASTY, "", "v 1", "yes"]
)
_NUMBERS = st.sampled_from([0, 1, 2, 3, 5, 7, 12, -1, 0.1, 0.25, 0.3, 0.4, 0.5, 0.9, 0.95, 1e-3, 2.5, 1e9, -1e9])
_DATA_NUMBERS = st.sampled_from(  # every logged value and summary, and the numbers between them
    sorted(
        {v for run in query_data.RUNS.values() for values in run[4].values() for v in values if v == v and abs(v) != float("inf")}
        | {0, 0.35, 0.45, 1.5, 2.5, 4, 4.75, 1.25, 0.275, 0.925, 2, 3}
    )
)
_PATTERNS = st.sampled_from(["*", "a*", "*a*", "?ision", "alpha*", "50%_*", "[x]*", "*;*", "", "a?c", "root-?"])


def _leaf(now_ish: float):
    times = st.sampled_from([now_ish - 2000, now_ish - 995.5, now_ish - 990, now_ish, 5.0, 500.0, 15.0])
    numeric = st.builds(Compare, st.sampled_from(_NUM_FIELDS[:3]), st.sampled_from(_query.OPS), st.one_of(_NUMBERS, times))
    metric = st.builds(Compare, st.sampled_from(_NUM_FIELDS[3:]), st.sampled_from(_query.OPS), _DATA_NUMBERS)
    text = st.builds(Compare, st.sampled_from(_STR_FIELDS), st.sampled_from(_query.OPS), _STRINGS)
    anything = st.builds(Compare, st.sampled_from(_ANY_FIELDS), st.sampled_from(_query.OPS), st.one_of(_NUMBERS, _STRINGS))
    flags = st.builds(Compare, st.sampled_from(_ANY_FIELDS), st.sampled_from(["=", "!="]), st.booleans())
    status = st.builds(Compare, st.just(Field("run", "status")), st.sampled_from(["=", "!="]), st.sampled_from(query_data.STATUSES))
    globs = st.builds(Glob, st.sampled_from(_STR_FIELDS + _ANY_FIELDS), _PATTERNS)
    exists = st.builds(Exists, st.sampled_from([f for f in _NUM_FIELDS + _STR_FIELDS + _ANY_FIELDS if f.aggregate in (None, "last")]))
    return st.one_of(numeric, metric, metric, text, anything, anything, flags, status, globs, exists)


def _queries(now_ish: float):
    return st.recursive(
        _leaf(now_ish),
        lambda inner: st.one_of(
            st.builds(Not, inner),
            st.builds(And, st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(Or, st.lists(inner, min_size=2, max_size=3).map(tuple)),
        ),
        max_leaves=8,
    )


def test_random_queries_match_the_python_evaluator_on_every_store(data):
    store, exp_id, infos = data
    now_ish = min(i.start_time for i in infos) + 1000.0

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(node=_queries(now_ish), inherit=st.booleans(), with_ancestors=st.booleans())
    def check(node, inherit, with_ancestors):
        text = to_text(node)
        assert parse(text) == node
        want = query_data.expected_ids(infos, node, inherit=inherit, with_ancestors=with_ancestors)
        assert _answer(store, exp_id, RunFilter(query=text, inherit=inherit, with_ancestors=with_ancestors)) == want, text

    check()


def test_the_rest_server_answers_a_bad_query_with_400_and_its_position(sqlite_store):
    from werkzeug.test import Client

    from tb_runhistory_plugin.server.app import RunHistoryApp

    exp = sqlite_store.get_or_create_experiment("e")
    client = Client(RunHistoryApp(sqlite_store, token=""))
    for path in ("runs", "runs/count"):
        resp = client.get(f"/api/v1/experiments/{exp.id}/{path}", query_string={"filter": "params.a >= 1 and (name = 'x'"})
        assert resp.status_code == 400
        error = resp.get_json()["error"]
        assert (error["type"], error["line"], error["column"], error["token"]) == ("QueryError", 1, 30, "")
    resp = client.get(f"/api/v1/experiments/{exp.id}/runs", query_string={"filter": "params.a >= 1", "sort": "params.a", "order": "desc"})
    assert resp.status_code == 200 and resp.get_json() == []
