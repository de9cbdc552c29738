"""Syslog framing on a byte stream (RFC 6587): octet counting or newline (LF) framing.

Each frame is decided on its own: `MSG-LEN SP MSG` when it starts with 1-9 digits and a space,
otherwise a line up to LF. Oversized frames are read and thrown away in bounded pieces (they
are counted, never held); a line that starts with digits but is not a length ("2026-11-20...")
is taken as a newline-framed message.
"""

from __future__ import annotations

import asyncio

OVERSIZED = b"\x00oversized"
MAX_DIGITS = 9
DISCARD_CHUNK = 64 << 10


async def read_frame(reader: asyncio.StreamReader, max_frame: int) -> bytes | None:
    """The next message (without framing), OVERSIZED, or None at end of stream."""
    head = await reader.read(1)
    if not head:
        return None
    if head.isdigit():
        digits = head
        while True:
            c = await reader.read(1)
            if not c or c == b"\n":
                return digits.rstrip(b"\r")
            if c == b" ":
                return await _counted(reader, int(digits), max_frame)
            digits += c
            if not c.isdigit() or len(digits) > MAX_DIGITS:
                return await _line(reader, digits, max_frame)
    return await _line(reader, head, max_frame)


async def _counted(reader: asyncio.StreamReader, n: int, max_frame: int) -> bytes:
    if n <= max_frame:
        return await reader.readexactly(n)
    while n > 0:
        got = await reader.read(min(n, DISCARD_CHUNK))
        if not got:
            raise asyncio.IncompleteReadError(b"", n)
        n -= len(got)
    return OVERSIZED


async def _line(reader: asyncio.StreamReader, head: bytes, max_frame: int) -> bytes:
    """Up to LF; the StreamReader's limit (max_frame) bounds what is buffered."""
    try:
        rest = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:  # EOF: the last line without LF
        rest = exc.partial
    except asyncio.LimitOverrunError as exc:
        await reader.readexactly(exc.consumed)
        await _discard_line(reader)
        return OVERSIZED
    if len(head) + len(rest) > max_frame + 1:
        return OVERSIZED
    return (head + rest).rstrip(b"\r\n")


async def _discard_line(reader: asyncio.StreamReader) -> None:
    while True:
        try:
            await reader.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
        except asyncio.IncompleteReadError:
            return
