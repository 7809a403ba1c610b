"""Markdown for TensorBoard's Text tab: a run's facts and a table metric.

TensorBoard renders text summaries as Markdown and sanitises the HTML; user text is escaped here
so that a name with ``|`` or ``*`` cannot break a table or turn into formatting.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._types import RunInfo

MAX_TABLE_ROWS = 1000  # rows rendered per table text; the full table is in the scalars and the sidecar
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def escape(text: Any) -> str:
    """User text safe inside a Markdown table cell or paragraph."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return escape(value)


def run_snapshot(info: RunInfo) -> dict[str, Any]:
    """The facts of a run that the run text shows; a change in any of them writes a new text step."""
    return {
        "id": info.id,
        "display_name": info.display_name,
        "status": str(info.status),
        "description": info.description,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "error": info.error,
        "tags": dict(info.tags),
        "properties": dict(info.properties),
        "params": dict(info.params),
        "parent_id": info.parent_id,
        "experiment_id": info.experiment_id,
        "logs_dir": info.logs_dir,
    }


def run_markdown(snapshot: Mapping[str, Any]) -> str:
    """The run's status, times, description, tags and properties as Markdown."""
    lines = [f"**{escape(snapshot['display_name'])}** · {escape(snapshot['status'])}", ""]
    rows = [
        ("run id", snapshot["id"]),
        ("started", _when(snapshot["start_time"])),
        ("ended", _when(snapshot["end_time"])),
    ]
    if snapshot["end_time"] is not None:
        rows.append(("duration", f"{max(0.0, snapshot['end_time'] - snapshot['start_time']):.1f} s"))
    if snapshot.get("parent_id"):
        rows.append(("parent run id", snapshot["parent_id"]))
    if snapshot.get("logs_dir"):
        rows.append(("logs folder", snapshot["logs_dir"]))
    if snapshot.get("error"):
        rows.append(("error", snapshot["error"]))
    lines += ["| | |", "|---|---|", *(f"| {escape(k)} | {_cell(v)} |" for k, v in rows), ""]
    if snapshot["description"]:
        lines += [escape(snapshot["description"]), ""]
    for title, mapping in (("Tags", snapshot["tags"]), ("Params", snapshot.get("params") or {}), ("Properties", snapshot["properties"])):
        if mapping:
            lines += [f"**{title}**", "", "| name | value |", "|---|---|"]
            lines += [f"| {escape(k)} | {_cell(v)} |" for k, v in sorted(mapping.items())]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def table_markdown(columns: Mapping[str, Sequence[Any]], total_rows: int) -> str:
    """A table metric (its last rows) as a Markdown table."""
    names = list(columns)
    if not names:
        return "(empty table)\n"
    shown = len(next(iter(columns.values())))
    lines = []
    if shown < total_rows:
        lines += [f"last {shown} of {total_rows} rows", ""]
    lines.append("| " + " | ".join(escape(n) for n in names) + " |")
    lines.append("|" + "---|" * len(names))
    for i in range(shown):
        lines.append("| " + " | ".join(_cell(columns[n][i]) for n in names) + " |")
    return "\n".join(lines) + "\n"
