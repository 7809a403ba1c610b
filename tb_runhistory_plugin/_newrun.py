"""A new run's arguments, each checked (InvalidArgumentError naming the value) before anything is stored."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._types import NewRun, new_run_id
from ._validate import check_mapping, check_name, check_property_value, check_run_id, check_tag_value, check_text
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._run import Run


def new_run(
    parent: Run | None,
    display_name: str | None,
    tags: Mapping[str, Any] | None,
    description: str | None,
    properties: Mapping[str, Any] | None,
    run_id: str | None,
    run_type: str | None,
) -> NewRun:
    """A run to create, every argument checked (InvalidArgumentError naming the value)."""
    run_id = new_run_id() if run_id is None else check_run_id(run_id)
    name = check_name(display_name, "display name") if display_name is not None else f"run_{run_id[:8]}"
    tags = {check_name(k, "tag name"): check_tag_value(k, v) for k, v in check_mapping(tags, "tags").items()}
    props = {check_name(k, "property name"): check_property_value(k, v) for k, v in check_mapping(properties, "properties").items()}
    return NewRun(
        run_id=run_id,
        display_name=name,
        start_time=time.time(),
        parent_id=parent.id if parent else None,
        description=check_text(description, "description"),
        tags=tags,
        properties=props,
        run_type=None if run_type is None else check_name(run_type, "run type"),
    )


def outputs_dir(outputs: str | os.PathLike[str] | None) -> str | None:
    if outputs is None:
        return None
    if not isinstance(outputs, (str, os.PathLike)):
        raise InvalidArgumentError(f"outputs must be a folder path, got {type(outputs).__name__} {outputs!r:.80}")
    folder = os.path.abspath(os.fspath(outputs))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise InvalidArgumentError(f"outputs {folder!r} is a file, not a folder")
    return folder
