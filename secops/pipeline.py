"""The one place where the order of the steps is visible.

collect -> normalise -> enrich -> correlate -> judge -> score -> sinks
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from secops.correlate import correlate, load_rules
from secops.correlate.rule import Rule
from secops.enrich import enrich
from secops.judge import judge
from secops.judge.exceptions import FindingException, load_exceptions, resolve_exceptions_path
from secops.normalise import ParseReport, iter_events
from secops.normalise.batch import Options
from secops.parallel import default_workers, read_parallel, worth_parallel
from secops.schema import empty_events
from secops.score import ENTITY_FIELDS, score
from secops.topology import Topology, load_topology

#: columns the correlation does not need; dropped right after parsing to bound memory.
HEAVY_COLUMNS = ("event.original", "message")


@dataclass
class RunResult:
    findings: list[dict[str, Any]]
    report: ParseReport
    events: int
    rules: int
    timings: dict[str, float] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)

    @property
    def raised(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if not f["finding"]["suppressed"]]

    @property
    def cut(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["finding"]["suppressed"]]


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(self.timings.get(step, 0.0) + now - self._t, 4)
        self._t = now


def read_events(
    inputs: list[str],
    report: ParseReport,
    *,
    year: int | None = None,
    tz: str = "UTC",
    dead_letter: str | Path | None = None,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
    sources: Iterable[pd.DataFrame] = (),
    keep: Iterable[str] = (),
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    workers: int = 1,
    timings: dict[str, float] | None = None,
) -> pd.DataFrame:
    """collect + normalise: every input into one events frame (heavy text columns dropped).

    `sources` are frames already in the common stream (e.g. pages read from Elasticsearch).
    `keep` names heavy columns the rules read (e.g. `message` for Sigma keyword rules).
    `prepare` runs on each batch as it is parsed (e.g. enrich + keep the rows rules read);
    with `workers` > 1 big inputs are parsed and prepared in that many processes.
    """
    heavy = [c for c in HEAVY_COLUMNS if c not in set(keep)]

    def trim(batch: pd.DataFrame) -> pd.DataFrame:
        batch = batch.drop(columns=[c for c in heavy if c in batch.columns])
        return prepare(batch) if prepare is not None else batch

    frames = []
    for batch, n in chain(
        _parsed(inputs, report, trim, workers, year, tz, dead_letter, now, timings),
        ((trim(s), len(s)) for s in sources),
    ):
        frames.append(batch)
        if on_batch:
            on_batch(n)
    if not frames:
        return trim(empty_events())
    events = pd.concat(frames, ignore_index=True)
    frames.clear()
    return _one_chunk(events)


def _one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """Each Arrow column in one chunk: taking evidence rows from a column of hundreds of
    batch chunks costs ~100x more (judge takes rows per candidate)."""
    for name in frame.columns:
        arr = frame[name].array
        data = getattr(arr, "_pa_array", None)
        if isinstance(data, pa.ChunkedArray) and data.num_chunks > 1:
            frame[name] = pd.Series(
                pd.arrays.ArrowExtensionArray(data.combine_chunks()), index=frame.index
            )
    return frame


def _parsed(
    inputs: list[str],
    report: ParseReport,
    trim: Callable[[pd.DataFrame], pd.DataFrame],
    workers: int,
    year: int | None,
    tz: str,
    dead_letter: str | Path | None,
    now: datetime | None,
    timings: dict[str, float] | None,
) -> Iterator[tuple[pd.DataFrame, int]]:
    """(prepared frame, events parsed into it) per batch or chunk, in input order."""
    if not inputs:
        return
    if workers > 1 and worth_parallel(inputs):
        opts = Options(year=year, tz=tz, now=now or datetime.now(UTC), keep_original=False)
        yield from read_parallel(
            inputs, report, prepare=trim, workers=workers, opts=opts,
            dead_letter=dead_letter, timings=timings,
        )  # fmt: skip
        return
    for batch in iter_events(
        inputs, year=year, tz=tz, dead_letter=dead_letter, report=report, now=now,
        keep_original=False,
    ):  # fmt: skip
        yield trim(batch), len(batch)


def rule_columns(rules: list[Rule]) -> set[str]:
    """Every column a rule's conditions read (filter, followed_by, sequence steps)."""
    conds = [c for r in rules for c in (r.filter, r.followed_by) if c is not None]
    conds += [s.filter for r in rules for s in r.steps]
    return {f for c in conds for f in c.fields}


def rule_rows(rules: list[Rule]) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """A mask of the rows any rule's conditions can match (None: some rule reads every row).

    Rows outside it can change no detection: detectors only ever look at rows their own
    filters select. Evaluated on enriched frames (conditions may read the locality)."""
    conds = []
    for r in rules:
        own = [c for c in (r.filter, r.followed_by) if c is not None]
        own += [s.filter for s in r.steps if s.filter is not None]
        if not own:
            return None
        conds.extend(own)

    def mask(frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros(len(frame), dtype=bool)
        for cond in conds:
            out |= cond(frame)
        return out

    return mask


#: columns the judge and the finding document read, whatever the rules
DETECT_COLUMNS = frozenset(
    {"@timestamp", "event.id", "event.category", *ENTITY_FIELDS}
    | {f"{side}.{x}" for side in ("source", "destination") for x in ("asset", "zone", "locality")}
    | {"host.asset", "host.zone"}
)


def used_columns(rules: list[Rule]) -> set[str]:
    """Every column detection reads: rule conditions and keys, judge and score."""
    cols = rule_columns(rules) | DETECT_COLUMNS
    for r in rules:
        cols |= {*r.group_by, *([r.field] if r.field else [])}
        cols |= {f for s in r.steps for f in s.by} | {f for c in r.step_carry for f in c}
    return cols


def enrich_and_select(
    rules: list[Rule], topology: Topology
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Per batch: enrich, then keep only the rows some rule can use and the columns detection
    reads (bounds memory; `_`-prefixed bookkeeping columns stay)."""
    rows = rule_rows(rules)
    keep = used_columns(rules)

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        frame = enrich(frame, topology)
        if rows is not None and not frame.empty:
            frame = frame[rows(frame)].reset_index(drop=True)
        return frame[[c for c in frame.columns if c in keep or c.startswith("_")]]

    return prepare


def detect(
    events: pd.DataFrame,
    rules: list[Rule],
    topology: Topology,
    clock: _Clock | None = None,
    exceptions: list[FindingException] | None = None,
    now: datetime | None = None,
    *,
    enriched: bool = False,
) -> list[dict[str, Any]]:
    """enrich -> correlate -> judge -> score, on an events frame already in memory
    (`enriched`: the topology columns are there already, e.g. from enrich_and_select)."""
    clock = clock or _Clock()
    if not enriched:
        events = enrich(events, topology)
        clock.lap("enrich")
    candidates = correlate(events, rules)
    clock.lap("rules")
    judgements = judge(candidates, events, topology, exceptions or (), now)
    clock.lap("judge")
    findings = score(judgements)
    clock.lap("score")
    return findings


def run(
    inputs: list[str],
    *,
    rules_paths: list[str] | None = None,
    topology_path: str | None = None,
    exceptions_path: str | None = None,
    sinks: Iterable[Any] = (),
    year: int | None = None,
    tz: str = "UTC",
    dead_letter: str | Path | None = None,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
    sources: Iterable[pd.DataFrame] = (),
    workers: int | None = None,
) -> RunResult:
    """The whole job: read, parse, enrich, correlate, judge, score, write to every sink."""
    clock = _Clock()
    rules = load_rules(rules_paths)
    topology = load_topology(topology_path)
    exceptions = load_exceptions(resolve_exceptions_path(exceptions_path))
    clock.lap("load")
    report = ParseReport()
    parsed = [0]

    def counted(n: int) -> None:
        parsed[0] += n
        if on_batch:
            on_batch(n)

    events = read_events(
        inputs,
        report,
        year=year,
        tz=tz,
        dead_letter=dead_letter,
        now=now,
        on_batch=counted,
        sources=sources,
        keep=rule_columns(rules),
        prepare=enrich_and_select(rules, topology),
        workers=default_workers() if workers is None else workers,
        timings=clock.timings,
    )
    clock.lap("read+parse+enrich")
    findings = detect(events, rules, topology, clock, exceptions, now, enriched=True)
    result = RunResult(findings, report, parsed[0], len(rules), clock.timings)
    for sink in sinks:
        result.written[sink.name] = sink.write(findings)
        clock.lap(f"sink:{sink.name}")
    return result
