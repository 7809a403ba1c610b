"""Shared fixtures: a fresh store per backend, and an isolated working directory."""

from __future__ import annotations

import os

import backends_extra  # noqa: F401,E402 - registers the postgresql and http backends
import pytest
from backends import BACKENDS


@pytest.fixture(params=sorted(BACKENDS))
def store(request, tmp_path):
    """A fresh, empty store of every backend in turn (the contract suite runs on each)."""
    made = BACKENDS[request.param](tmp_path)
    yield made
    made.close()


@pytest.fixture
def sqlite_store(tmp_path):
    """A fresh embedded store."""
    from backends import make_sqlite

    made = make_sqlite(tmp_path)
    yield made
    made.close()


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Tests never touch ./runhistory of the checkout or a RUNHISTORY_STORE of the machine."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNHISTORY_STORE", raising=False)


# Modules whose tests start TensorBoard, a browser, many processes or thousands of requests.
SLOW_MODULES = frozenset(
    {
        "test_durability",
        "test_demo",
        "test_e2e_browser",
        "test_e2e_charts",
        "test_e2e_truth",
        "test_fork",
        "test_import_mlflow",
        "test_launcher",
        "test_plugin_fuzz",
        "test_plugin_tensorboard",
        "test_postgres_fork",
        "test_portal_browser",
        "test_resources",
        "test_server_fuzz",
        "test_threads",
        "test_writer_memory",
    }
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rpartition(".")[2] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes seconds (a real TensorBoard, a browser, many processes); `-m 'not slow'` skips them")
    config.addinivalue_line("markers", "may_skip(reason): a skip that CI accepts, because the machine itself makes the test meaningless")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under RUNHISTORY_REQUIRE_ALL (set by .ci/run) a skipped test fails: a missing optional part is a broken set-up, not a pass."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("RUNHISTORY_REQUIRE_ALL") and item.get_closest_marker("may_skip") is None and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped, but RUNHISTORY_REQUIRE_ALL is set: {reason}"
