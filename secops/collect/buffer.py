"""The collector's buffer: messages waiting for the next flush, bounded in bytes.

A TCP/TLS reader awaits `put` (it blocks while the buffer is full: back-pressure); a UDP
datagram gets `put_nowait` (None when full: dropped). Every message gets a sequence number
and, for TCP/TLS, its `Peer`, so a failed flush can tell which connections it concerns.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["Buffer", "Item", "Peer"]


@dataclass
class Peer:
    """One TCP/TLS connection: still reading, or waiting for its frames to be flushed."""

    reading: bool = True
    failed: bool = False  # a batch holding one of its frames could not be stored


@dataclass
class Item:
    seq: int
    data: bytes
    peer: Peer | None = None


class Buffer:
    """Messages waiting for the next flush, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.items: deque[Item] = deque()
        self.size = 0
        self.max = max_bytes
        self.seq = 0
        self.first_at: float | None = None
        self._space = asyncio.Event()
        self._space.set()
        self.arrived = asyncio.Event()

    def put_nowait(self, data: bytes, peer: Peer | None = None) -> int | None:
        if self.size >= self.max:
            return None
        self.seq += 1
        self.items.append(Item(self.seq, data, peer))
        self.size += len(data) + 64
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.arrived.set()
        return self.seq

    async def put(self, data: bytes, peer: Peer | None = None) -> int:
        while self.size >= self.max:
            self._space.clear()
            await self._space.wait()
        seq = self.put_nowait(data, peer)
        assert seq is not None
        return seq

    def take(self) -> list[Item]:
        items, self.items, self.size, self.first_at = list(self.items), deque(), 0, None
        self.arrived.clear()
        self._space.set()
        return items
