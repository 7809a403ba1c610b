"""Shared fixtures: a fresh store per backend, and an isolated working directory."""

from __future__ import annotations

import pytest

from backends import BACKENDS
import backends_extra  # noqa: F401,E402 - registers the postgresql and http backends


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
