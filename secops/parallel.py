"""collect -> normalise -> (enrich + keep the rows rules read) on several cores.

Big files are cut into byte ranges at line boundaries (`secops.collect.split_ranges`); worker
processes (forked, so they share the loaded parsers, rules and topology) parse one range
each and hand back only the rows the rules can use, as Arrow-backed frames. The parent takes
the results in time order (`plan`: the chunks of every file merged by their first event time,
each file's chunks in file order), so event ids (which count repeated lines per input), line
numbers of dead letters and the parse report come out exactly as a serial read gives them.
`Frontier` says how far the events are complete: every event still to come is at or after
`Frontier.lowest`, give or take how far a file is out of order.
"""

from __future__ import annotations

import ctypes
import gc
import heapq
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from secops.collect import STDIN, LineBatch, expand_inputs, head_lines, iter_range, split_ranges
from secops.correlate.windows import HAS_TIME, to_millis
from secops.normalise import (
    WORK_LINES,
    ParseReport,
    record_batch,
    registry_for,
    use_dead_letter,
)
from secops.normalise.batch import BatchResult, Options, Registry, normalise_batch
from secops.normalise.events import EventIds, LineHashes, event_ids

#: bytes per work item: big enough to amortise a task, small enough to spread over cores
CHUNK_BYTES = 8 << 20
HASH = "_line_hash"
#: the row's place in a serial read of the inputs (file, chunk, row): the order of one whole run
ORDER = "_order"
#: lines of a chunk's head parsed in the parent to place the chunk in time
HEAD_LINES = 32
_FAR = int(np.iinfo(np.int64).max)
_POSITION = "_position"  # row of a kept event in its parsed batch

Prepare = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass
class _Setup:
    registry: Registry
    opts: Options
    prepare: Prepare
    keep_dead: bool


@dataclass
class _Chunk:
    path: str
    events: pd.DataFrame  # prepared rows, `_line_hash` instead of `event.id`
    results: list[BatchResult]  # counts and dead letters (line numbers from 1 in the chunk)
    lines: int
    parsed: int
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Task:
    path: str
    start: int
    end: int
    file: int  # index of the file in the inputs
    chunk: int  # index of the chunk in its file
    key: int  # ms: no earlier than its file's events before it (the chunk's head, running max)


class Frontier:
    """How far the merged stream is complete: a lower bound of every event time still to
    come, for files whose events are in time order: the lowest head (`_Task.key`) of the
    next chunk of each file with chunks left (`_FAR` once all are read). Heads only, not the
    latest event read: one line stamped in the future does not make the rest of its file
    late."""

    def __init__(self) -> None:
        self.lowest = _FAR
        self._next: dict[int, list[int]] = {}  # file -> keys of its chunks still to read
        self._heap: list[tuple[int, int]] = []

    def plan(self, tasks: list[_Task]) -> None:
        for t in sorted(tasks, key=lambda t: (t.file, -t.chunk)):
            self._next.setdefault(t.file, []).append(t.key)
        for f in self._next:
            self._push(f)
        self._settle()

    def read(self, file: int) -> None:
        """The next chunk of `file` was read."""
        self._next[file].pop()
        self._push(file)
        self._settle()

    def _bound(self, f: int) -> int:
        keys = self._next[f]
        return keys[-1] if keys else _FAR

    def _push(self, f: int) -> None:
        heapq.heappush(self._heap, (self._bound(f), f))

    def _settle(self) -> None:
        while self._heap and self._heap[0][0] != self._bound(self._heap[0][1]):
            heapq.heappop(self._heap)  # stale entry: the file's bound moved on
        self.lowest = self._heap[0][0] if self._heap else _FAR


_SETUP: _Setup | None = None  # set in the parent before the fork; read in the workers


def default_workers() -> int:
    """SECOPS_WORKERS, else the cores this process may use (at most 8)."""
    env = os.environ.get("SECOPS_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def worth_parallel(inputs: list[str], chunk_bytes: int = CHUNK_BYTES) -> bool:
    """More than one chunk of regular files (forking costs more than small inputs save)."""
    if STDIN in inputs:
        return False
    total = 0
    for path in expand_inputs(inputs):
        total += os.path.getsize(path)
    return total > 2 * chunk_bytes


def read_parallel(
    inputs: list[str],
    report: ParseReport,
    *,
    prepare: Prepare,
    workers: int,
    opts: Options,
    dead_letter: str | Path | None = None,
    timings: dict[str, float] | None = None,
    chunk_bytes: int | None = None,
    ids: EventIds | None = None,
    frontier: Frontier | None = None,
) -> Iterator[tuple[pd.DataFrame, int]]:
    """(prepared frame, events parsed) per chunk, the files merged in time order (`plan`),
    each row with its `ORDER` in a serial read; `report` and `dead_letter` as iter_events
    does; `frontier` (when given) is kept up to date before each chunk is handed out."""
    global _SETUP
    use_dead_letter(report, dead_letter)
    _SETUP = _Setup(registry_for(None), opts, prepare, dead_letter is not None)
    paths = expand_inputs(inputs)
    report.expect(paths)
    tasks = plan(paths, chunk_bytes or CHUNK_BYTES, _SETUP)
    frontier = frontier if frontier is not None else Frontier()
    frontier.plan(tasks)
    ids = ids if ids is not None else EventIds()
    offsets: dict[str, int] = {}
    timings = timings if timings is not None else {}
    ctx = multiprocessing.get_context("fork")
    # objects alive now (parsers, rules, a topology of maybe 10k assets) go to the permanent
    # generation: the workers' garbage collector does not walk them (nor touch their pages)
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for task, chunk in _in_order(pool, tasks, ahead=3 * workers):
                before = offsets.get(chunk.path, 0)
                for result in chunk.results:
                    if not result.dead.empty:
                        result.dead["line"] += before
                    record_batch(result, chunk.path, report, dead_letter)
                offsets[chunk.path] = before + chunk.lines
                for step, seconds in chunk.timings.items():
                    timings[step] = round(timings.get(step, 0.0) + seconds, 4)
                events = _with_ids(chunk, ids)
                frontier.read(task.file)
                events[ORDER] = (task.file << 44) + (task.chunk << 24) + np.arange(len(events))
                yield events, chunk.parsed
    finally:
        _SETUP = None
        gc.unfreeze()


def plan(paths: list[str], chunk_bytes: int, setup: _Setup) -> list[_Task]:
    """Every file's chunks, merged by time: a k-way merge of the files (each in file order)
    by the first event time of each chunk's head (made a running max per file, so a file's
    chunks keep their order; a head with no time sorts with its file's previous chunk)."""
    tasks = []
    for file, path in enumerate(paths):
        ranges = split_ranges(path, chunk_bytes)
        heads = _head_times(path, ranges, setup)
        keys = np.maximum.accumulate(np.array(heads, dtype=np.int64)).tolist()
        for chunk, ((start, end), key) in enumerate(zip(ranges, keys, strict=True)):
            tasks.append(_Task(path, start, end, file, chunk, key))
    return sorted(tasks, key=lambda t: (t.key, t.file, t.chunk))


class _LineOf(LineHashes):
    """Also says which line of the last batch each event came from."""

    def lines(self) -> np.ndarray:
        return self._rows.to_numpy()


def _head_times(path: str, ranges: list[tuple[int, int]], setup: _Setup) -> list[int]:
    """Per chunk, the earliest event time among its first lines (HAS_TIME when none parses);
    the heads of all chunks of the file are parsed as one batch."""
    heads = [head_lines(path, start, HEAD_LINES) for start, _ in ranges]
    sizes = np.array([0 if h is None else len(h) for h in heads])
    out = np.full(len(ranges), _FAR, dtype=np.int64)
    if sizes.sum():
        lines = pa.concat_arrays([h for h in heads if h is not None and len(h)])
        of = _LineOf()
        events = normalise_batch(LineBatch(path, 1, lines), setup.registry, setup.opts, of).events
        times = to_millis(events["@timestamp"]) if len(events) else np.zeros(0, dtype=np.int64)
        chunk = np.repeat(np.arange(len(ranges)), sizes)[of.lines()] if len(events) else times
        valid = times > HAS_TIME
        np.minimum.at(out, chunk[valid], times[valid])
    return np.where(out == _FAR, HAS_TIME, out).tolist()


def _in_order(
    pool: ProcessPoolExecutor, tasks: list[_Task], ahead: int
) -> Iterator[tuple[_Task, _Chunk]]:
    """Results in task order with at most `ahead` tasks in flight: finished chunks wait in
    memory only until their turn (`pool.map` would submit them all and let results pile up)."""
    todo = iter(tasks)
    pending: deque[tuple[_Task, Future[_Chunk]]] = deque(
        (t, pool.submit(_work, (t.path, t.start, t.end))) for t in islice(todo, ahead)
    )
    while pending:
        task, future = pending.popleft()
        chunk = future.result()
        for t in islice(todo, 1):
            pending.append((t, pool.submit(_work, (t.path, t.start, t.end))))
        yield task, chunk


def _with_ids(chunk: _Chunk, ids: EventIds) -> pd.DataFrame:
    """Workers gave each event the id of a line's first occurrence; only lines seen before
    in the input (counted here, in input order) need another."""
    events = chunk.events
    hashes = events.pop(HASH).to_numpy(dtype=np.uint64)
    times = to_millis(events["@timestamp"]) if len(events) else np.zeros(0, dtype=np.int64)
    occurrence = ids.occurrences(chunk.path, hashes, times)
    again = np.flatnonzero(occurrence > 0)
    if len(again):
        column = pa.chunked_array(events["event.id"].array._pa_array).combine_chunks()
        fixed = pc.replace_with_mask(
            column,
            _mask(len(events), again),
            event_ids(hashes[again], occurrence[again]),
        )
        events["event.id"] = pd.Series(fixed, index=events.index, dtype=events["event.id"].dtype)
    return events


def _mask(n: int, rows: np.ndarray) -> pa.Array:
    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return pa.array(out)


def _work(task: tuple[str, int, int]) -> _Chunk:
    assert _SETUP is not None, "read_parallel sets up the workers"
    setup = _SETUP
    path, start, end = task
    hashes = LineHashes()
    frames, results, lines, parsed = [], [], 0, 0
    clock = {"workers:read": 0.0, "workers:parse": 0.0, "workers:enrich+select": 0.0}
    t = time.perf_counter()
    for batch in iter_range(path, start, end, WORK_LINES):
        t = _lap(clock, "workers:read", t)
        result = normalise_batch(batch, setup.registry, setup.opts, hashes)
        t = _lap(clock, "workers:parse", t)
        events = result.events
        events[_POSITION] = np.arange(len(events), dtype=np.int64)
        kept = setup.prepare(events)
        line_hash = hashes.hash_rows(kept.pop(_POSITION).to_numpy(dtype=np.int64))
        kept[HASH] = line_hash
        first = event_ids(line_hash, np.zeros(len(line_hash), dtype=np.int64))
        kept["event.id"] = pd.Series(first, index=kept.index, dtype=kept["event.id"].dtype)
        frames.append(kept)
        t = _lap(clock, "workers:enrich+select", t)
        lines += result.lines
        parsed += len(events)
        result.events = events.iloc[:0]
        if not setup.keep_dead:
            result.dead = pd.DataFrame(index=pd.RangeIndex(len(result.dead)))  # the count only
        results.append(result)
    events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({HASH: []})
    del frames
    give_back_memory()
    return _Chunk(path, events, results, lines, parsed, clock)


def give_back_memory() -> None:
    """Hand freed memory back to the system: Arrow's pool (mimalloc) and glibc's heap keep
    most of it otherwise, and a long-lived process grows to its largest batch or step."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _lap(clock: dict[str, float], step: str, t: float) -> float:
    now = time.perf_counter()
    clock[step] += now - t
    return now
