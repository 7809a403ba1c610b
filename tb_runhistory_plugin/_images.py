"""Encode numpy arrays as PNG and recognise image bytes, without Pillow or matplotlib."""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidArgumentError

_MAX_SIDE = 16384  # pixels per side; larger images are almost always a mistake
_ZLIB_LEVEL = 1  # fastest; logging latency matters more than a few percent of size
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)
# SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers with no length field: TEM, RST0..RST7, SOI.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


@dataclass(frozen=True)
class ImageInfo:
    """What sniffing found: the MIME type and pixel size of an encoded image."""

    content_type: str
    width: int
    height: int


def encode_png(array: Any) -> bytes:
    """Encode an HxW, HxWx1, HxWx3 or HxWx4 array (uint8, bool, float in [0, 1], small ints) as PNG.

    Raises:
        InvalidArgumentError: for a wrong shape, an unsupported dtype or out-of-range values.
    """
    try:
        arr = np.asarray(array)
    except ValueError as e:  # ragged nested lists
        raise InvalidArgumentError(f"image is not a rectangular array: {e}") from None
    shape = arr.shape  # as given, for messages
    if arr.ndim == 2:
        arr = arr[:, :, np.newaxis]
    if arr.ndim != 3 or arr.shape[2] not in _COLOR_TYPES:
        raise InvalidArgumentError(f"image shape {shape} is not HxW, HxWx1, HxWx3 or HxWx4")
    height, width, channels = arr.shape
    if height == 0 or width == 0:
        raise InvalidArgumentError(f"image shape {shape} is empty")
    if height > _MAX_SIDE or width > _MAX_SIDE:
        raise InvalidArgumentError(f"image shape {shape} exceeds {_MAX_SIDE} pixels a side")
    pixels = _to_uint8(arr)
    # Each scanline is prefixed by its filter type; 0 (none) keeps encoding a single copy.
    raw = np.empty((height, 1 + width * channels), dtype=np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = pixels.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), _ZLIB_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Convert pixel values to uint8, rejecting anything that would need clipping."""
    kind = arr.dtype.kind
    if arr.dtype == np.uint8:
        return arr
    if kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            lo, hi = float(np.min(arr)), float(np.max(arr))  # NaN propagates, so it is caught below
        if not (0.0 <= lo and hi <= 1.0):
            raise InvalidArgumentError(f"float image values must be in [0, 1], found min={lo!r} max={hi!r}")
        return np.rint(arr.astype(np.float64) * 255.0).astype(np.uint8)
    if kind in "iu":
        lo, hi = int(np.min(arr)), int(np.max(arr))
        if lo < 0 or hi > 255:
            raise InvalidArgumentError(f"{arr.dtype} image values must be in 0..255, found min={lo} max={hi}")
        return arr.astype(np.uint8)
    raise InvalidArgumentError(f"image dtype {arr.dtype} is not bool, integer or float")


def _chunk(kind: bytes, data: bytes) -> bytes:
    """Frame one PNG chunk: length, type, data, CRC of type and data."""
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def sniff_image(data: bytes) -> ImageInfo:
    """Identify PNG, JPEG, GIF, WebP or BMP bytes and read their pixel size from the header.

    Raises:
        InvalidArgumentError: for unrecognised, truncated or zero-sized images.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidArgumentError(f"image data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if data.startswith(_PNG_SIGNATURE):
        info = _sniff_png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        info = _sniff_jpeg(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        info = ImageInfo("image/gif", *struct.unpack("<HH", _need(data, 6, 4, "GIF")))
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        info = _sniff_webp(data)
    elif data[:2] == b"BM":
        info = _sniff_bmp(data)
    else:
        raise InvalidArgumentError(f"unrecognised image data starting {data[:12]!r} ({len(data)} bytes)")
    if info.width <= 0 or info.height <= 0:
        raise InvalidArgumentError(f"{info.content_type} header gives an empty size {info.width}x{info.height}")
    return info


def _need(data: bytes, offset: int, length: int, fmt: str) -> bytes:
    """Return data[offset:offset+length], or raise if the data stops short."""
    if len(data) < offset + length:
        raise InvalidArgumentError(f"truncated {fmt} data: {len(data)} bytes, header needs {offset + length}")
    return data[offset : offset + length]


def _sniff_png(data: bytes) -> ImageInfo:
    """Read the size from the IHDR chunk, which the PNG spec requires to come first."""
    if _need(data, 12, 4, "PNG") != b"IHDR":
        raise InvalidArgumentError(f"PNG data has {data[12:16]!r} where IHDR must be")
    width, height = struct.unpack(">II", _need(data, 16, 8, "PNG"))
    return ImageInfo("image/png", width, height)


def _sniff_jpeg(data: bytes) -> ImageInfo:
    """Walk the marker segments up to the first start-of-frame, which holds the size."""
    pos = 2
    while True:
        if _need(data, pos, 1, "JPEG") != b"\xff":
            raise InvalidArgumentError(f"JPEG data has no marker at byte {pos}")
        while _need(data, pos + 1, 1, "JPEG") == b"\xff":  # fill bytes may pad markers
            pos += 1
        marker = data[pos + 1]
        pos += 2
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # EOI or start of scan: no frame header follows
            raise InvalidArgumentError(f"JPEG data has no frame header before marker 0x{marker:02X}")
        (length,) = struct.unpack(">H", _need(data, pos, 2, "JPEG"))
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", _need(data, pos + 3, 4, "JPEG"))
            return ImageInfo("image/jpeg", width, height)
        if length < 2:
            raise InvalidArgumentError(f"JPEG segment at byte {pos} has bad length {length}")
        pos += length


def _sniff_webp(data: bytes) -> ImageInfo:
    """Read the size from the first chunk: lossy (VP8), lossless (VP8L) or extended (VP8X)."""
    fourcc = _need(data, 12, 4, "WebP")
    if fourcc == b"VP8 ":
        # A 3-byte frame tag, then the key-frame start code, then 14-bit sizes.
        if _need(data, 23, 3, "WebP") != b"\x9d\x01\x2a":
            raise InvalidArgumentError("WebP VP8 chunk has no key-frame start code")
        width, height = struct.unpack("<HH", _need(data, 26, 4, "WebP"))
        return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
    if fourcc == b"VP8L":
        if _need(data, 20, 1, "WebP") != b"\x2f":
            raise InvalidArgumentError("WebP VP8L chunk has no lossless signature")
        (bits,) = struct.unpack("<I", _need(data, 21, 4, "WebP"))
        return ImageInfo("image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if fourcc == b"VP8X":
        sizes = _need(data, 24, 6, "WebP")  # after 1 flag byte and 3 reserved bytes
        width = int.from_bytes(sizes[:3], "little") + 1
        height = int.from_bytes(sizes[3:], "little") + 1
        return ImageInfo("image/webp", width, height)
    raise InvalidArgumentError(f"WebP data has unknown first chunk {fourcc!r}")


def _sniff_bmp(data: bytes) -> ImageInfo:
    """Read the size from the DIB header; the old OS/2 core header uses 16-bit fields."""
    (header_size,) = struct.unpack("<I", _need(data, 14, 4, "BMP"))
    if header_size == 12:
        width, height = struct.unpack("<HH", _need(data, 18, 4, "BMP"))
    elif header_size >= 16:
        width, height = struct.unpack("<ii", _need(data, 18, 8, "BMP"))
    else:
        raise InvalidArgumentError(f"BMP data has unknown DIB header size {header_size}")
    return ImageInfo("image/bmp", width, abs(height))  # negative height means top-down rows


def figure_to_png(fig: Any) -> bytes:
    """Render a matplotlib-like figure (anything with ``savefig(file, format="png")``) to PNG.

    The figure is left open: closing it is the caller's business.

    Raises:
        InvalidArgumentError: if ``fig`` has no ``savefig`` or does not write a PNG.
    """
    savefig = getattr(fig, "savefig", None)
    if not callable(savefig):
        raise InvalidArgumentError(f"{type(fig).__name__} object has no savefig(); expected a figure")
    buffer = io.BytesIO()
    savefig(buffer, format="png")
    data = buffer.getvalue()
    info = sniff_image(data)
    if info.content_type != "image/png":
        raise InvalidArgumentError(f"{type(fig).__name__}.savefig(format='png') wrote {info.content_type}, not PNG")
    return data


def load_image(path: str | os.PathLike[str]) -> tuple[bytes, ImageInfo]:
    """Read an image file and return its bytes with what sniffing found.

    Raises:
        InvalidArgumentError: if the file cannot be read or is not a supported image.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgumentError(f"image path must be a str or path, not {path!r}")
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise InvalidArgumentError(f"cannot read image file {name!r}: {reason}") from None
    try:
        return data, sniff_image(data)
    except InvalidArgumentError as e:
        raise InvalidArgumentError(f"{name!r} is not a supported image: {e}") from None
