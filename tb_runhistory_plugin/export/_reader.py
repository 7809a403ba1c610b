"""Reading event files that may be damaged: every intact record, and a typed problem for the rest.

``_tfrecord.iter_records`` stops at the first bad byte, as TensorBoard does. An importer should
not lose the rest of a file to one flipped bit, so here:

- a record whose data checksum fails is skipped (its length was verified, so the next record is
  known) and reported;
- a record whose length checksum fails makes the reader search forward for the next offset where
  a record header and its data both verify, report how many bytes were skipped, and go on;
- a run of zeros (a preallocated or cut-short file) is jumped over at memory speed, and a file
  whose rest is all zeros says so;
- a file that ends inside a record (often a writer that is still writing) is reported as
  truncated at the offset of that record; re-importing later picks up what was added.

Each problem is an ``EventFileCorruptError`` (or ``EventFileTruncatedError``) naming the file and
the byte offset of the first bad record.
"""

from __future__ import annotations

import mmap
import os
import re
import struct
from collections.abc import Iterator

from ._tfrecord import EventFileCorruptError, EventFileTruncatedError, _masked_crc

_HEADER = 12  # uint64 length + uint32 masked CRC
_FOOTER = 4  # uint32 masked CRC of the data
_ZERO_HEADER = bytes(_HEADER)
_NONZERO = re.compile(rb"[^\x00]")
_ZERO_BLOCK = 1 << 20  # bytes compared at once when skipping a run of zeros
_ZEROS = bytes(_ZERO_BLOCK)


def _record_at(view: mmap.mmap, offset: int, size: int) -> int | None:
    """The end offset of a fully valid record starting at ``offset``, else None."""
    if size - offset < _HEADER + _FOOTER:
        return None
    head = view[offset : offset + _HEADER]
    length, length_crc = struct.unpack("<QI", head)
    if _masked_crc(head[:8]) != length_crc:
        return None
    end = offset + _HEADER + length + _FOOTER
    if end > size:
        return None
    if _masked_crc(view[offset + _HEADER : end - _FOOTER]) != struct.unpack("<I", view[end - _FOOTER : end])[0]:
        return None
    return end


def _resync(view: mmap.mmap, start: int, size: int) -> int | None:
    """The next offset at or after ``start`` where a valid record begins, else None.

    Record lengths are far below 2**32, so a record header has four zero bytes at offsets 4..7:
    only those places are checksummed, which keeps the search fast. A header of twelve zero bytes
    is never valid (the masked CRC of zero is not zero), so a run of zeros (a preallocated or
    cut-short file) is jumped over in one regex search instead of checked byte by byte.
    """
    position = start
    while True:
        found = view.find(b"\x00\x00\x00\x00", position + 4)
        if found < 0:
            return None
        candidate = found - 4
        if candidate >= start and _record_at(view, candidate, size) is not None:
            return candidate
        position = candidate + 1
        if view[found : found + _HEADER] == _ZERO_HEADER:
            # The three candidates starting just before the zeros still get checked one by one.
            for early in range(max(start, position), found):
                if _record_at(view, early, size) is not None:
                    return early
            end = _zeros_end(view, found, size)
            if end == size:
                return None
            position = max(found, end - _HEADER + 1)  # the first header that includes the byte at `end`


def _zeros_end(view: mmap.mmap, start: int, size: int) -> int:
    """The offset of the first non-zero byte at or after ``start``, or ``size``."""
    position = start
    # Whole blocks compare at memcmp speed (20x a regex scan); the regex only looks inside the last one.
    while position < size:
        stop = min(size, position + _ZERO_BLOCK)
        if view[position:stop] != _ZEROS[: stop - position]:
            match = _NONZERO.search(view, position, stop)
            return stop if match is None else match.start()
        position = stop
    return size


def read_records(path: str | os.PathLike[str], problems: list[EventFileCorruptError]) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, data) of every intact record; append a typed problem for each damaged stretch."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        offset = 0
        while offset < size:
            if size - offset < _HEADER:
                problems.append(EventFileTruncatedError(path, offset, f"file ends {size - offset} bytes into a record header"))
                return
            head = view[offset : offset + _HEADER]
            length, length_crc = struct.unpack("<QI", head)
            if _masked_crc(head[:8]) != length_crc:
                following = _resync(view, offset + 1, size)
                if following is None:
                    reason = "record length checksum mismatch; no intact record after it"
                    if _zeros_end(view, offset, size) == size:
                        reason += f" (the remaining {size - offset} bytes are all zero)"
                    problems.append(EventFileCorruptError(path, offset, reason))
                    return
                problems.append(
                    EventFileCorruptError(path, offset, f"record length checksum mismatch; skipped {following - offset} bytes to the next intact record")
                )
                offset = following
                continue
            end = offset + _HEADER + length + _FOOTER
            if end > size:
                problems.append(EventFileTruncatedError(path, offset, f"file ends {size - offset - _HEADER} bytes into a {length}-byte record"))
                return
            data = view[offset + _HEADER : end - _FOOTER]
            if _masked_crc(data) != struct.unpack("<I", view[end - _FOOTER : end])[0]:
                problems.append(EventFileCorruptError(path, offset, "record data checksum mismatch; record skipped"))
            else:
                yield offset, data
            offset = end
    finally:
        view.close()
