"""The spool: normalised events as Parquet files partitioned by event date and hour.

    <root>/date=2026-11-20/hour=07/<name>.parquet
    <root>/date=none/<name>.parquet            (events without a usable timestamp)

Every file is written atomically (temp file in the same directory, fsync, rename, fsync of the
directory), so a reader never sees half a file and a crash leaves at most a stray `.tmp`.
A writer that re-writes the same `name` (a re-done batch) replaces its earlier file: re-doing
work never doubles it. Reading a window dedupes on `event.id` as a second line of defence.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from secops.schema import EVENT_COLUMNS, dtype, empty_events

__all__ = ["Spool", "fsync_dir", "write_atomic", "write_lines_atomic"]

NO_TIME = "date=none"
#: dropped before spooling: the raw line is already in the source (or the dead-letter file).
SPOOL_DROP = ("event.original",)


class Spool:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def write(self, events: pd.DataFrame, name: str) -> list[Path]:
        """Append `events` as one file per hour partition, each named `<name>.parquet`."""
        events = events.drop(columns=[c for c in SPOOL_DROP if c in events.columns])
        if events.empty:
            return []
        ts = pd.to_datetime(events["@timestamp"], utc=True)
        hours = ts.dt.strftime("date=%Y-%m-%d/hour=%H").astype(object)
        hours = hours.where(ts.notna(), NO_TIME)
        written = []
        for part, frame in events.groupby(hours.to_numpy(), sort=True):
            path = self.root / str(part) / f"{name}.parquet"
            table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
            write_atomic(path, table)
            written.append(path)
        return written

    def partitions(self, start: datetime, end: datetime) -> list[Path]:
        """Hour directories that may hold events in [start, end] (existing ones only)."""
        out = []
        hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour <= end:
            path = self.root / hour.strftime("date=%Y-%m-%d/hour=%H")
            if path.is_dir():
                out.append(path)
            hour += timedelta(hours=1)
        return out

    def files(self, start: datetime, end: datetime) -> Iterator[Path]:
        for part in self.partitions(start, end):
            yield from sorted(part.glob("*.parquet"))

    def read(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Events with start <= @timestamp <= end, in time order, each event id once."""
        tables = [pq.read_table(p) for p in self.files(start, end)]
        if not tables:
            return empty_events().drop(columns=list(SPOOL_DROP))
        table = pa.concat_tables(tables, promote_options="default")
        ts = table.column("@timestamp")
        lo = pa.scalar(pd.Timestamp(start).as_unit("ns"), ts.type)
        hi = pa.scalar(pd.Timestamp(end).as_unit("ns"), ts.type)
        table = table.filter(pc.and_(pc.greater_equal(ts, lo), pc.less_equal(ts, hi)))
        table = _unique(table).sort_by([("@timestamp", "ascending")])  # stable: file order
        return _conform(table.to_pandas(types_mapper=pd.ArrowDtype))

    def count(self) -> int:
        """Every event in the spool (all partitions), from the Parquet footers."""
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.root.rglob("*.parquet"))

    def event_ids(self) -> pd.Series:
        """Every event id in the spool (with duplicates, if any file were doubled)."""
        parts = [
            pq.read_table(p, columns=["event.id"]).column(0).to_pandas()
            for p in sorted(self.root.rglob("*.parquet"))
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


def write_atomic(path: Path, table: pa.Table) -> None:
    """temp file in the same directory -> fsync -> rename -> fsync the directory."""
    _atomic(path, lambda out: pq.write_table(table, out, compression="zstd"))


def write_lines_atomic(path: Path, lines: Iterable[str]) -> None:
    """Text lines (UTF-8, each ended by LF) written the same way as `write_atomic`."""
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    _atomic(path, lambda out: out.write(data))


def _atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unique(table: pa.Table) -> pa.Table:
    """The first row of every event id (ids are hashed once, no string sort)."""
    if table.num_rows < 2:
        return table
    codes = pc.dictionary_encode(table.column("event.id").combine_chunks()).indices
    codes = codes.to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    if len(first) == table.num_rows:
        return table
    return table.take(pa.array(np.sort(first)))


def _conform(frame: pd.DataFrame) -> pd.DataFrame:
    for col in EVENT_COLUMNS:
        if col in SPOOL_DROP:
            continue
        if col not in frame.columns:
            frame[col] = pd.Series([pd.NA] * len(frame), dtype=dtype(col))
        elif frame[col].dtype != dtype(col):
            frame[col] = frame[col].astype(dtype(col))
    return frame
