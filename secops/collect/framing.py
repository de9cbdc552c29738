"""Syslog framing on a byte stream (RFC 6587): octet counting or newline (LF) framing.

Each frame is decided on its own: `MSG-LEN SP MSG` when it starts with 1-9 digits and a space,
otherwise a line up to LF. Oversized frames are read and thrown away in bounded pieces: only
their first `HEAD_BYTES` are kept (an `Oversized`, for the dead-letter file); a line that starts
with digits but is not a length ("2026-11-20...") is taken as a newline-framed message.
"""

from __future__ import annotations

import asyncio

MAX_DIGITS = 9
DISCARD_CHUNK = 64 << 10
HEAD_BYTES = 1024


class Oversized(bytes):
    """The first bytes of a frame over `max_frame` bytes; `size` is how long it was."""

    size: int

    @classmethod
    def of(cls, head: bytes, size: int) -> Oversized:
        frame = cls(head[:HEAD_BYTES])
        frame.size = size
        return frame


async def read_frame(reader: asyncio.StreamReader, max_frame: int) -> bytes | None:
    """The next message (without framing), an `Oversized`, or None at end of stream."""
    head = await reader.read(1)
    if not head:
        return None
    if head.isdigit():
        digits = head
        while True:
            c = await reader.read(1)
            if not c or c == b"\n":  # a line of digits only
                line = digits.rstrip(b"\r")
                return line if len(line) <= max_frame else Oversized.of(line, len(line))
            if c == b" ":
                return await _counted(reader, int(digits), max_frame)
            digits += c
            if not c.isdigit() or len(digits) > MAX_DIGITS:
                return await _line(reader, digits, max_frame)
    return await _line(reader, head, max_frame)


async def _counted(reader: asyncio.StreamReader, n: int, max_frame: int) -> bytes:
    if n <= max_frame:
        return await reader.readexactly(n)
    size, head = n, b""
    while n > 0:
        got = await reader.read(min(n, DISCARD_CHUNK))
        if not got:
            raise asyncio.IncompleteReadError(b"", n)
        head = head or got
        n -= len(got)
    return Oversized.of(head, size)


async def _line(reader: asyncio.StreamReader, head: bytes, max_frame: int) -> bytes:
    """Up to LF; the StreamReader's limit (max_frame) bounds what is buffered."""
    try:
        rest = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:  # EOF: the last line without LF
        rest = exc.partial
    except asyncio.LimitOverrunError as exc:
        first = head + await reader.readexactly(exc.consumed)
        return Oversized.of(first, len(first) + await _discard_line(reader))
    frame = (head + rest).rstrip(b"\r\n")
    if len(head) + len(rest) > max_frame + 1:
        return Oversized.of(frame, len(frame))
    return frame


async def _discard_line(reader: asyncio.StreamReader) -> int:
    """Read up to and with the next LF (or EOF) in bounded pieces: how many bytes before it."""
    size = 0
    while True:
        try:
            return size + len(await reader.readuntil(b"\n")) - 1
        except asyncio.LimitOverrunError as exc:
            size += len(await reader.readexactly(exc.consumed))
        except asyncio.IncompleteReadError as exc:
            return size + len(exc.partial)
