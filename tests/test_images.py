"""Tests for PNG encoding and image sniffing; Pillow is only the independent referee."""

from __future__ import annotations

import io
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from tb_runhistory_plugin._images import (
    ImageInfo,
    encode_png,
    figure_to_png,
    load_image,
    sniff_image,
)
from tb_runhistory_plugin.errors import InvalidArgumentError

PIL_Image = pytest.importorskip("PIL.Image")

_RNG = np.random.default_rng(20240601)


def _decode(png: bytes) -> np.ndarray:
    """Decode PNG bytes with Pillow into an array, failing on any CRC or zlib error."""
    with PIL_Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        image.load()
        return np.asarray(image)


def _pillow_bytes(image, fmt: str, **options) -> bytes:
    """Save a Pillow image to bytes in the given format."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --- encode_png: pixels survive exactly -------------------------------------------------


@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 1), (7, 5, 3), (7, 5, 4), (1, 1), (1, 9, 3)])
def test_encode_uint8_round_trips_every_shape(shape):
    pixels = _RNG.integers(0, 256, size=shape, dtype=np.uint8)
    decoded = _decode(encode_png(pixels))
    expected = pixels[:, :, 0] if pixels.ndim == 3 and shape[2] == 1 else pixels
    assert decoded.shape == expected.shape
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_encode_bool_maps_to_0_and_255(channels):
    mask = _RNG.random((6, 4, channels)) > 0.5
    decoded = _decode(encode_png(mask)).reshape(6, 4, channels)
    np.testing.assert_array_equal(decoded, np.where(mask, 255, 0))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_encode_float_scales_and_rounds(dtype, channels):
    values = _RNG.random((5, 8, channels)).astype(dtype)
    values[0, 0, 0], values[0, 1, 0] = 0.0, 1.0  # the exact ends of the range are allowed
    decoded = _decode(encode_png(values)).reshape(5, 8, channels)
    expected = np.round(values.astype(np.float64) * 255).astype(np.uint8)
    np.testing.assert_array_equal(decoded, expected)


def test_encode_float_rounds_to_nearest():
    values = np.array([[0.0, 0.2, 0.5, 0.998, 1.0]])
    np.testing.assert_array_equal(_decode(encode_png(values)), [[0, 51, 128, 254, 255]])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint64])
def test_encode_other_integers_in_range(dtype):
    low = 0
    high = 127 if dtype == np.int8 else 255
    values = _RNG.integers(low, high + 1, size=(4, 3, 3)).astype(dtype)
    values[0, 0, 0], values[0, 0, 1] = low, high
    np.testing.assert_array_equal(_decode(encode_png(values)), values.astype(np.uint8))


def test_encode_accepts_nested_lists_and_non_contiguous_views():
    assert _decode(encode_png([[0, 128], [255, 7]])).tolist() == [[0, 128], [255, 7]]
    base = _RNG.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
    view = base[::2, ::-3].transpose(1, 0, 2)
    np.testing.assert_array_equal(_decode(encode_png(view)), view)


def test_encode_largest_allowed_side():
    strip = np.zeros((1, 16384), dtype=np.uint8)
    assert sniff_image(encode_png(strip)) == ImageInfo("image/png", 16384, 1)


def test_encode_writes_well_formed_chunks():
    pixels = _RNG.integers(0, 256, size=(3, 2, 4), dtype=np.uint8)
    png = encode_png(pixels)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (2, 3, 8, 6, 0, 0, 0)
    raw = np.frombuffer(zlib.decompress(chunks[1][1]), dtype=np.uint8).reshape(3, 1 + 2 * 4)
    assert not raw[:, 0].any()  # filter type 0 on every row
    np.testing.assert_array_equal(raw[:, 1:].reshape(3, 2, 4), pixels)


# --- encode_png: bad input names the offending value -----------------------------------


@pytest.mark.parametrize(
    "shape",
    [(5,), (2, 2, 2), (2, 2, 5), (2, 2, 3, 1), (0, 5), (5, 0, 3), (16385, 1), (1, 16385, 3)],
)
def test_encode_rejects_bad_shapes(shape):
    with pytest.raises(InvalidArgumentError, match=re.escape(str(shape))):
        encode_png(np.zeros(shape, dtype=np.uint8))


def test_encode_rejects_scalar_and_ragged_input():
    with pytest.raises(InvalidArgumentError, match=r"\(\)"):
        encode_png(np.uint8(3))
    with pytest.raises(InvalidArgumentError, match="rectangular"):
        encode_png([[1, 2], [3]])


@pytest.mark.parametrize(
    ("bad", "named"),
    [(-0.25, "min=-0.25"), (1.5, "max=1.5"), (np.nan, "nan"), (np.inf, "max=inf")],
)
def test_encode_rejects_floats_outside_unit_range(bad, named):
    values = np.full((2, 2), 0.5)
    values[1, 1] = bad
    with pytest.raises(InvalidArgumentError, match=re.escape(named)):
        encode_png(values)


@pytest.mark.parametrize(("bad", "named"), [(-1, "min=-1"), (256, "max=256"), (70000, "max=70000")])
def test_encode_rejects_integers_outside_0_255(bad, named):
    values = np.full((2, 2), 9, dtype=np.int64)
    values[0, 1] = bad
    with pytest.raises(InvalidArgumentError, match=named):
        encode_png(values)


@pytest.mark.parametrize(
    "values",
    [
        np.zeros((2, 2), dtype=np.complex64),
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[None, 1], [2, 3]], dtype=object),
        np.zeros((2, 2), dtype="datetime64[s]"),
    ],
)
def test_encode_rejects_unsupported_dtypes(values):
    with pytest.raises(InvalidArgumentError, match=re.escape(str(values.dtype))):
        encode_png(values)


# --- sniff_image: real files written by Pillow -----------------------------------------


def _sample(mode: str, size=(37, 23)):
    """A noisy Pillow image, so lossy encoders cannot collapse it to something trivial."""
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = _RNG.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
    return PIL_Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode)


_PILLOW_CASES = [
    ("PNG", "L", {}, "image/png"),
    ("PNG", "RGBA", {}, "image/png"),
    ("JPEG", "RGB", {}, "image/jpeg"),
    ("JPEG", "L", {}, "image/jpeg"),
    ("JPEG", "RGB", {"progressive": True}, "image/jpeg"),  # SOF2 rather than SOF0
    ("JPEG", "RGB", {"exif": b"Exif\x00\x00" + b"\x00" * 300}, "image/jpeg"),  # APP1 first
    ("GIF", "RGB", {}, "image/gif"),
    ("WEBP", "RGB", {"lossless": False}, "image/webp"),  # VP8
    ("WEBP", "RGB", {"lossless": True}, "image/webp"),  # VP8L
    ("WEBP", "RGBA", {"lossless": False}, "image/webp"),  # VP8X, for the alpha chunk
    ("BMP", "RGB", {}, "image/bmp"),
    ("BMP", "L", {}, "image/bmp"),
]


@pytest.mark.parametrize(("fmt", "mode", "options", "content_type"), _PILLOW_CASES)
@pytest.mark.parametrize("size", [(37, 23), (1, 1), (300, 2)])
def test_sniff_pillow_files(fmt, mode, options, content_type, size):
    data = _pillow_bytes(_sample(mode, size), fmt, **options)
    assert sniff_image(data) == ImageInfo(content_type, *size)
    assert sniff_image(bytearray(data)) == sniff_image(memoryview(data))


def test_sniff_webp_chunk_kinds_are_all_covered():
    fourccs = {_pillow_bytes(_sample(mode), "WEBP", **options)[12:16] for fmt, mode, options, _ in _PILLOW_CASES if fmt == "WEBP"}
    assert fourccs == {b"VP8 ", b"VP8L", b"VP8X"}


def test_sniff_large_webp_and_jpeg_sizes():
    image = PIL_Image.new("RGB", (5000, 3001))
    for fmt in ("WEBP", "JPEG"):
        assert sniff_image(_pillow_bytes(image, fmt)).width == 5000
        assert sniff_image(_pillow_bytes(image, fmt)).height == 3001


def test_sniff_our_own_png():
    png = encode_png(np.zeros((4, 9, 3), dtype=np.uint8))
    assert sniff_image(png) == ImageInfo("image/png", 9, 4)


def _bmp(header_size: int, width: int, height: int) -> bytes:
    """Hand-build a BMP header, for layouts Pillow does not write."""
    if header_size == 12:
        dib = struct.pack("<IHHHH", 12, width, height, 1, 24)
    else:
        dib = struct.pack("<IiiHH", header_size, width, height, 1, 24).ljust(header_size, b"\0")
    return b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, 14 + len(dib)) + dib


def test_sniff_bmp_top_down_and_core_headers():
    assert sniff_image(_bmp(40, 10, -7)) == ImageInfo("image/bmp", 10, 7)
    assert sniff_image(_bmp(124, 3, 4)) == ImageInfo("image/bmp", 3, 4)
    assert sniff_image(_bmp(12, 640, 480)) == ImageInfo("image/bmp", 640, 480)


def test_sniff_jpeg_skips_fill_bytes_and_standalone_markers():
    jpeg = _pillow_bytes(_sample("RGB"), "JPEG")
    padded = jpeg[:2] + b"\xff\xff\xff\xd0" + jpeg[2:]  # fill bytes, then an RST marker
    assert sniff_image(padded) == ImageInfo("image/jpeg", 37, 23)


# --- sniff_image: bad input ------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello world, not an image", b"\x00" * 64, b"RIFF\0\0\0\0WAVE"])
def test_sniff_rejects_unknown_data(data):
    with pytest.raises(InvalidArgumentError, match=re.escape(repr(data[:12]))):
        sniff_image(data)


def test_sniff_rejects_non_bytes():
    with pytest.raises(InvalidArgumentError, match="str"):
        sniff_image("\x89PNG")  # type: ignore[arg-type]


@pytest.mark.parametrize(("fmt", "mode", "options", "content_type"), _PILLOW_CASES)
def test_sniff_prefixes_are_either_right_or_rejected(fmt, mode, options, content_type):
    data = _pillow_bytes(_sample(mode), fmt, **options)
    truncated = 0
    for end in range(len(data)):
        try:
            info = sniff_image(data[:end])
        except InvalidArgumentError:
            truncated += 1
        else:
            assert info == ImageInfo(content_type, 37, 23)
    assert truncated >= 10  # every format needs at least this much header


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0", "truncated PNG"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIDAT" + b"\0" * 17, "b'IDAT'"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR" + b"\0" * 17, "0x0"),
        (b"\xff\xd8\xff\xd9", "0xD9"),  # SOI then EOI: no frame
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "truncated JPEG"),
        (b"\xff\xd8\xff\xe0\x00\x01" + b"\0" * 20, "length 1"),
        (b"\xff\xd8\xff\xe0\x00\x04\0\0\x12", "no marker at byte 8"),
        (b"GIF89a\x01", "truncated GIF"),
        (b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0\0\0\0\0", "start code"),
        (b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x00\0\0\0\0", "signature"),
        (b"RIFF\0\0\0\0WEBPVP8X\0\0", "truncated WebP"),
        (b"RIFF\0\0\0\0WEBPALPH\0\0\0\0", "b'ALPH'"),
        (b"BM" + b"\0" * 12 + struct.pack("<I", 8), "header size 8"),
        (b"BM" + b"\0" * 12 + struct.pack("<I", 40) + b"\0", "truncated BMP"),
    ],
)
def test_sniff_rejects_broken_headers(data, named):
    with pytest.raises(InvalidArgumentError, match=re.escape(named)):
        sniff_image(data)


# --- figure_to_png ---------------------------------------------------------------------


class _FakeFigure:
    """Stands in for a matplotlib figure: records the call, writes fixed bytes."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.calls: list[dict] = []

    def savefig(self, file, **kwargs) -> None:
        self.calls.append(kwargs)
        file.write(self.payload)


def test_figure_to_png_uses_savefig():
    png = encode_png(np.zeros((3, 4), dtype=np.uint8))
    fig = _FakeFigure(png)
    assert figure_to_png(fig) == png
    assert fig.calls == [{"format": "png"}]


def test_figure_to_png_rejects_non_figures_and_non_png_output():
    with pytest.raises(InvalidArgumentError, match="int"):
        figure_to_png(42)
    with pytest.raises(InvalidArgumentError, match="image/jpeg"):
        figure_to_png(_FakeFigure(_pillow_bytes(_sample("RGB"), "JPEG")))
    with pytest.raises(InvalidArgumentError, match="unrecognised"):
        figure_to_png(_FakeFigure(b""))


def test_figure_to_png_with_real_matplotlib():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    assert sniff_image(figure_to_png(fig)) == ImageInfo("image/png", 100, 50)


def test_module_imports_neither_pillow_nor_matplotlib():
    code = "import sys, tb_runhistory_plugin._images; bad = {'PIL', 'matplotlib'} & {m.split('.')[0] for m in sys.modules}; assert not bad, bad"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


# --- load_image ------------------------------------------------------------------------


def test_load_image_reads_and_sniffs(tmp_path):
    path = tmp_path / "cat.webp"
    path.write_bytes(_pillow_bytes(_sample("RGB"), "WEBP"))
    data, info = load_image(path)
    assert data == path.read_bytes()
    assert info == ImageInfo("image/webp", 37, 23)
    assert load_image(str(path)) == (data, info)


def test_load_image_names_the_path(tmp_path):
    missing = tmp_path / "missing.png"
    with pytest.raises(InvalidArgumentError, match=re.escape(repr(str(missing)))):
        load_image(missing)
    with pytest.raises(InvalidArgumentError, match=re.escape(repr(str(tmp_path)))):
        load_image(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(InvalidArgumentError, match=re.escape(repr(str(text)))):
        load_image(text)
    with pytest.raises(InvalidArgumentError, match="42"):
        load_image(42)  # type: ignore[arg-type]
