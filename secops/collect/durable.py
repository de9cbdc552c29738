"""One micro-batch of syslog messages made durable: spooled and dead-lettered, or kept pending.

    messages -> normalise -> spool (atomic Parquet files) + dead-letter file (appended, fsync)

- One message never fails its batch: when normalising a batch raises, it is split in halves
  until the message that raises is alone; that message is dead-lettered with the error
  ("normalising raised ...") and every other one is spooled as usual (`Stored.isolated`).
- When storing raises (the spool or the dead-letter file cannot be written, the disk is full),
  `BatchStore.store` raises and stores nothing on purpose; the caller then `keep`s the raw
  messages in one pending file (`<pending_dir>/<name>.jsonl`, written atomically and fsynced,
  one `{"raw": ...}` per line). `replay` stores a pending file at the next start under the
  same name and deletes it; a replay that fails leaves it where it is.
- Event ids depend on the message text only, so a batch stored twice (replayed, or resent by
  a peer that was not acknowledged) gives the same ids, and reading the spool keeps each once.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from secops.collect import LineBatch
from secops.normalise import dead_letter_line
from secops.normalise.batch import BatchResult, Options, Registry, normalise_batch
from secops.normalise.events import EventIds
from secops.schema import empty_events
from secops.spool import Spool, fsync_dir, write_lines_atomic

T = TypeVar("T")
R = TypeVar("R")
SOURCE = "syslog"
Rejected = tuple[str, str]  # (raw, reason): dead-lettered as it is, never normalised


@dataclass
class Stored:
    """What storing one batch did with its messages (events + dead + blank = messages)."""

    events: int = 0
    dead: int = 0
    blank: int = 0
    isolated: int = 0  # dead-lettered because normalising them raised (counted in `dead`)


class BatchStore:
    def __init__(
        self,
        spool_dir: Path,
        dead_letter: Path,
        pending_dir: Path,
        registry: Registry,
        *,
        year: int | None,
        tz: str,
    ) -> None:
        self.spool = Spool(spool_dir)
        self.dead_letter = dead_letter
        self.pending_dir = pending_dir
        self.registry = registry
        self.year, self.tz = year, tz

    def store(self, texts: list[str], name: str, rejected: Sequence[Rejected] = ()) -> Stored:
        """Normalise `texts`, spool the events as `name`, dead-letter the rest and the
        `rejected` (raw, reason) messages; raises when either cannot be written (then nothing
        may be counted as stored)."""
        opts = Options(year=self.year, tz=self.tz, now=datetime.now(UTC), keep_original=False)
        ids = [EventIds()]  # occurrence counts: a part that raises must not count its lines

        def run(part: Sequence[str], first: int) -> BatchResult:
            batch = LineBatch(SOURCE, first + 1, pa.array(part, pa.string()))
            trial = copy.deepcopy(ids[0])
            out = normalise_batch(batch, self.registry, opts, trial)
            ids[0] = trial
            return out

        results, errors = isolate(texts, run) if texts else ([], [])
        dead = [r.dead for r in results if not r.dead.empty] + [_raised(texts, errors, rejected)]
        events = _concat([r.events for r in results]) if results else empty_events()
        self.spool.write(events, name)
        dead_frame = _concat(dead)
        append_dead_letters(dead_frame, self.dead_letter)
        blank = sum(r.blank for r in results)
        return Stored(len(events), len(dead_frame), blank, len(errors))

    def keep(self, texts: list[str], name: str, rejected: Sequence[Rejected] = ()) -> Path:
        """The raw messages, durably, in one pending file (raises OSError when it cannot)."""
        path = self.pending_dir / f"{name}.jsonl"
        docs = [{"raw": t} for t in texts] + [{"raw": r, "reason": why} for r, why in rejected]
        write_lines_atomic(path, (json.dumps(d, ensure_ascii=False) for d in docs))
        return path

    def pending(self) -> list[Path]:
        return sorted(self.pending_dir.glob("*.jsonl")) if self.pending_dir.is_dir() else []

    def replay(self, path: Path) -> tuple[int, Stored]:
        """Store a pending file under its own name, then delete it: (messages, what was done)."""
        with open(path, encoding="utf-8") as lines:
            docs = [json.loads(line) for line in lines if line.strip()]
        texts = [d["raw"] for d in docs if "reason" not in d]
        rejected = [(d["raw"], d["reason"]) for d in docs if "reason" in d]
        done = self.store(texts, path.stem, rejected)
        path.unlink()
        fsync_dir(path.parent)
        return len(docs), done


def isolate(
    items: Sequence[T], run: Callable[[Sequence[T], int], R], first: int = 0
) -> tuple[list[R], list[tuple[int, Exception]]]:
    """`run(items, first)`; when it raises, the same on each half, down to single items.

    Returns the results of the parts that ran (in order) and, for every item that raised on
    its own, its position and the error. k bad items among n cost about 2k log2(n) runs."""
    try:
        return [run(items, first)], []
    except Exception as exc:  # noqa: BLE001 - whatever one message does, the rest go on
        if len(items) <= 1:
            return [], [(first, exc)]
    mid = len(items) // 2
    head, head_errors = isolate(items[:mid], run, first)
    tail, tail_errors = isolate(items[mid:], run, first + mid)
    return head + tail, head_errors + tail_errors


def append_dead_letters(dead: pd.DataFrame, path: Path) -> None:
    """Append {"file", "line", "reason", "raw"} lines and fsync: durable when it returns."""
    if dead.empty:
        return
    with open(path, "a", encoding="utf-8") as out:
        rec: Any  # a row of object columns
        for rec in dead.itertuples(index=False):
            out.write(dead_letter_line(rec.file, int(rec.line), rec.reason, rec.raw))
        out.flush()
        os.fsync(out.fileno())


def _raised(
    texts: Sequence[str], errors: list[tuple[int, Exception]], rejected: Sequence[Rejected]
) -> pd.DataFrame:
    """Dead-letter rows: the messages that raised, then the rejected (numbered after `texts`)."""
    rows = [(texts[pos], f"normalising raised {type(exc).__name__}: {exc}") for pos, exc in errors]
    lines = [pos + 1 for pos, _ in errors] + [len(texts) + k + 1 for k in range(len(rejected))]
    rows += list(rejected)
    return pd.DataFrame(
        {
            "file": SOURCE,
            "line": lines,
            "reason": [why for _, why in rows],
            "raw": [raw for raw, _ in rows],
        },
        columns=["file", "line", "reason", "raw"],
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty] or frames[:1]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
