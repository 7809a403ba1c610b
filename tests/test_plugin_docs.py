"""Every route the plugin registers is documented in http_api.md, and nothing else is."""

from __future__ import annotations

import os
import re

from tensorboard.plugins import base_plugin

from tb_runhistory_plugin.plugin import plugin as plugin_module
from tb_runhistory_plugin.plugin.plugin import RunHistoryPlugin

DOC = os.path.join(os.path.dirname(os.path.dirname(plugin_module.__file__)), "http_api.md")  # tb_runhistory_plugin/http_api.md


def documented_routes() -> list[str]:
    with open(DOC, encoding="utf-8") as handle:
        return re.findall(r"^## `(/[^`]*)`", handle.read(), flags=re.MULTILINE)


def test_every_route_is_documented_and_every_documented_route_exists():
    routes = set(RunHistoryPlugin(base_plugin.TBContext()).get_plugin_apps())
    documented = documented_routes()
    assert len(documented) == len(set(documented)), "a route is documented twice"
    assert routes - set(documented) == set(), "routes missing from http_api.md"
    assert set(documented) - routes == set(), "http_api.md documents routes that do not exist"


def test_the_es_module_path_is_a_route():
    plugin = RunHistoryPlugin(base_plugin.TBContext())
    assert plugin.frontend_metadata().es_module_path in plugin.get_plugin_apps()
    assert plugin.frontend_metadata().tab_name == "Run History"
