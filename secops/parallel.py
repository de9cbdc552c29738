"""collect -> normalise -> (enrich + keep the rows rules read) on several cores.

Big files are cut into byte ranges at line boundaries (`secops.collect.split_ranges`); worker
processes (forked, so they share the loaded parsers, rules and topology) parse one range
each and hand back only the rows the rules can use, as Arrow-backed frames. The parent takes
the results in input order, so event ids (which count repeated lines per input), line
numbers of dead letters and the parse report come out exactly as a serial read gives them.
"""

from __future__ import annotations

import ctypes
import gc
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

from secops.collect import STDIN, expand_inputs, iter_range, split_ranges
from secops.correlate.windows import to_millis
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
    chunk_bytes: int = CHUNK_BYTES,
    ids: EventIds | None = None,
) -> Iterator[tuple[pd.DataFrame, int]]:
    """(prepared frame, events parsed) per chunk, in input order; `report` and `dead_letter`
    as iter_events does."""
    global _SETUP
    use_dead_letter(report, dead_letter)
    _SETUP = _Setup(registry_for(None), opts, prepare, dead_letter is not None)
    paths = expand_inputs(inputs)
    report.expect(paths)
    tasks = [(p, s, e) for p in paths for s, e in split_ranges(p, chunk_bytes)]
    ids = ids if ids is not None else EventIds()
    offsets: dict[str, int] = {}
    timings = timings if timings is not None else {}
    ctx = multiprocessing.get_context("fork")
    # objects alive now (parsers, rules, a topology of maybe 10k assets) go to the permanent
    # generation: the workers' garbage collector does not walk them (nor touch their pages)
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for chunk in _in_order(pool, tasks, ahead=3 * workers):
                before = offsets.get(chunk.path, 0)
                for result in chunk.results:
                    if not result.dead.empty:
                        result.dead["line"] += before
                    record_batch(result, chunk.path, report, dead_letter)
                offsets[chunk.path] = before + chunk.lines
                for step, seconds in chunk.timings.items():
                    timings[step] = round(timings.get(step, 0.0) + seconds, 4)
                yield _with_ids(chunk, ids), chunk.parsed
    finally:
        _SETUP = None
        gc.unfreeze()


def _in_order(
    pool: ProcessPoolExecutor, tasks: list[tuple[str, int, int]], ahead: int
) -> Iterator[_Chunk]:
    """Results in task order with at most `ahead` tasks in flight: finished chunks wait in
    memory only until their turn (`pool.map` would submit them all and let results pile up)."""
    todo = iter(tasks)
    pending: deque[Future[_Chunk]] = deque(pool.submit(_work, t) for t in islice(todo, ahead))
    while pending:
        chunk = pending.popleft().result()
        for task in islice(todo, 1):
            pending.append(pool.submit(_work, task))
        yield chunk


def _with_ids(chunk: _Chunk, ids: EventIds) -> pd.DataFrame:
    """Workers gave each event the id of a line's first occurrence; only lines seen before
    in the input (counted here, in input order) need another."""
    events = chunk.events
    hashes = events.pop(HASH).to_numpy(dtype=np.uint64)
    times = to_millis(events["@timestamp"]) if len(events) else np.zeros(0, dtype=np.int64)
    occurrence = ids.occurrences(chunk.path, hashes, times)
    again = np.flatnonzero(occurrence > 0)
    if len(again):
        column = pa.chunked_array(events["event.id"].array._pa_array).combine_chunks()  # type: ignore[attr-defined]
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
