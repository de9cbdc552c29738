"""`secops collect --listen`: the syslog collector daemon (UDP, TCP, TLS) feeding the spool.

    sockets -> frames (RFC 6587) -> a byte-bounded buffer -> micro-batches -> normalise -> spool

- The buffer holds at most `max_buffer` bytes. A TCP/TLS reader that finds it full stops
  reading its socket, so the kernel window closes and the sender slows down (back-pressure);
  a UDP datagram that finds it full is dropped and counted (`udp_dropped`).
- A micro-batch is flushed when it has `flush_lines` messages or its first message is
  `flush_seconds` old. Normalising runs in a worker thread, so sockets keep being served.
- Delivery: a frame the daemon has read is in the spool after the next flush, once (one atomic
  file per flush and hour). A TCP peer that half-closes its side (EOF) gets the connection
  closed by the daemon only after every frame it sent is in the spool: that close is the
  acknowledgement. SIGTERM/SIGINT: stop accepting, flush what was read, exit 0. SIGHUP: flush
  and reopen the log file. kill -9 loses at most the frames read since the last flush.
- Bounded against bad peers: frames over `max_frame` bytes are discarded in pieces and counted,
  a peer that does not complete a frame within `idle_timeout` is closed, at most
  `max_connections` peers at once; garbage is normalised into the dead-letter file.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from secops.collect import LineBatch
from secops.collect.framing import OVERSIZED, read_frame
from secops.errors import ConfigError
from secops.spool import Spool, unique_name

UDP_MAX = 65535


@dataclass
class ListenerSettings:
    spool_dir: Path
    udp: str | None = "127.0.0.1:5514"
    tcp: str | None = "127.0.0.1:5514"
    tls: str | None = None
    cert: Path | None = None
    key: Path | None = None
    flush_lines: int = 5000
    flush_seconds: float = 1.0
    max_frame: int = 65536
    max_buffer: int = 32 << 20
    idle_timeout: float = 60.0
    max_connections: int = 1024
    stats_seconds: float = 60.0
    year: int | None = None
    tz: str = "UTC"
    dead_letter: str | Path | None = None
    log_file: Path | None = None


@dataclass
class Stats:
    received: int = 0
    udp_received: int = 0
    udp_dropped: int = 0
    tcp_received: int = 0
    oversized: int = 0
    timeouts: int = 0
    refused_connections: int = 0
    connections: int = 0
    flushes: int = 0
    events_spooled: int = 0
    dead_lettered: int = 0
    flush_errors: int = 0


@dataclass
class _Item:
    seq: int
    data: bytes


class Buffer:
    """Messages waiting for the next flush, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.items: deque[_Item] = deque()
        self.size = 0
        self.max = max_bytes
        self.seq = 0
        self.first_at: float | None = None
        self._space = asyncio.Event()
        self._space.set()
        self.arrived = asyncio.Event()

    def put_nowait(self, data: bytes) -> int | None:
        if self.size >= self.max:
            return None
        self.seq += 1
        self.items.append(_Item(self.seq, data))
        self.size += len(data) + 64
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.arrived.set()
        return self.seq

    async def put(self, data: bytes) -> int:
        while self.size >= self.max:
            self._space.clear()
            await self._space.wait()
        seq = self.put_nowait(data)
        assert seq is not None
        return seq

    def take(self) -> list[_Item]:
        items, self.items, self.size, self.first_at = list(self.items), deque(), 0, None
        self.arrived.clear()
        self._space.set()
        return items


class Collector:
    def __init__(self, settings: ListenerSettings) -> None:
        self.s = settings
        self.stats = Stats()
        self.buffer: Buffer
        self.spool = Spool(settings.spool_dir)
        self.stopping: asyncio.Event
        self.flushed_seq = 0
        self.flushed: asyncio.Condition
        self.servers: list[Any] = []
        self.transports: list[Any] = []
        self.addresses: dict[str, str] = {}
        self.conns: set[asyncio.Task[Any]] = set()
        self._name = f"collector-{socket.gethostname()}-{os.getpid()}"
        from secops.normalise import load_parsers
        from secops.normalise.batch import Registry

        self.registry = Registry(load_parsers())

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> int:
        self.buffer = Buffer(self.s.max_buffer)
        self.stopping = asyncio.Event()
        self.flushed = asyncio.Condition()
        await self._listen()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._hup)
        self.log({"event": "listening", **self.addresses, "spool": str(self.s.spool_dir)})
        flusher = asyncio.create_task(self._flusher())
        stats = asyncio.create_task(self._stats_loop())
        await self.stopping.wait()
        for server in self.servers:
            server.close()
        for transport in self.transports:
            transport.close()
        for task in list(self.conns):
            task.cancel()
        await asyncio.gather(*self.conns, return_exceptions=True)
        stats.cancel()
        await flusher
        self.log({"event": "stopped", **asdict(self.stats)})
        return 0

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        if self.s.udp and self.s.udp != "off":
            host, port = _address(self.s.udp)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(host, port)
            )
            _grow_rcvbuf(transport.get_extra_info("socket"))
            self.transports.append(transport)
            self.addresses["udp"] = _bound(transport.get_extra_info("sockname"))
        if self.s.tcp and self.s.tcp != "off":
            await self._stream_server("tcp", self.s.tcp, None)
        if self.s.tls and self.s.tls != "off":
            await self._stream_server("tls", self.s.tls, self._tls_context())

    async def _stream_server(self, kind: str, where: str, ctx: ssl.SSLContext | None) -> None:
        host, port = _address(where)
        server = await asyncio.start_server(
            self._serve_peer,
            host,
            port,
            ssl=ctx,
            limit=self.s.max_frame + 2,
            ssl_handshake_timeout=self.s.idle_timeout if ctx else None,
        )
        self.servers.append(server)
        self.addresses[kind] = _bound(server.sockets[0].getsockname())

    def _tls_context(self) -> ssl.SSLContext:
        if not (self.s.cert and self.s.key):
            raise ConfigError("TLS needs a certificate and a key (--cert, --key)")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ctx.load_cert_chain(str(self.s.cert), str(self.s.key))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load the TLS certificate or key: {exc}", str(self.s.cert)
            ) from None
        return ctx

    def _hup(self) -> None:
        self.log({"event": "reopen", **asdict(self.stats)})
        if self.buffer.first_at is not None:
            self.buffer.first_at = 0.0  # flush now
            self.buffer.arrived.set()

    # -- receiving ------------------------------------------------------------------------
    async def _serve_peer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self.conns) >= self.s.max_connections or self.stopping.is_set():
            self.stats.refused_connections += 1
            writer.close()
            return
        assert task is not None
        self.conns.add(task)
        self.stats.connections += 1
        last = 0
        try:
            while True:
                try:
                    async with asyncio.timeout(self.s.idle_timeout):  # no task per frame
                        frame = await read_frame(reader, self.s.max_frame)
                except TimeoutError:
                    self.stats.timeouts += 1
                    return
                if frame is None:
                    break
                if frame is OVERSIZED or frame == OVERSIZED:
                    self.stats.oversized += 1
                    continue
                if frame:
                    last = await self.buffer.put(frame)
                    self.stats.received += 1
                    self.stats.tcp_received += 1
            await self._wait_flushed(last)  # EOF: close only once everything sent is spooled
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            return
        finally:
            self.conns.discard(task)
            writer.close()

    async def _wait_flushed(self, seq: int) -> None:
        async with self.flushed:
            await self.flushed.wait_for(lambda: self.flushed_seq >= seq)

    def datagram(self, data: bytes) -> None:
        for part in data.split(b"\n"):
            part = part.rstrip(b"\r")
            if not part:
                continue
            if len(part) > self.s.max_frame:
                self.stats.oversized += 1
            elif self.buffer.put_nowait(part) is None:
                self.stats.udp_dropped += 1
            else:
                self.stats.received += 1
                self.stats.udp_received += 1

    # -- flushing -------------------------------------------------------------------------
    async def _flusher(self) -> None:
        while True:
            if self._due() or (self.stopping.is_set() and self.buffer.items):
                await self._flush(self.buffer.take())
                continue
            if self.stopping.is_set():
                return
            await asyncio.sleep(0.02)

    def _due(self) -> bool:
        b = self.buffer
        if not b.items:
            return False
        if len(b.items) >= self.s.flush_lines:
            return True
        return b.first_at is not None and time.monotonic() - b.first_at >= self.s.flush_seconds

    async def _flush(self, items: list[_Item]) -> None:
        if not items:
            return
        try:
            await asyncio.to_thread(self._write, [i.data for i in items])
        except Exception as exc:  # noqa: BLE001 - a bad batch must not kill the daemon
            self.stats.flush_errors += 1
            self.log({"event": "flush-error", "error": repr(exc), "messages": len(items)})
        async with self.flushed:
            self.flushed_seq = items[-1].seq
            self.flushed.notify_all()

    def _write(self, messages: list[bytes]) -> None:
        from secops.normalise.batch import Options, normalise_batch
        from secops.normalise.events import EventIds

        lines = [_text(m) for m in messages]
        batch = LineBatch("syslog", 1, pa.array(lines, pa.string()))
        opts = Options(year=self.s.year, tz=self.s.tz, now=datetime.now(UTC), keep_original=False)
        out = normalise_batch(batch, self.registry, opts, EventIds())
        self.spool.write(out.events, unique_name(self._name))
        self.stats.flushes += 1
        self.stats.events_spooled += len(out.events)
        self.stats.dead_lettered += len(out.dead)
        if not out.dead.empty:
            _dead_letters(out.dead, self.s.dead_letter or self.s.spool_dir / "dead-letter.jsonl")

    # -- logging --------------------------------------------------------------------------
    async def _stats_loop(self) -> None:
        while True:
            await asyncio.sleep(self.s.stats_seconds)
            self.log({"event": "stats", **asdict(self.stats)})

    def log(self, doc: dict[str, Any]) -> None:
        doc = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "command": "collect", **doc}
        text = json.dumps(doc, sort_keys=True, default=str)
        if self.s.log_file:
            with open(self.s.log_file, "a", encoding="utf-8") as out:  # reopened on every line
                out.write(text + "\n")
        print(text, file=sys.stderr, flush=True)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.collector.datagram(data)


def _text(message: bytes) -> str:
    text = message.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text.replace("\r", " ").replace("\n", " ")


def _address(text: str) -> tuple[str, int]:
    host, _, port = str(text).rpartition(":")
    try:
        return host.strip("[]") or "0.0.0.0", int(port)
    except ValueError:
        raise ConfigError(f"bad listen address {text!r} (use HOST:PORT)") from None


def _bound(sockname: Any) -> str:
    return f"{sockname[0]}:{sockname[1]}"


def _grow_rcvbuf(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        except OSError:
            pass


def _dead_letters(dead: Any, path: str | Path) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for rec in dead.itertuples(index=False):
            doc = {"file": rec.file, "line": int(rec.line), "reason": rec.reason, "raw": rec.raw}
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")


def serve(settings: ListenerSettings) -> int:
    """Run the daemon until SIGTERM/SIGINT; returns the exit code."""
    try:
        return asyncio.run(Collector(settings).run())
    except OSError as exc:
        raise ConfigError(f"cannot listen: {exc}") from None
