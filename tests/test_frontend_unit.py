"""The frontend's pure modules are tested with Node's own runner; this runs it inside the suite."""

from __future__ import annotations

import os
import shutil
import subprocess

FRONTEND = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "frontend")


def test_node_unit_tests_pass():
    node = shutil.which("node")
    assert node, "Node.js 20 is needed for the frontend unit tests (.ci/run installs it)"
    result = subprocess.run([node, "--test", "test/"], cwd=FRONTEND, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
