"""Property-based fuzzing of every operation of an OpenAPI file against an in-process WSGI app.

Shared by tests/test_server_fuzz.py and tests/test_plugin_fuzz.py. Cases come from schemathesis
(pinned to 4.x: its Python API changed across major versions), positive (fits the schema) and
negative (violates it), with Hypothesis derandomized so every run sends the same requests.
Path and query values are swapped, all or some, for those of a scenario that exists
(a run and one of its metrics), so requests get past "not found" into the parsing and the store.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

SCHEMATHESIS_MAJOR = 4  # the API below is schemathesis 4's


@dataclasses.dataclass
class FuzzReport:
    """What a fuzz run sent and what went wrong."""

    requests: int = 0
    by_operation: dict[str, int] = dataclasses.field(default_factory=dict)
    ok_operations: set[str] = dataclasses.field(default_factory=set)  # answered 2xx at least once
    statuses: dict[int, int] = dataclasses.field(default_factory=dict)
    failures: list[str] = dataclasses.field(default_factory=list)


def load(path: str):
    """The schemathesis schema of an OpenAPI file."""
    assert int(schemathesis.__version__.split(".")[0]) == SCHEMATHESIS_MAJOR, schemathesis.__version__
    return schemathesis.openapi.from_path(path)


def operations(schema) -> list[Any]:
    """Every operation of the schema (a broken definition fails the test)."""
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(
    schema,
    app: Callable,
    *,
    examples: int,
    scenarios: list[dict[str, str]],
    check: Callable[[Any, Any], str | None],
    headers: dict[str, str] | None = None,
) -> FuzzReport:
    """Send `examples` positive and `examples` negative cases of each operation to `app`.

    `scenarios` are coherent sets of real parameter values (run id with one of its metric names);
    `check(case, response)` returns a problem or None. Every problem is collected (not raised) so one run
    lists them all.
    """
    report = FuzzReport()
    for operation in operations(schema):
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, app, examples, scenarios, check, headers or {}, report, label)
    return report


def _fuzz_operation(operation, mode, app, examples, scenarios, check, headers, report, label) -> None:
    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(
        case=operation.as_strategy(generation_mode=mode),
        scenario=st.sampled_from(scenarios),
        swaps=st.lists(st.booleans(), min_size=8, max_size=8),
    )
    def run(case, scenario, swaps):
        _use_scenario(case, scenario, swaps)
        try:
            response = case.call(app=app, headers=headers)
        except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a failure too
            report.failures.append(f"{label} [{mode}] raised {type(exc).__name__}: {exc} for {_describe(case)}")
            return
        report.requests += 1
        report.by_operation[label] = report.by_operation.get(label, 0) + 1
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
        if response.status_code < 300:
            report.ok_operations.add(label)
        problem = check(case, response)
        if problem:
            report.failures.append(f"{label} [{mode}] {problem} for {_describe(case)}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to violate (an operation without parameters has no negative cases)


def _use_scenario(case, scenario: dict[str, str], swaps: list[bool]) -> None:
    """Swap every known parameter (when swaps[0]), or each one when its own flag says so."""
    i = 1
    for container in (case.path_parameters, case.query):
        if not isinstance(container, dict):
            continue
        for key in list(container):
            if key in scenario and (swaps[0] or swaps[i % len(swaps)]):
                container[key] = scenario[key]
            i += 1


def _describe(case) -> str:
    body = case.body if not isinstance(case.body, (bytes, str)) else case.body[:200]
    try:
        body_text = json.dumps(body, default=repr)[:300]
    except (TypeError, ValueError):
        body_text = repr(body)[:300]
    return f"path={case.path_parameters!r:.300} query={case.query!r:.300} headers={case.headers!r:.200} body={body_text}"


def error_body_problem(response, *, plugin: bool) -> str | None:
    """A 4xx/5xx must carry the JSON error body; None when it does."""
    if response.status_code < 400:
        return None
    content = response.content
    if "gzip" in str(response.headers.get("Content-Encoding", response.headers.get("content-encoding", ""))):
        content = gzip.decompress(content)
    try:
        body = json.loads(content)
    except ValueError:
        return f"{response.status_code} without a JSON body: {response.content[:200]!r}"
    if plugin:
        ok = isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
    else:
        error = body.get("error") if isinstance(body, dict) else None
        ok = isinstance(error, dict) and error.get("status") == response.status_code and isinstance(error.get("message"), str)
    return None if ok else f"{response.status_code} with a malformed error body: {response.content[:200]!r}"
