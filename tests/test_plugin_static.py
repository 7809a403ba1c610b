"""The frontend's static files: content types, nosniff, and no way out of the frontend folder."""

from __future__ import annotations

import argparse
import gzip
import json
import os

import pytest
from tensorboard.backend import application
from tensorboard.plugins import base_plugin
from werkzeug.test import Client

from tb_runhistory_plugin import _assets
from tb_runhistory_plugin.plugin.plugin import RunHistoryPlugin

PREFIX = "/data/plugin/runhistory"


@pytest.fixture
def frontend(tmp_path):
    """A frontend folder with modules, vendored files, hidden files and symlinks."""
    root = tmp_path / "frontend"
    (root / "lib").mkdir(parents=True)
    (root / "vendor").mkdir()
    (root / "test").mkdir()
    (root / "index.js").write_text("export function render() {}\n")
    (root / "lib" / "chart.js").write_text("export const chart = 1;\n")
    (root / "vendor" / "uPlot.esm.js").write_text("export default {};\n")
    (root / "vendor" / "uPlot.min.css").write_text(".uplot{}\n")
    (root / "vendor" / "uPlot.LICENSE").write_text("MIT\n")
    (root / "test" / "a.test.js").write_text("test\n")
    (root / "package.json").write_text("{}")
    (root / ".secret.js").write_text("hidden\n")
    (root / "page.html").write_text("<script>alert(1)</script>")
    (root / "lib" / "types.ts").write_text("type A = 1;\n")
    (tmp_path / "outside.js").write_text("OUTSIDE-CONTENT\n")
    os.symlink(tmp_path / "outside.js", root / "escape.js")
    os.symlink(tmp_path, root / "up")
    os.symlink(root / "lib" / "chart.js", root / "alias.js")  # a symlink that stays inside is fine
    return root


@pytest.fixture
def client(tmp_path, frontend):
    flags = argparse.Namespace(logdir=str(tmp_path / "logs"), runhistory_store=None)
    plugin = RunHistoryPlugin(base_plugin.TBContext(logdir=flags.logdir, flags=flags), frontend_dir=str(frontend))
    return Client(application.TensorBoardWSGI([plugin]))


@pytest.mark.parametrize(
    "path, content_type, body",
    [
        ("/index.js", "text/javascript; charset=utf-8", b"export function render() {}\n"),
        ("/lib/chart.js", "text/javascript; charset=utf-8", b"export const chart = 1;\n"),
        ("/vendor/uPlot.esm.js", "text/javascript; charset=utf-8", b"export default {};\n"),
        ("/vendor/uPlot.min.css", "text/css; charset=utf-8", b".uplot{}\n"),
        ("/vendor/uPlot.LICENSE", "text/plain; charset=utf-8", b"MIT\n"),
        ("/alias.js", "text/javascript; charset=utf-8", b"export const chart = 1;\n"),
    ],
)
def test_files_are_served_with_their_content_type(client, path, content_type, body):
    response = client.get(PREFIX + path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.data == body


@pytest.mark.parametrize(
    "path",
    [
        "/../outside.js",
        "/lib/../../outside.js",
        "/%2e%2e/outside.js",
        "/lib/%2E%2E/%2e%2e/outside.js",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/lib//chart.js",
        "/./index.js",
        "/lib\\chart.js",
        "/lib%5Cchart.js",
        "/index.js%00.png",
        "/escape.js",
        "/up/outside.js",
        "/.secret.js",
        "/test/a.test.js",
        "/package.json",
        "/page.html",
        "/lib/types.ts",
        "/missing.js",
        "/lib",
        "/nope",
    ],
)
def test_nothing_else_is_served(client, path):
    response = client.get(PREFIX + path)
    assert response.status_code == 404, path
    assert response.headers["Content-Type"] == "application/json"
    assert b"OUTSIDE-CONTENT" not in response.data and b"alert(1)" not in response.data
    assert json.loads(response.data)["error"].startswith("no route or frontend file")


def test_large_text_files_are_gzipped(client, frontend):
    (frontend / "big.js").write_text("export const x = 1;\n" * 1000)
    response = client.get(PREFIX + "/big.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == (frontend / "big.js").read_bytes()


def test_the_bundled_vendor_files_are_served(tmp_path):
    """The real frontend folder (the checkout's frontend/ in an editable install)."""
    root = _assets.frontend_dir()
    if not os.path.isfile(os.path.join(root, "vendor", "uPlot.esm.js")):
        pytest.skip("no bundled frontend here")
    flags = argparse.Namespace(logdir=str(tmp_path), runhistory_store=None)
    client = Client(application.TensorBoardWSGI([RunHistoryPlugin(base_plugin.TBContext(logdir=str(tmp_path), flags=flags))]))
    response = client.get(PREFIX + "/vendor/uPlot.esm.js")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"uPlot" in response.data
    if os.path.isfile(os.path.join(root, "index.js")):
        assert b"render" in client.get(PREFIX + "/index.js").data
