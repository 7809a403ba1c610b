"""The event-file writer, checked against TensorBoard's own readers and a real TensorBoard server."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import struct
import time
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from tensorboard import default
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_masked_crc32c
from tensorboard.plugins.hparams import summary_v2 as hparams_summary
from tensorboard.plugins.scalar.summary_v2 import scalar_pb
from tensorboard.util import tensor_util
from tensorboard_server import serve_tensorboard

from tb_runhistory_plugin.errors import InvalidArgumentError, NotFoundError, StoreError
from tb_runhistory_plugin.export import _eventfile, _tfrecord
from tb_runhistory_plugin.export._eventfile import (
    EventFileCorruptError,
    EventFileTruncatedError,
    EventFileWriter,
    iter_records,
)

WALL0 = 1_700_000_000.123456789
TAGS = ["loss", "train/acc/top-1", "über/λ 学习率"]
SPECIAL = np.array([0.1, 1 / 3, np.nan, np.inf, -np.inf, -0.0, 1e300, -1e-320, 65504.0, 123456789.123456789])


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([200, 30, 90]) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def load_events(path: Path) -> list[event_pb2.Event]:
    """All events of one file, through TensorBoard's own (data-migrating, CRC-checking) loader."""
    return list(event_file_loader.EventFileLoader(str(path)).Load())


def raw_events(path: Path) -> list[event_pb2.Event]:
    """All events of one file, parsed without TensorBoard's migrations."""
    return [event_pb2.Event.FromString(r) for r in event_file_loader.RawEventFileLoader(str(path)).Load()]


def only_file(logdir: Path) -> Path:
    """The single event file in a directory."""
    (path,) = logdir.iterdir()
    return path


def same_float(a: float, b: float) -> bool:
    """Bitwise-equal floats (so NaN equals NaN and -0.0 differs from 0.0)."""
    return struct.pack("<d", a) == struct.pack("<d", b)


def points(n: int, *, seed: int = 0, start: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Increasing steps, irregular float64 wall times, and values including the special ones."""
    rng = np.random.default_rng(seed)
    steps = start + np.cumsum(rng.integers(1, 400, n)).astype(np.int64)
    walls = WALL0 + np.cumsum(rng.random(n) * 7.3)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)
    values[: len(SPECIAL)] = SPECIAL[: min(n, len(SPECIAL))]
    return steps, walls, values


def expected_event(tag: str, step: int, wall: float, value: float, *, first: bool) -> event_pb2.Event:
    """What tf.compat.v1's scalar summary gives for one point (a float32 ``simple_value``), scalar_pb's metadata on the first only."""
    with np.errstate(over="ignore"):  # float32, as scalar_pb and every simple_value writer rounds
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(np.float32(value)))])
    if first:
        summary.value[0].metadata.CopyFrom(scalar_pb(tag, 0.0).value[0].metadata)
        summary.value[0].metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
    return event_pb2.Event(wall_time=wall, step=step, summary=summary)


def assert_scalar_events(events: list[event_pb2.Event], expected: list[tuple[str, int, float, float]]) -> None:
    """Events equal the simple_value encoding, point by point, with metadata exactly on each tag's first."""
    assert len(events) == len(expected)
    seen = set()
    for event, (tag, step, wall, value) in zip(events, expected):
        want = expected_event(tag, step, wall, value, first=tag not in seen)
        seen.add(tag)
        assert event.summary.value[0].WhichOneof("value") == "simple_value"
        got_value = event.summary.value[0].simple_value
        want_value = want.summary.value[0].simple_value
        assert same_float(got_value, want_value), (tag, step, got_value, want_value)
        if math.isnan(want_value):  # NaN != NaN inside proto equality: compare the rest
            for e in (event, want):
                e.summary.value[0].ClearField("simple_value")
        assert event == want, (event, want)
        assert same_float(event.wall_time, wall)


# --- file layout ---------------------------------------------------------------------------------


def test_file_name_and_version_record(tmp_path: Path) -> None:
    logdir = tmp_path / "new" / "run"
    with EventFileWriter(logdir, wall_time=WALL0) as writer:
        pass
    host = re.escape(socket.gethostname())
    assert re.fullmatch(rf"events\.out\.tfevents\.1700000000\.{host}\.{os.getpid()}\.\d+", writer.path.name)
    assert writer.path.parent == logdir and writer.closed
    (first,) = raw_events(writer.path)
    assert first.file_version == "brain.Event:2"
    assert same_float(first.wall_time, WALL0)


def test_each_writer_gets_a_fresh_file(tmp_path: Path) -> None:
    with EventFileWriter(tmp_path, wall_time=WALL0) as a, EventFileWriter(tmp_path, wall_time=WALL0) as b:
        a.write_scalars("x", [1], [WALL0], [1.0])
        b.write_scalars("x", [2], [WALL0], [2.0])
    assert a.path != b.path
    assert [e.step for e in load_events(a.path)][1:] == [1]
    assert [e.step for e in load_events(b.path)][1:] == [2]


# --- scalars -------------------------------------------------------------------------------------


def test_scalars_equal_tensorboards_own_encoding(tmp_path: Path) -> None:
    expected = []
    with EventFileWriter(tmp_path) as writer:
        for i, tag in enumerate(TAGS):
            steps, walls, values = points(300, seed=i)
            writer.write_scalars(tag, steps, walls, values)
            expected += zip([tag] * 300, steps.tolist(), walls.tolist(), values.tolist())
        # A second batch for a tag already written: no metadata again.
        steps, walls, values = points(50, seed=9, start=int(steps[-1]))
        writer.write_scalars(TAGS[-1], steps, walls, values)
        expected += zip([TAGS[-1]] * 50, steps.tolist(), walls.tolist(), values.tolist())
    assert_scalar_events(raw_events(writer.path)[1:], expected)
    values = [e.summary.value[0] for e in raw_events(writer.path)[1:]]
    assert [v.tag for v in values if v.HasField("metadata")] == TAGS


def test_scalars_through_event_file_loader_are_float32_exact(tmp_path: Path) -> None:
    steps = np.array([0, 1, 127, 128, 16383, 16384, 2**31, 2**53 + 1, 2**62, 2**63 - 1], dtype=np.int64)
    walls = WALL0 + np.arange(10) * 0.001
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("a/b", steps, walls, SPECIAL)
    events = load_events(writer.path)[1:]
    assert [e.step for e in events] == steps.tolist()
    assert all(same_float(e.wall_time, w) for e, w in zip(events, walls.tolist()))
    got = np.array([tensor_util.make_ndarray(e.summary.value[0].tensor).item() for e in events])
    with np.errstate(over="ignore"):
        want = SPECIAL.astype(np.float32).astype(np.float64)
    assert got.tobytes() == want.tobytes()  # bitwise: NaN, +/-inf, -0.0, overflow to inf, underflow to -0
    assert events[0].summary.value[0].metadata.plugin_data.plugin_name == "scalars"


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(np.arange(0, 20_000, 7), id="growing-varints"),
        pytest.param(np.array([-1, 0, -(2**63), 5, 2**40, 300] * 30), id="alternating-varints"),
    ],
)
def test_scalars_any_int64_steps(tmp_path: Path, steps: np.ndarray) -> None:
    # The second case has more size changes than _MAX_RUNS, so it takes the scatter path.
    assert (np.diff(_eventfile._varint_sizes(steps.astype(np.int64).view(np.uint64))) != 0).sum() > (_eventfile._MAX_RUNS if steps.min() < 0 else 0)
    walls = WALL0 + np.arange(len(steps), dtype=np.float64)
    values = np.linspace(-5, 5, len(steps))
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("s", steps, walls, values)
    expected = list(zip(["s"] * len(steps), steps.tolist(), walls.tolist(), values.tolist()))
    assert_scalar_events(raw_events(writer.path)[1:], expected)


def test_scalars_split_into_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Batches of 7 points, with varint sizes changing inside and across batches.
    monkeypatch.setattr(_eventfile, "_POINTS_PER_BATCH", 7)
    steps = np.array([*range(120, 140), *range(16380, 16390)], dtype=np.int64)
    walls = WALL0 + np.arange(len(steps)) * 0.25
    values = np.cos(steps.astype(np.float64))
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("b", steps, walls, values)
    expected = list(zip(["b"] * len(steps), steps.tolist(), walls.tolist(), values.tolist()))
    assert_scalar_events(raw_events(writer.path)[1:], expected)


def test_records_carry_tensorboards_masked_crc(tmp_path: Path) -> None:
    # An oracle independent of our CRC code: TensorBoard's pure-Python masked_crc32c.
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("t", np.array([-3, 1, 200, 70000, 2**50]), WALL0 + np.arange(5.0), np.arange(5.0))
        writer.write_text("note", 1, WALL0, "hello")
    data = writer.path.read_bytes()
    offset, count = 0, 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        assert struct.unpack_from("<I", data, offset + 8)[0] == tb_masked_crc32c(data[offset : offset + 8])
        body = data[offset + 12 : offset + 12 + length]
        assert struct.unpack_from("<I", data, offset + 12 + length)[0] == tb_masked_crc32c(body)
        offset, count = offset + 16 + length, count + 1
    assert offset == len(data) and count == 7


def test_python_crc_fallback_matches() -> None:
    assert _tfrecord._crc32c_python(b"123456789") == 0xE3069283  # the CRC-32C check value
    blob = np.random.default_rng(1).bytes(3000)
    assert _tfrecord._crc32c_python(blob) == _tfrecord._crc32c(blob)


def test_empty_batch_writes_nothing(tmp_path: Path) -> None:
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("x", np.array([], dtype=np.int64), [], [])
        writer.write_scalars("x", [3], [WALL0], [1.5])
    (event,) = load_events(writer.path)[1:]
    assert event.step == 3 and event.summary.value[0].HasField("metadata")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("", [1], [WALL0], [1.0]), "tag must be a non-empty str"),
        (("bad\udcff", [1], [WALL0], [1.0]), "not encodable"),
        (("x", [1, 2], [WALL0], [1.0]), r"differ in length: 2, 1, 1"),
        (("x", [1.5], [WALL0], [1.0]), "steps must have a dtype"),
        (("x", np.array([2**63], dtype=np.uint64), [WALL0], [1.0]), "9223372036854775808 .* outside int64"),
        (("x", [1], [float("nan")], [1.0]), "must be finite, got nan"),
        (("x", [[1]], [WALL0], [1.0]), r"steps must be 1-D, got shape \(1, 1\)"),
        (("x", [1], [WALL0], ["a"]), "values must have a dtype"),
    ],
)
def test_scalar_arguments_are_checked(tmp_path: Path, args: tuple, match: str) -> None:
    with EventFileWriter(tmp_path) as writer:
        with pytest.raises(InvalidArgumentError, match=match):
            writer.write_scalars(*args)
    assert len(load_events(writer.path)) == 1  # nothing half-written


def test_write_after_close_is_refused(tmp_path: Path) -> None:
    writer = EventFileWriter(tmp_path)
    writer.close()
    writer.close()
    with pytest.raises(InvalidArgumentError, match="already closed"):
        writer.write_scalars("x", [1], [WALL0], [1.0])


# --- directories ---------------------------------------------------------------------------------


def test_logdir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "plain"
    target.write_text("x")
    for logdir in (target, target / "run"):
        with pytest.raises(InvalidArgumentError, match=re.escape(repr(str(logdir)))):
            EventFileWriter(logdir)


def test_logdir_that_cannot_be_created(tmp_path: Path) -> None:
    # Root ignores permission bits, so use a name no Linux file system accepts.
    logdir = tmp_path / ("n" * 300) / "run"
    with pytest.raises(StoreError, match="cannot create event file directory"):
        EventFileWriter(logdir)


# --- other summaries -----------------------------------------------------------------------------


def test_histogram_round_trip(tmp_path: Path) -> None:
    buckets = np.array([[-1.0, 0.0, 3.0], [0.0, 0.5, 0.0], [0.5, 2.0, 7.0]])
    with EventFileWriter(tmp_path) as writer:
        writer.write_histogram("weights/w", 1, WALL0, buckets=buckets)
        writer.write_histogram("weights/w", 2, WALL0 + 1, edges=[-1.0, 0.0, 0.5, 2.0], counts=[3, 0, 7])
        with pytest.raises(InvalidArgumentError, match="either buckets or edges"):
            writer.write_histogram("h", 1, WALL0)
        with pytest.raises(InvalidArgumentError, match=r"k\+1 edges for k counts"):
            writer.write_histogram("h", 1, WALL0, edges=[0, 1], counts=[1, 2])
        with pytest.raises(InvalidArgumentError, match="negative count: -1.0"):
            writer.write_histogram("h", 1, WALL0, buckets=[[0, 1, -1]])
    events = load_events(writer.path)[1:]
    assert [(e.step, e.wall_time) for e in events] == [(1, WALL0), (2, WALL0 + 1)]
    for event in events:
        np.testing.assert_array_equal(tensor_util.make_ndarray(event.summary.value[0].tensor), buckets)
    assert events[0].summary.value[0].metadata.plugin_data.plugin_name == "histograms"
    assert not raw_events(writer.path)[2].summary.value[0].HasField("metadata")


def test_image_round_trip(tmp_path: Path) -> None:
    image = png(3, 2)
    with EventFileWriter(tmp_path) as writer:
        writer.write_image("samples/x", 4, WALL0, image)
        writer.write_image("samples/x", 5, WALL0, b"\xff\xd8 jpeg", width=8, height=6)
        with pytest.raises(InvalidArgumentError, match="is a 3x2 PNG, not 2x3"):
            writer.write_image("samples/x", 6, WALL0, image, width=2, height=3)
        with pytest.raises(InvalidArgumentError, match="width of image .* must be a positive int, got None"):
            writer.write_image("samples/x", 6, WALL0, b"GIF89a")
    raw = raw_events(writer.path)[1]
    assert raw.summary.value[0].image.encoded_image_string == image
    migrated = load_events(writer.path)[1:]  # the loader's view: the images plugin's blob sequence
    assert [list(e.summary.value[0].tensor.string_val) for e in migrated] == [
        [b"3", b"2", image],
        [b"8", b"6", b"\xff\xd8 jpeg"],
    ]
    assert migrated[0].summary.value[0].metadata.plugin_data.plugin_name == "images"


def test_text_round_trip(tmp_path: Path) -> None:
    with EventFileWriter(tmp_path) as writer:
        writer.write_text("notes/ü", 3, WALL0, "**bold** 学习")
        with pytest.raises(InvalidArgumentError, match="must be a str, got int"):
            writer.write_text("notes/ü", 4, WALL0, 5)  # type: ignore[arg-type]
    (event,) = load_events(writer.path)[1:]
    value = event.summary.value[0]
    assert (event.step, value.tag, value.metadata.plugin_data.plugin_name) == (3, "notes/ü", "text")
    assert tensor_util.make_ndarray(value.tensor).item().decode("utf-8") == "**bold** 学习"


def test_hparams_summary_round_trip_leaves_caller_proto_alone(tmp_path: Path) -> None:
    config = hparams_summary.hparams_config_pb(hparams=[], metrics=[])
    session = hparams_summary.hparams_pb({"lr": 0.01, "opt": "adam"}, trial_id="t1", start_time_secs=1)
    with EventFileWriter(tmp_path) as writer:
        writer.write_summary_pb(config, 0, WALL0)
        writer.write_summary_pb(session, 0, WALL0)
        writer.write_summary_pb(session, 1, WALL0)
        with pytest.raises(InvalidArgumentError, match="step must be an int, got 1.0"):
            writer.write_summary_pb(session, 1.0, WALL0)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="expected a Summary proto, got dict"):
            writer.write_summary_pb({}, 1, WALL0)  # type: ignore[arg-type]
    assert session.value[0].HasField("metadata")
    events = raw_events(writer.path)[1:]
    assert [e.summary.value[0].tag for e in events] == [config.value[0].tag, session.value[0].tag, session.value[0].tag]
    assert events[1].summary == session
    assert not events[2].summary.value[0].HasField("metadata")


# --- reading back --------------------------------------------------------------------------------


def record_offsets(path: Path) -> list[int]:
    """Byte offset of each record, by walking the length fields."""
    data, offsets, offset = path.read_bytes(), [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 16 + struct.unpack_from("<Q", data, offset)[0]
    return offsets


@pytest.fixture
def five_records(tmp_path: Path) -> Path:
    with EventFileWriter(tmp_path) as writer:
        writer.write_scalars("x", [1, 2, 3, 4], WALL0 + np.arange(4.0), [1.0, 2.0, 3.0, 4.0])
    return writer.path


def test_iter_records_reads_what_was_written(five_records: Path) -> None:
    events = [event_pb2.Event.FromString(r) for r in iter_records(five_records)]
    assert [e.step for e in events] == [0, 1, 2, 3, 4] and events[0].file_version == "brain.Event:2"


@pytest.mark.parametrize(("record", "delta", "reason"), [(2, 12 + 5, "data checksum"), (3, 1, "length checksum")])
def test_iter_records_names_file_and_offset_of_corruption(five_records: Path, record: int, delta: int, reason: str) -> None:
    offset = record_offsets(five_records)[record]
    data = bytearray(five_records.read_bytes())
    data[offset + delta] ^= 0x40
    five_records.write_bytes(bytes(data))
    where = f"{re.escape(repr(str(five_records)))} at byte offset {offset}: .*{reason}"
    with pytest.raises(EventFileCorruptError, match=where) as info:
        list(iter_records(five_records))
    assert not isinstance(info.value, EventFileTruncatedError)
    assert (info.value.path, info.value.offset) == (str(five_records), offset)


@pytest.mark.parametrize("keep", [5, 12, 20])
def test_iter_records_reports_truncation_distinctly(five_records: Path, keep: int) -> None:
    last = record_offsets(five_records)[-1]
    five_records.write_bytes(five_records.read_bytes()[: last + keep])
    records = []
    with pytest.raises(EventFileTruncatedError, match=f"at byte offset {last}: file ends") as info:
        records.extend(iter_records(five_records))
    assert len(records) == 4 and info.value.offset == last


def test_iter_records_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no event file"):
        list(iter_records(tmp_path / "nope"))


# --- a real TensorBoard --------------------------------------------------------------------------


def tensorboard(logdir: Path, load_fast: str):
    """TensorBoard's own plugins in-process on a free port; yields its base URL."""
    # No --samples_per_plugin: "scalars=0" makes both loaders serve zero points, not all of them.
    return serve_tensorboard(logdir, "--load_fast", load_fast, plugins=default.get_static_plugins())


def get_json(url: str, route: str, **query: object):
    """GET a TensorBoard route and decode its JSON."""
    with urllib.request.urlopen(f"{url}data/plugin/{route}?{urllib.parse.urlencode(query)}", timeout=30) as response:
        return json.loads(response.read())


def wait_for(fetch, ready, seconds: float = 30.0):
    """Poll until ready(result); the data server loads in the background."""
    deadline = time.monotonic() + seconds
    while True:
        result = fetch()
        if ready(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.mark.parametrize("load_fast", ["true", "false"], ids=["rust-data-server", "python-loader"])
def test_tensorboard_serves_what_was_written(tmp_path: Path, load_fast: str) -> None:
    tag = "eval/损失"
    steps = np.array([0, 1, 2, 3, 4, 5, 6, 7, 2**40, 2**62], dtype=np.int64)
    walls = WALL0 + np.arange(10) * 1.000001
    with EventFileWriter(tmp_path / "run/a") as writer:
        writer.write_scalars(tag, steps, walls, SPECIAL)
        writer.write_image("img", 3, WALL0, png(4, 3))
        writer.write_histogram("hist", 3, WALL0, edges=[0.0, 0.25, 1.0], counts=[2, 5])
        writer.write_text("note", 3, WALL0, "hello *world*")
    with tensorboard(tmp_path, load_fast) as url:
        served = wait_for(lambda: get_json(url, "scalars/scalars", run="run/a", tag=tag), lambda r: len(r) == 10)
        images = get_json(url, "images/images", run="run/a", tag="img", sample=0)
        with urllib.request.urlopen(f"{url}data/plugin/images/individualImage?{images[0]['query']}") as response:
            image = response.read()
        hist = get_json(url, "histograms/histograms", run="run/a", tag="hist")
        text = get_json(url, "text/text", run="run/a", tag="note")
    special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    with np.errstate(over="ignore"):
        want = SPECIAL.astype(np.float32).tolist()
    assert [s for _, s, _ in served] == steps.tolist()
    assert all(same_float(w, x) for (w, _, _), x in zip(served, walls.tolist()))
    got = [special.get(v, v) for _, _, v in served]
    assert all(same_float(float(g), w) for g, w in zip(got, want)), (got, want)
    assert image == png(4, 3) and images[0]["step"] == 3
    assert hist[0][1] == 3 and hist[0][2] == [[0.0, 0.25, 2.0], [0.25, 1.0, 5.0]]
    assert text[0]["step"] == 3 and "<em>world</em>" in text[0]["text"]
