"""run.upload_file takes a path or a binary file object, on every backend."""

from __future__ import annotations

import io

import pytest

from tb_runhistory_plugin import Experiment
from tb_runhistory_plugin.errors import InvalidArgumentError

PAYLOAD = bytes(range(256)) * 40 + b"\x00tail"


def test_binary_streams_are_uploaded_from_their_position(store, tmp_path):
    run = Experiment("streams", store=store).start_logging()
    run.upload_file("memory.bin", io.BytesIO(PAYLOAD))
    (tmp_path / "disk.bin").write_bytes(PAYLOAD)
    with open(tmp_path / "disk.bin", "rb") as handle:
        run.upload_file("disk.bin", handle)
        assert not handle.closed  # the caller's object: left open
    with open(tmp_path / "disk.bin", "rb", buffering=0) as raw:
        raw.seek(256)
        run.upload_file("rest.bin", raw)
    run.upload_file("empty.bin", io.BytesIO())
    run.upload_file("path.bin", tmp_path / "disk.bin")
    assert run.get_file_names() == ["disk.bin", "empty.bin", "memory.bin", "path.bin", "rest.bin"]
    assert store.read_file(run.id, "memory.bin") == PAYLOAD
    assert store.read_file(run.id, "disk.bin") == PAYLOAD
    assert store.read_file(run.id, "rest.bin") == PAYLOAD[256:]
    assert store.read_file(run.id, "empty.bin") == b""
    run.download_file("memory.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == PAYLOAD
    run.complete()


def test_text_streams_and_other_objects_are_refused(store, tmp_path):
    run = Experiment("streams", store=store).start_logging()
    with pytest.raises(InvalidArgumentError, match=r"text.*'rb'"):
        run.upload_file("a.txt", io.StringIO("text"))
    (tmp_path / "t.txt").write_text("text")
    with open(tmp_path / "t.txt") as handle, pytest.raises(InvalidArgumentError, match=r"text.*'rb'"):
        run.upload_file("a.txt", handle)
    with pytest.raises(InvalidArgumentError, match="int"):
        run.upload_file("a.txt", 42)
    with pytest.raises(InvalidArgumentError, match="not a file"):
        run.upload_file("a.txt", tmp_path)
    assert run.get_file_names() == []
    run.complete()
