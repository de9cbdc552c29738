"""Read what is new in the tracked files and spool it.

Files are known by device + inode and by a fingerprint (sha256 of their first bytes), so:
- a file that grew is read from where the last run stopped (only whole lines: a line still
  being written waits for the next run);
- a file renamed by rotation (auth.log -> auth.log.1) keeps its place: same inode;
- a truncated file (smaller than the offset, or other first bytes) is read again from 0;
- a rotated file compressed to `.gz` (new inode, same first bytes once decompressed) is read on
  from the old offset; rotated files (`.gz`, `.1`) are read to the end, last line included.

A run's new events are spooled as one file per hour partition named after the ingest
generation (a counter in the state that advances when the offsets are saved): a run re-done
after a crash starts from the same offsets with the same generation, reads a superset of what
the killed run read, and replaces its files instead of doubling them. Event ids follow
the normaliser's rule (raw line + occurrence within the file). How often each line was seen is
kept per file in the state directory; before a chunk is normalised, the earlier copies of its
lines are replayed into a fresh `EventIds`, so a file read in many runs gets the ids of one
batch read (and only the public `EventIds.ids` is used).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from secops.collect import LineBatch, expand_inputs
from secops.correlate.windows import to_millis
from secops.normalise import ParseReport, load_parsers
from secops.normalise.batch import Options, Registry, normalise_batch
from secops.normalise.events import EventIds
from secops.schedule.state import FileState, State
from secops.spool import Spool, write_atomic

FP_BYTES = 1024
MIN_FP_MATCH = 64
CHUNK_BYTES = 8 << 20
SPOOL_ROWS = 500_000  # a big catch-up is spooled in parts of about this many events
SEEN_KEY = "secops-tail-seen"
ROTATED = re.compile(r"\.(gz|\d+)$")


@dataclass
class Pending:
    """A file with something new to read: where from, and how much is there."""

    path: str
    entry: FileState
    size: int
    gz: bool
    rotated: bool

    @property
    def new_bytes(self) -> int:
        return max(0, self.size - self.entry.offset) if not self.gz else -1


@dataclass
class IngestResult:
    files: int = 0
    bytes: int = 0
    lines: int = 0
    events: int = 0
    report: ParseReport = field(default_factory=ParseReport)
    #: event times (ms) of what was spooled, to say which of it the window leaves out
    times: list[np.ndarray] = field(default_factory=list)
    #: ids of the spooled events timestamped at or before `late_upto` (arrived after a run
    #: covered their time)
    late_ids: set[str] = field(default_factory=set)

    def spooled_times(self) -> np.ndarray:
        return np.concatenate(self.times) if self.times else np.zeros(0, np.int64)


def plan(inputs: list[str], state: State) -> list[Pending]:
    """Match every input file to what the state knows of it (no reading beyond fingerprints)."""
    paths = [p for p in expand_inputs(inputs) if p != "-"]
    claimed: set[str] = set()
    out: list[Pending] = []
    unmatched = []
    for path in paths:
        st = os.stat(path)
        gz = _is_gz(path)
        entry = state.files.get(f"{st.st_dev}-{st.st_ino}")
        if entry and _fp_matches(path, gz, entry) and (gz or st.st_size >= entry.offset):
            claimed.add(entry.key)
            out.append(Pending(path, _moved(entry, path, st), st.st_size, gz, _rotated(path)))
        else:
            unmatched.append((path, st, gz))
    for path, st, gz in unmatched:
        entry = _by_fingerprint(path, gz, st.st_size, state, claimed)
        if entry is not None:
            claimed.add(entry.key)
            entry = _moved(entry, path, st)
        else:
            entry = FileState(path, st.st_dev, st.st_ino)
        out.append(Pending(path, entry, st.st_size, gz, _rotated(path)))
    return out


def ingest(
    pending: list[Pending],
    state: State,
    spool: Spool,
    state_dir: Path,
    *,
    registry: Registry | None = None,
    year: int | None,
    tz: str,
    now: datetime,
    dead_letter: str | Path | None,
    late_upto: int | None = None,
) -> IngestResult:
    """Read, normalise and spool what is new; returns counts. Updates `state.files` in place.
    Events timestamped at or before `late_upto` (ms; the last checkpoint) are late: their
    ids are kept in the result."""
    registry = registry or Registry(load_parsers())
    opts = Options(year=year, tz=tz, now=now, keep_original=False)
    result = IngestResult()
    files: dict[str, FileState] = {}
    frames: list[pd.DataFrame] = []
    name = f"ingest-{state.ingest_gen:010d}"
    for p in pending:
        entry = p.entry
        seen = _load_seen(state_dir, entry)
        read_any = False
        for start, first_line, lines, end in _chunks(p):
            batch = LineBatch(p.path, first_line, pa.array(lines, pa.string()))
            ids, seen = _replayed(p.path, lines, seen)
            out = normalise_batch(batch, registry, opts, ids)
            frames.append(out.events)
            _note_times(result, out.events, late_upto)
            if sum(len(f) for f in frames) >= SPOOL_ROWS:
                spool.write(
                    pd.concat(frames, ignore_index=True), f"{name}-{start:015d}-{entry.key}"
                )
                frames = []
            result.report.add(p.path, out.lines, out.blank, out.parsed, len(out.dead), out.binary)
            _dead_letters(out.dead, dead_letter)
            entry.offset, entry.lines = end, first_line - 1 + len(lines)
            result.lines += len(lines)
            result.events += len(out.events)
            result.bytes += end - start
            read_any = True
        if read_any:
            result.files += 1
            entry.seen = _save_seen(state_dir, entry, seen)
        _refresh_fp(p, entry)
        files[entry.key] = entry
    if frames:
        spool.write(pd.concat(frames, ignore_index=True), name)
    state.files = files
    state.ingest_gen += 1
    return result


def _note_times(result: IngestResult, events: pd.DataFrame, late_upto: int | None) -> None:
    times = to_millis(events["@timestamp"]) if len(events) else np.zeros(0, np.int64)
    result.times.append(times)
    if late_upto is not None and len(times):
        late = times <= late_upto
        if late.any():
            result.late_ids.update(events["event.id"].to_numpy()[late].tolist())


def _chunks(p: Pending) -> Iterator[tuple[int, int, list[str], int]]:
    """(start offset, first line number, lines, end offset) for each line-aligned chunk."""
    offset, line_no = p.entry.offset, p.entry.lines + 1
    with _open(p.path, p.gz) as stream:
        _skip(stream, offset, p.gz)
        carry = b""
        while True:
            block = stream.read(CHUNK_BYTES)
            data = carry + block
            if not data:
                return
            cut = data.rfind(b"\n") + 1
            if not block:  # end of the file: an unterminated last line waits unless rotated
                cut = len(data) if p.rotated or p.gz else cut
            if cut == 0:
                if not block:
                    return
                carry = data
                continue
            lines = _split(data[:cut])
            yield offset, line_no, lines, offset + cut
            offset += cut
            line_no += len(lines)
            carry = data[cut:]
            if not block:
                return


def _split(data: bytes) -> list[str]:
    """The collector's line rules: UTF-8 with U+FFFD for bad bytes, NUL -> U+FFFD, CRLF -> LF."""
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _open(path: str, gz: bool) -> BinaryIO:
    return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]


def _skip(stream: BinaryIO, offset: int, gz: bool) -> None:
    if not gz:
        stream.seek(offset)
        return
    while offset > 0:
        got = len(stream.read(min(offset, CHUNK_BYTES)))
        if not got:
            return
        offset -= got


def _is_gz(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _rotated(path: str) -> bool:
    return bool(ROTATED.search(path))


def _head(path: str, gz: bool, n: int) -> bytes:
    try:
        with _open(path, gz) as f:
            return f.read(n)
    except (OSError, EOFError):
        return b""


def _fp_matches(path: str, gz: bool, entry: FileState) -> bool:
    if entry.fp_len == 0:
        return True
    head = _head(path, gz, entry.fp_len)
    return len(head) == entry.fp_len and hashlib.sha256(head).hexdigest() == entry.fp


def _by_fingerprint(
    path: str, gz: bool, size: int, state: State, claimed: set[str]
) -> FileState | None:
    for entry in state.files.values():
        if entry.key in claimed or entry.fp_len < MIN_FP_MATCH:
            continue
        if not gz and size < entry.offset:
            continue
        if _fp_matches(path, gz, entry):
            return entry
    return None


def _moved(entry: FileState, path: str, st: os.stat_result) -> FileState:
    return FileState(
        path, st.st_dev, st.st_ino, entry.offset, entry.lines, entry.fp, entry.fp_len, entry.seen
    )


def _refresh_fp(p: Pending, entry: FileState) -> None:
    if entry.fp_len >= FP_BYTES:
        return
    head = _head(p.path, p.gz, FP_BYTES)
    entry.fp, entry.fp_len = hashlib.sha256(head).hexdigest(), len(head)


def _replayed(path: str, lines: list[str], seen: pd.Series) -> tuple[EventIds, pd.Series]:
    """A fresh EventIds that has already counted the earlier copies of these lines, and the
    counts with this chunk added."""
    texts = np.asarray(lines, dtype=object)
    h = pd.Series(pd.util.hash_array(texts, hash_key=SEEN_KEY))
    first = ~h.duplicated()
    prior = h[first].map(seen).fillna(0).astype("int64").to_numpy()
    ids = EventIds()
    if prior.any():
        replay = np.repeat(texts[first.to_numpy()], prior)
        ids.ids(path, pa.array(replay.tolist(), pa.string()))
    return ids, seen.add(h.value_counts(), fill_value=0).astype("int64")


def _load_seen(state_dir: Path, entry: FileState) -> pd.Series:
    if not entry.seen or not (state_dir / entry.seen).exists():
        return pd.Series(dtype="int64")
    table = pq.read_table(state_dir / entry.seen)
    return pd.Series(
        table.column("n").to_numpy(), index=table.column("h").to_numpy(), dtype="int64"
    )


def _save_seen(state_dir: Path, entry: FileState, seen: pd.Series | None) -> str | None:
    if seen is None:
        return entry.seen
    name = f"seen/{entry.key}-{entry.offset}.parquet"
    table = pa.table({"h": pa.array(seen.index.to_numpy(dtype="uint64")), "n": seen.to_numpy()})
    write_atomic(state_dir / name, table)
    return name


def forget_unused(state_dir: Path, state: State) -> None:
    """Delete occurrence files the (saved) state no longer names."""
    used = {e.seen for e in state.files.values() if e.seen}
    for path in (state_dir / "seen").glob("*.parquet"):
        if f"seen/{path.name}" not in used:
            path.unlink(missing_ok=True)


def _dead_letters(dead: pd.DataFrame, path: str | Path | None) -> None:
    if path is None or dead.empty:
        return
    with open(path, "a", encoding="utf-8") as out:
        rec: Any  # a row of object columns
        for rec in dead.itertuples(index=False):
            doc = {"file": rec.file, "line": int(rec.line), "reason": rec.reason, "raw": rec.raw}
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
