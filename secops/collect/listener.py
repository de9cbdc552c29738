"""`secops collect --listen`: the syslog collector daemon (UDP, TCP, TLS) feeding the spool.

    sockets -> frames (RFC 6587) -> a byte-bounded buffer -> micro-batches -> normalise -> spool

- Configuration is checked before any socket is bound (`Collector()` raises `ConfigError`,
  exit 78): addresses and ports, time zone, year, sizes, and that the spool, pending and
  dead-letter locations can be written. Pending batches of an earlier run are replayed next.
- The buffer holds at most `max_buffer` bytes. A TCP/TLS reader that finds it full stops
  reading its socket, so the kernel window closes and the sender slows down (back-pressure);
  a UDP datagram that finds it full is dropped and counted (`udp_dropped`).
- A micro-batch is flushed when it has `flush_lines` messages or its first message is
  `flush_seconds` old. Normalising runs in a worker thread, so sockets keep being served.
  One message never fails a flush (see `secops.collect.durable`): received = events_spooled
  + dead_lettered + blank + pending + lost, in every stats line.

Acknowledgement contract (TCP and TLS). A peer that half-closes its side (EOF) gets a clean
close (FIN) from the daemon only once every frame it sent is durable: in the spool (fsynced
Parquet) or in the dead-letter file (fsynced). That clean close is the acknowledgement, and
the only one. Every other ending is a reset (RST), never to be read as delivered:
- a flush of any of its frames failed (the spool or dead-letter could not be written): the
  batch's raw messages are kept in a pending file (`<data_dir>/pending/`, fsynced) and
  replayed at the next start, `flush_errors` counts it and the daemon exits 1 when stopped;
- SIGTERM/SIGINT while the peer has not sent its EOF yet (what it sent is still flushed);
- an idle or stalled peer (`idle_timeout`), a refused connection (`max_connections`), a
  socket error.
A peer that was reset resends; its events then reach the spool twice with the same
`event.id`, and every read of the spool keeps each once. A frame over `max_frame` bytes is
read in bounded pieces and dead-lettered with its size and first bytes (`oversized`), like
any message, before the acknowledgement.

SIGTERM/SIGINT: stop accepting, flush what was read, acknowledge the peers that had sent
their EOF, exit 0 (1 when a flush failed). SIGHUP: flush and reopen the log file. kill -9
loses at most the frames read since the last flush, none of them acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import struct
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secops.collect.buffer import Buffer, Item, Peer
from secops.collect.durable import BatchStore, Stored
from secops.collect.framing import Oversized, read_frame
from secops.collect.settings import ListenerSettings, check, pending_dir
from secops.errors import ConfigError
from secops.spool import unique_name

__all__ = ["Buffer", "Collector", "ListenerSettings", "serve"]


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
    resets: int = 0
    flushes: int = 0
    events_spooled: int = 0
    dead_lettered: int = 0
    blank: int = 0
    isolated: int = 0
    flush_errors: int = 0
    pending: int = 0
    lost: int = 0
    replayed: int = 0


class Collector:
    def __init__(self, settings: ListenerSettings) -> None:
        """Checks every setting (ConfigError) before anything is bound."""
        self.s = settings
        self.where = check(settings)
        self.tls = self._tls_context() if self.where["tls"] else None
        self.stats = Stats()
        self.buffer: Buffer
        self.stopping: asyncio.Event
        self.flushed_seq = 0
        self.flushed: asyncio.Condition
        self.servers: list[Any] = []
        self.transports: list[Any] = []
        self.addresses: dict[str, str] = {}
        self.conns: dict[asyncio.Task[Any], Peer] = {}
        self._name = f"collector-{socket.gethostname()}-{os.getpid()}"
        from secops.normalise import load_parsers
        from secops.normalise.batch import Registry

        self.batches = BatchStore(
            settings.spool_dir,
            Path(settings.dead_letter or settings.spool_dir / "dead-letter.jsonl"),
            pending_dir(settings),
            Registry(load_parsers()),
            year=settings.year,
            tz=settings.tz,
        )

    # -- lifecycle ------------------------------------------------------------------------
    async def run(self) -> int:
        self.buffer = Buffer(self.s.max_buffer)
        self.stopping = asyncio.Event()
        self.flushed = asyncio.Condition()
        self._replay()
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
        for task, peer in list(self.conns.items()):
            if peer.reading:  # no EOF yet: reset; peers at EOF are acknowledged after the flush
                task.cancel()
        await flusher
        await asyncio.gather(*self.conns, return_exceptions=True)
        stats.cancel()
        code = 1 if self.stats.flush_errors else 0
        self.log({"event": "stopped", "exit_code": code, **asdict(self.stats)})
        return code

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        if self.where["udp"]:
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Udp(self), local_addr=self.where["udp"]
                )
            except OSError as exc:
                raise _cannot_listen("--udp", self.s.udp, exc) from None
            _grow_rcvbuf(transport.get_extra_info("socket"))
            self.transports.append(transport)
            self.addresses["udp"] = _bound(transport.get_extra_info("sockname"))
        for kind in ("tcp", "tls"):
            where = self.where[kind]
            if where:
                await self._stream_server(kind, where, self.tls if kind == "tls" else None)

    async def _stream_server(
        self, kind: str, where: tuple[str, int], ctx: ssl.SSLContext | None
    ) -> None:
        host, port = where
        try:
            server = await asyncio.start_server(
                self._serve_peer,
                host,
                port,
                ssl=ctx,
                limit=self.s.max_frame + 2,
                ssl_handshake_timeout=self.s.idle_timeout if ctx else None,
            )
        except OSError as exc:
            raise _cannot_listen(f"--{kind}", getattr(self.s, kind), exc) from None
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

    def _replay(self) -> None:
        """Store the batches an earlier run could not (before listening: nothing is mixed)."""
        for path in self.batches.pending():
            try:
                messages, done = self.batches.replay(path)
            except Exception as exc:  # noqa: BLE001 - kept on disk; said loudly, exit 1
                self.stats.flush_errors += 1
                self.log({"event": "replay-error", "file": str(path), "error": repr(exc)})
                continue
            self.stats.replayed += messages
            self.log({"event": "replayed", "file": str(path), "messages": messages, **asdict(done)})

    # -- receiving ------------------------------------------------------------------------
    async def _serve_peer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self.conns) >= self.s.max_connections or self.stopping.is_set():
            self.stats.refused_connections += 1
            _reset(writer)
            return
        assert task is not None
        peer = self.conns[task] = Peer()
        self.stats.connections += 1
        acked = False
        try:
            last = await self._read_peer(reader, peer)
            if last is None:
                return
            peer.reading = False
            await self._wait_flushed(last)  # EOF: close only once everything sent is durable
            acked = not peer.failed
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            return
        finally:
            del self.conns[task]
            if acked:
                writer.close()  # the acknowledgement
            else:
                self.stats.resets += 1
                _reset(writer)

    async def _read_peer(self, reader: asyncio.StreamReader, peer: Peer) -> int | None:
        """Frames into the buffer up to EOF: the last one's sequence number (None: timed out)."""
        last = 0
        while True:
            try:
                async with asyncio.timeout(self.s.idle_timeout):  # no task per frame
                    frame = await read_frame(reader, self.s.max_frame)
            except TimeoutError:
                self.stats.timeouts += 1
                return None
            if frame is None:
                return last
            if isinstance(frame, Oversized):
                self.stats.oversized += 1  # its first bytes are dead-lettered
            if frame:
                last = await self.buffer.put(frame, peer)
                self.stats.received += 1
                self.stats.tcp_received += 1

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
                part = Oversized.of(part, len(part))
            if self.buffer.put_nowait(part) is None:
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

    async def _flush(self, items: list[Item]) -> None:
        if not items:
            return
        texts = [_text(i.data) for i in items if not isinstance(i.data, Oversized)]
        rejected = [_too_big(i.data) for i in items if isinstance(i.data, Oversized)]
        if not await asyncio.to_thread(self._store, texts, rejected):
            for item in items:
                if item.peer is not None:
                    item.peer.failed = True  # its peer is reset, not acknowledged
        async with self.flushed:
            self.flushed_seq = items[-1].seq
            self.flushed.notify_all()

    def _store(self, texts: list[str], rejected: list[tuple[str, str]]) -> bool:
        """True when the batch is durable (spooled and dead-lettered); else kept pending."""
        name = unique_name(self._name)
        try:
            done = self.batches.store(texts, name, rejected)
        except Exception as exc:  # noqa: BLE001 - a failed flush must not kill the daemon
            self._keep(texts, rejected, name, exc)
            return False
        self._count(done)
        if done.isolated:
            self.log({"event": "isolated", "messages": len(texts), "dead_lettered": done.isolated})
        return True

    def _count(self, done: Stored) -> None:
        self.stats.flushes += 1
        self.stats.events_spooled += done.events
        self.stats.dead_lettered += done.dead
        self.stats.blank += done.blank
        self.stats.isolated += done.isolated

    def _keep(
        self, texts: list[str], rejected: list[tuple[str, str]], name: str, exc: Exception
    ) -> None:
        self.stats.flush_errors += 1
        n = len(texts) + len(rejected)
        doc: dict[str, Any] = {"event": "flush-error", "error": repr(exc), "messages": n}
        try:
            doc["pending"] = str(self.batches.keep(texts, name, rejected))
            self.stats.pending += n
        except OSError as kept:
            doc.update(lost=n, pending_error=repr(kept))
            self.stats.lost += n
        self.log(doc)

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


def _cannot_listen(option: str, value: Any, exc: OSError) -> ConfigError:
    return ConfigError(f"{option} {str(value)!r}: cannot listen: {exc.strerror or exc}")


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), never FIN: the peer must not take it for an ack."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def _text(message: bytes) -> str:
    text = message.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text.replace("\r", " ").replace("\n", " ")


def _too_big(frame: Oversized) -> tuple[str, str]:
    return _text(frame), f"frame over --max-frame: {frame.size} bytes (the first {len(frame)} kept)"


def _bound(sockname: Any) -> str:
    return f"{sockname[0]}:{sockname[1]}"


def _grow_rcvbuf(sock: socket.socket | None) -> None:
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        except OSError:
            pass


def serve(settings: ListenerSettings) -> int:
    """Run the daemon until SIGTERM/SIGINT; returns the exit code (1: a flush failed).

    Raises ConfigError (exit 78) before binding anything when a setting is invalid."""
    return asyncio.run(Collector(settings).run())
