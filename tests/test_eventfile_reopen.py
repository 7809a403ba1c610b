"""EventFileWriter.reopen: continue an earlier event file, cut back to its last known good end."""

from __future__ import annotations

import pytest
from tensorboard.compat.proto import event_pb2

from tb_runhistory_plugin.errors import InvalidArgumentError, NotFoundError
from tb_runhistory_plugin.export._eventfile import EventFileWriter, iter_records

WALL = 1_700_000_000.0


def scalars(path) -> list[tuple[str, int, bool]]:
    """(tag, step, has metadata) of every scalar value in the file."""
    found = []
    for record in iter_records(path):
        event = event_pb2.Event.FromString(record)
        found += [(v.tag, event.step, v.HasField("metadata")) for v in event.summary.value]
    return found


def test_reopen_continues_the_file_after_the_committed_size(tmp_path):
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("x", [0, 1], [WALL, WALL], [1.0, 2.0])
        writer.flush()
        path, committed = writer.path, writer.path.stat().st_size
        writer.write_scalars("x", [2], [WALL], [3.0])  # never committed: cut off on reopen
    with open(path, "ab") as handle:
        handle.write(b"\x01half a record")
    with EventFileWriter.reopen(path, size=committed) as again:
        assert again.path == path
        again.write_scalars("x", [5], [WALL], [4.0])
    # A new session writes each tag's metadata again on its first value, as TensorBoard's writers do.
    assert scalars(path) == [("x", 0, True), ("x", 1, False), ("x", 5, True)]
    with EventFileWriter.reopen(path) as whole:  # no size: append after everything
        whole.write_scalars("x", [6], [WALL], [5.0])
    assert [step for _, step, _ in scalars(path)] == [0, 1, 5, 6]


def test_reopen_refuses_what_it_cannot_continue(tmp_path):
    with EventFileWriter(tmp_path) as writer:
        path = writer.path
    size = path.stat().st_size
    with pytest.raises(NotFoundError, match="missing"):
        EventFileWriter.reopen(tmp_path / "missing")
    with pytest.raises(InvalidArgumentError, match=f"{size + 1}.*{size}"):
        EventFileWriter.reopen(path, size=size + 1)
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(InvalidArgumentError, match="size"):
            EventFileWriter.reopen(path, size=bad)
    with pytest.raises(InvalidArgumentError, match="not a file"):
        EventFileWriter.reopen(tmp_path)
    assert path.stat().st_size == size  # nothing was cut
