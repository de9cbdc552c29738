"""kill -9 and restart under a reconnecting client; the byte-bounded buffer's back-pressure.

Guarantee proven here: a session (one TCP connection: frames, then EOF) that the client saw
acknowledged (the daemon closed the connection after its EOF) is in the spool; a session that
was not acknowledged is sent again. Frames of a resent session may be spooled twice on disk
(the killed daemon may have flushed part of it), with the same event ids: reading the spool
(`Spool.read`, what `secops run` uses) keeps each event once.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from secops.collect.buffer import Buffer
from tests.helpers import spooled
from tests.listener.daemon import Daemon, ssh_line

SESSION = 400


def _session(addr: tuple[str, int], n: int) -> bool:
    """Send one session at full speed; True if the daemon acknowledged it (closed after EOF)."""
    try:
        with socket.create_connection(addr, timeout=5) as sock:
            lines = "".join(ssh_line(n * SESSION + i, f"s{n}-") + "\n" for i in range(SESSION))
            sock.sendall(lines.encode())
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(4096):
                pass
            return True
    except OSError:
        return False


def test_acknowledged_sessions_survive_kill_9_and_restart(tmp_path: Path) -> None:
    first = Daemon(tmp_path, "--flush-seconds", "0.5")
    acked: set[int] = set()
    for n in range(3):
        assert _session(first.addr["tcp"], n)
        acked.add(n)
    with socket.create_connection(first.addr["tcp"]) as sock:  # session 3: killed midway
        sock.sendall(
            "".join(ssh_line(3 * SESSION + i, "s3-") + "\n" for i in range(SESSION // 2)).encode()
        )
        time.sleep(0.05)
        first.kill()
    second = Daemon(tmp_path, "--flush-seconds", "0.5")
    try:
        for n in range(3, 8):  # the client reconnects and resends what was not acknowledged
            for _ in range(3):
                if _session(second.addr["tcp"], n):
                    acked.add(n)
                    break
        stats = second.stop()
    finally:
        if second.proc.poll() is None:
            second.kill()
    assert acked == set(range(8))
    frame = spooled(first.spool.root)
    raw_dupes = int(frame.duplicated("event.id").sum())
    once = frame.drop_duplicates("event.id")
    for n in acked:
        got = once["message"].str.contains(f"user s{n}-", regex=False).sum()
        assert got == SESSION, (n, got)
    assert stats["received"] == 5 * SESSION
    print(f"restart test: {len(acked)} sessions x {SESSION}, duplicates on disk {raw_dupes}")


def test_the_buffer_blocks_tcp_readers_and_drops_udp_when_full() -> None:
    async def scenario() -> tuple[bool, int | None, bool]:
        buf = Buffer(max_bytes=1000)
        while buf.put_nowait(b"x" * 100) is not None:
            pass
        dropped = buf.put_nowait(b"udp")  # what a datagram gets: None, counted as dropped
        writer = asyncio.create_task(buf.put(b"tcp"))
        await asyncio.sleep(0.05)
        blocked = not writer.done()
        buf.take()  # a flush frees the space: the reader resumes
        await asyncio.wait_for(writer, 1)
        return blocked, dropped, [i.data for i in buf.items] == [b"tcp"]

    blocked, dropped, resumed = asyncio.run(scenario())
    assert blocked and dropped is None and resumed


@pytest.mark.parametrize(
    ("frames", "want"),
    [
        (b"12 <38>abcdefgh", [b"<38>abcdefgh"]),  # octet counting (RFC 6587 3.4.1)
        (b"12 <38>abcdefghXYZ\n", [b"<38>abcdefgh", b"XYZ"]),  # the count ends the frame
        (b"2026-11-20 not a length\n", [b"2026-11-20 not a length"]),  # digits, no count
    ],
)
def test_framing_edge_cases(frames: bytes, want: list[bytes]) -> None:
    from secops.collect.framing import read_frame

    async def parse() -> list[bytes]:
        reader = asyncio.StreamReader(limit=1024)
        reader.feed_data(frames)
        reader.feed_eof()
        out = []
        while (frame := await read_frame(reader, 1000)) is not None:
            out.append(frame)
        return out

    assert asyncio.run(parse()) == want
