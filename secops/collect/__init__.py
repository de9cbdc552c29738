"""Collect: turn input paths (files, directories, .gz, stdin) into batches of text lines.

The one entry is `iter_batches(inputs, batch_lines)`. It never interprets the lines; it only
decodes them (bad UTF-8 becomes U+FFFD), strips line endings and numbers them from 1.
A file whose first non-blank byte is `[` and that holds a JSON array (the way Suricata
sample data is shipped) yields one compact JSON object per "line" instead, and a Windows
`.evtx` file (told by its magic bytes) one JSON object per event record (`collect/evtx.py`).
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from secops.collect.evtx import EVTX_MAGIC, evtx_batches, is_evtx
from secops.errors import CollectError

__all__ = [
    "LineBatch", "expand_inputs", "head_lines", "iter_batches", "iter_range", "split_ranges",
    "STDIN",
]  # fmt: skip

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
BLOCK_BYTES = 8 << 20
MAX_JSON_ARRAY_BYTES = 512 << 20


@dataclass(frozen=True)
class LineBatch:
    """Consecutive lines of one input. `first_line` is the 1-based number of lines[0]."""

    path: str
    first_line: int
    lines: pa.StringArray


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files as given, directories expanded recursively (sorted); missing paths raise."""
    out: list[str] = []
    for item in inputs:
        if item == STDIN:
            out.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file())
        elif path.is_file():
            out.append(str(path))
        else:
            raise CollectError(f"input not found: {item}", file=item)
    return out


def iter_batches(inputs: list[str], batch_lines: int = 250_000) -> Iterator[LineBatch]:
    """Yield LineBatch objects for every input, in order, at most `batch_lines` lines each."""
    for path in expand_inputs(inputs):
        with _open(path) as stream:
            yield from _batches(path, stream, max(1, batch_lines))


@contextmanager
def _open(path: str) -> Iterator[BinaryIO]:
    """The input as a binary stream, gunzipped when it starts with the gzip magic bytes."""
    try:
        raw = sys.stdin.buffer if path == STDIN else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise CollectError(f"cannot read input: {exc.strerror}", file=path) from exc
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[type-var]
    try:
        if _is_gzip(buffered):
            with gzip.GzipFile(fileobj=buffered, mode="rb") as unzipped:
                yield unzipped  # type: ignore[misc]
        else:
            yield buffered
    finally:
        if path != STDIN:
            raw.close()


def _is_gzip(stream: io.BufferedReader[Any]) -> bool:
    """Starts with the gzip magic bytes and, when it can be rewound, decompresses: a file that
    only starts like gzip (corrupt, or text that happens to) is read as text, so that its
    lines are counted and dead-lettered instead of lost without a word."""
    if stream.peek(2)[:2] != GZIP_MAGIC:
        return False
    if not stream.seekable():
        return True
    try:
        gzip.GzipFile(fileobj=stream, mode="rb").read(1)
        return True
    except (OSError, EOFError, zlib.error):
        return False
    finally:
        stream.seek(0)


def _batches(path: str, stream: BinaryIO, batch_lines: int) -> Iterator[LineBatch]:
    peek = getattr(stream, "peek", None)
    if peek is not None and is_evtx(peek(len(EVTX_MAGIC))):
        for line_no, lines in evtx_batches(stream, batch_lines):
            yield LineBatch(path, line_no, lines)
        return
    first = _safe_read(stream)
    if first.lstrip()[:1] == b"[":
        first, records = _json_array(first, stream)
        if records is not None:
            yield from _chunk(path, records, 1, batch_lines)
            return
    yield from _text_batches(path, stream, first, batch_lines)


def _text_batches(
    path: str, stream: BinaryIO, block: bytes, batch_lines: int
) -> Iterator[LineBatch]:
    pending: list[pa.Array] = []  # lines read and not handed out yet
    count, line_no, carry = 0, 1, b""
    while block:
        data = carry + block
        block = _safe_read(stream)
        cut = data.rfind(b"\n") + 1 if block else len(data)
        carry = data[cut:]
        lines = _lines(data[:cut])
        pending.append(lines)
        count += len(lines)
        while count >= batch_lines:
            joined = pa.concat_arrays(pending) if len(pending) > 1 else pending[0]
            yield LineBatch(path, line_no, joined.slice(0, batch_lines))
            line_no += batch_lines
            pending, count = [joined.slice(batch_lines)], count - batch_lines
    if count:
        yield LineBatch(path, line_no, pa.concat_arrays(pending))


def _lines(data: bytes) -> pa.Array:
    """Complete lines of `data` as Arrow strings, cut with numpy over the bytes (no Python
    string per line); `_split` (decode with replacement) when a NUL or invalid UTF-8 is in."""
    buf = np.frombuffer(data, dtype=np.uint8)
    if len(buf) == 0 or (buf == 0).any():
        return pa.array(_split(data), pa.string())
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(buf)]))
    if starts[-1] == len(buf):  # the data ends with a newline: no last partial line
        starts, stops = starts[:-1], stops[:-1]
    ended = stops < len(buf)  # "\r\n" ends a line like "\n"
    crlf = ended & (stops > starts) & (buf[np.maximum(stops - 1, 0)] == 13)
    stops = stops - crlf
    keep = np.ones(len(buf), dtype=bool)
    keep[ends] = False
    keep[stops[crlf]] = False
    offsets = np.concatenate(([0], np.cumsum(stops - starts))).astype(np.int32)
    text = buf[keep] if not keep.all() else buf
    lines = pa.StringArray.from_buffers(len(starts), pa.py_buffer(offsets), pa.py_buffer(text))
    try:
        lines.validate(full=True)
    except pa.ArrowInvalid:  # invalid UTF-8
        return pa.array(_split(data), pa.string())
    return lines


def split_ranges(path: str, chunk_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of about `chunk_bytes` that start and end at line boundaries, so each can
    be read alone (`iter_range`). One range (0, -1) for stdin, gzip, a JSON array, an .evtx
    file or a small file: those are read whole."""
    if path == STDIN:
        return [(0, -1)]
    try:
        size = Path(path).stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
            if size <= chunk_bytes or _whole(head):
                return [(0, -1)]
            cuts = [0]
            while cuts[-1] + chunk_bytes < size:
                fh.seek(cuts[-1] + chunk_bytes)
                fh.readline()  # to the end of the line we landed in
                if fh.tell() >= size:
                    break
                cuts.append(fh.tell())
    except OSError as exc:
        raise CollectError(f"cannot read input: {exc.strerror}", file=path) from exc
    return list(zip(cuts, [*cuts[1:], size], strict=True))


def iter_range(path: str, start: int, end: int, batch_lines: int) -> Iterator[LineBatch]:
    """The lines of bytes [start, end) of `path` (from `split_ranges`; (0, -1) = the whole
    input, as `iter_batches`). Line numbers count from 1 at `start`."""
    if end < 0:
        with _open(path) as stream:
            yield from _batches(path, stream, max(1, batch_lines))
        return
    with open(path, "rb") as fh:
        fh.seek(start)
        window: Any = _Window(fh, end - start)  # reads like a BinaryIO
        yield from _text_batches(path, window, _safe_read(window), max(1, batch_lines))


def head_lines(path: str, start: int, count: int, size: int = 16 << 10) -> pa.Array | None:
    """The first `count` complete lines from byte `start` (gunzipped when the file is; None
    for stdin, a JSON array or an .evtx file): enough to tell when a chunk of the file begins."""
    if path == STDIN:
        return None
    try:
        with _open(path) as stream:
            if start:
                stream.seek(start)
            data = stream.read(size)
    except (OSError, EOFError):
        return None
    if data.lstrip()[:1] == b"[" or is_evtx(data):
        return None
    cut = data.rfind(b"\n") + 1 if len(data) == size else len(data)
    return _lines(data[:cut]).slice(0, count)


def _whole(head: bytes) -> bool:
    """Inputs read in one piece: gzip, a JSON array, an .evtx file."""
    return head[:2] == GZIP_MAGIC or head.lstrip()[:1] == b"[" or is_evtx(head)


class _Window:
    """At most `left` bytes of a binary file, from where it stands."""

    def __init__(self, fh: BinaryIO, left: int) -> None:
        self._fh, self._left = fh, left

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._fh.read(n) if n > 0 else b""
        self._left -= len(data)
        return data


def _safe_read(stream: BinaryIO) -> bytes:
    """One block. A .gz is read piece by piece: when it is truncated, the pieces before the
    cut are kept (one read() of the whole block would raise and lose them)."""
    pieces: list[bytes] = []
    left = BLOCK_BYTES
    try:
        if not isinstance(stream, gzip.GzipFile):
            return stream.read(BLOCK_BYTES)
        while left > 0 and (piece := stream.read1(left)):
            pieces.append(piece)
            left -= len(piece)
    except (OSError, EOFError):  # a truncated .gz: stop at what was readable
        pass
    return b"".join(pieces)


def _split(data: bytes) -> list[str]:
    if not data:
        return []
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _json_array(first: bytes, stream: BinaryIO) -> tuple[bytes, list[str] | None]:
    """(bytes read, one compact JSON text per element) or (bytes read, None) if not an array."""
    data = first + _safe_read_all(stream, MAX_JSON_ARRAY_BYTES)
    try:  # "[[[[..." deeper than Python's recursion limit: lines after all, not a crash
        doc = json.loads(data.decode("utf-8", errors="replace"))
        if not isinstance(doc, list):
            return data, None
        return data, [json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in doc]
    except (ValueError, RecursionError):
        return data, None


def _safe_read_all(stream: BinaryIO, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < limit and (part := _safe_read(stream)):
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _chunk(path: str, lines: list[str], first: int, size: int) -> Iterator[LineBatch]:
    for start in range(0, len(lines), size):
        yield LineBatch(path, first + start, pa.array(lines[start : start + size], pa.string()))
