"""The one place where the order of the steps is visible.

collect -> normalise -> enrich -> correlate -> judge -> score -> sinks
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from secops.collect import STDIN
from secops.correlate import correlate, load_rules
from secops.correlate.candidate import Carry
from secops.correlate.conditions import remember
from secops.correlate.rule import Rule, conditions_of
from secops.enrich import enrich
from secops.judge import judge
from secops.judge.exceptions import FindingException, load_exceptions, resolve_exceptions_path
from secops.normalise import ParseReport, iter_events
from secops.normalise.batch import Options
from secops.normalise.events import EventIds
from secops.parallel import ORDER, Frontier, default_workers, read_parallel, worth_parallel
from secops.schema import empty_events
from secops.score import ENTITY_FIELDS, score
from secops.steps import Steps, max_skew_ms, one_chunk
from secops.topology import Topology, load_topology

#: columns the correlation does not need; dropped right after parsing to bound memory.
HEAVY_COLUMNS = ("event.original", "message")
#: selected rows gathered before a correlation step in chunked mode (~260 bytes a row)
STEP_ROWS = 300_000


@dataclass
class RunResult:
    findings: list[dict[str, Any]]
    report: ParseReport
    events: int
    rules: int
    timings: dict[str, float] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    #: {"mode": "chunked", "steps", "held_max_rows", "max_skew_ms", "late_events"[, "earliest_late"]}
    #: or {"mode": "whole", "reason"}
    correlation: dict[str, Any] = field(default_factory=dict)

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


def iter_prepared(
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
    columns: Iterable[str] | None = None,
    ids: EventIds | None = None,
    frontier: Frontier | None = None,
) -> Generator[pd.DataFrame, None, None]:
    """collect + normalise: every input as a stream of event frames in input order (heavy text
    columns dropped); at least one frame, an empty one when nothing parses. With `frontier`,
    the files are read in worker processes (even one) and merged in time order instead
    (`secops.parallel.read_parallel`), the frontier kept up to date.

    `sources` are frames already in the common stream (e.g. pages read from Elasticsearch).
    `keep` names heavy columns the rules read (e.g. `message` for Sigma keyword rules).
    `prepare` runs on each batch as it is parsed (e.g. enrich + keep the rows rules read);
    with `workers` > 1 big inputs are parsed and prepared in that many processes, which
    drop event columns outside `columns` (when given) as soon as they are parsed.
    `on_batch` gets the number of events parsed into each frame; `ids` numbers the workers'
    events (the caller may `forget` the past).
    """
    merge = (ids, frontier)
    heavy = [c for c in HEAVY_COLUMNS if c not in set(keep)]

    def trim(batch: pd.DataFrame) -> pd.DataFrame:
        batch = batch.drop(columns=[c for c in heavy if c in batch.columns])
        return prepare(batch) if prepare is not None else batch

    empty = True
    for batch, n in chain(
        _parsed(inputs, report, trim, workers, year, tz, dead_letter, now, timings, columns, merge),
        ((trim(s), len(s)) for s in sources),
    ):
        if on_batch:
            on_batch(n)
        empty = False
        yield batch
    if empty:
        yield trim(empty_events())


def _whole(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One frame, its rows in the order of a serial read (workers hand chunks in time order)."""
    parts = list(frames)
    events = one_chunk(pd.concat(parts, ignore_index=True))
    parts.clear()
    if ORDER in events.columns:
        order = np.argsort(events[ORDER].to_numpy(dtype=np.int64), kind="stable")
        if (np.diff(order) < 0).any():
            events = events.take(order).reset_index(drop=True)
    return events


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
    columns: Iterable[str] | None = None,
    merge: tuple[EventIds | None, Frontier | None] = (None, None),
) -> Iterator[tuple[pd.DataFrame, int]]:
    """(prepared frame, events parsed into it) per batch or chunk, in input order (merged in
    time order with a frontier in `merge`)."""
    if not inputs:
        return
    ids, frontier = merge
    if frontier is not None or (workers > 1 and worth_parallel(inputs)):
        opts = Options(
            year=year, tz=tz, now=now or datetime.now(UTC), keep_original=False,
            columns=None if columns is None else frozenset(columns),
        )  # fmt: skip
        yield from read_parallel(
            inputs, report, prepare=trim, workers=workers, opts=opts,
            dead_letter=dead_letter, timings=timings, ids=ids, frontier=frontier,
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


def rule_rows(
    rules: list[Rule],
) -> Callable[[pd.DataFrame], tuple[pd.DataFrame, np.ndarray]] | None:
    """(the frame with every condition's mask kept, a mask of the rows any rule's conditions
    can match), or None when some rule reads every row.

    Rows outside it can change no detection: detectors only ever look at rows their own
    filters select. Evaluated on enriched frames (conditions may read the locality). The
    kept masks (`remember`) are read by the detectors instead of evaluating again."""
    conds = []
    for r in rules:
        own = conditions_of(r)
        if not own:
            return None
        conds.extend(own)
    return lambda frame: remember(conds, frame)


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
        wanted = None
        if rows is not None and not frame.empty:
            frame, wanted = rows(frame)
        frame = frame[[c for c in frame.columns if c in keep or c.startswith("_")]]
        return frame if wanted is None else frame[wanted].reset_index(drop=True)

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
    since: dict[str, int] | None = None,
    carried: dict[str, Carry] | None = None,
) -> list[dict[str, Any]]:
    """enrich -> correlate -> judge -> score, on an events frame already in memory
    (`enriched`: the topology columns are there already, e.g. from enrich_and_select;
    `since`: per rule id, the time from which that rule reads the events; `carried`: per rule
    id, its open episodes whose first rows a time step summarised)."""
    clock = clock or _Clock()
    if not enriched:
        events = enrich(events, topology)
        clock.lap("enrich")
    candidates = correlate(events, rules, since, carried)
    clock.lap("rules")
    judgements = judge(candidates, events, topology, exceptions or (), now)
    clock.lap("judge")
    findings = score(judgements)
    clock.lap("score")
    return findings


class _Progress:
    """Counts parsed events for `on_batch`."""

    def __init__(self, on_batch: Callable[[int], None] | None) -> None:
        self.on_batch, self.seen, self.shown = on_batch, 0, 0

    def __call__(self, n: int) -> None:
        self.seen += n
        if self.seen > self.shown and self.on_batch:
            self.on_batch(self.seen - self.shown)
        self.shown = max(self.shown, self.seen)


def _plan(
    inputs: list[str], sources: Iterable[pd.DataFrame], step_rows: int | None
) -> dict[str, Any]:
    """Correlate in steps of `step_rows` selected rows, or in one piece (and why)."""
    env = os.environ.get("SECOPS_STEP_ROWS", "").strip()
    step_rows = int(env) if step_rows is None and env.isdigit() else step_rows
    reason = (
        "step rows 0" if step_rows == 0
        else "events from other sources" if not isinstance(sources, tuple | list) or sources
        else "stdin cannot be read twice" if STDIN in inputs or not inputs
        else "small input" if step_rows is None and not worth_parallel(inputs)
        else None
    )  # fmt: skip
    if reason:
        return {"mode": "whole", "reason": reason}
    return {"mode": "chunked", "step_rows": step_rows or STEP_ROWS}


def _in_steps(
    frames: Generator[pd.DataFrame, None, None], steps: Steps
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The findings correlated in steps, and how (`Steps.summary`)."""
    with closing(frames):
        for frame in frames:
            steps.add(frame)
    steps.clock.lap("read+parse+enrich")
    return steps.finish(), steps.summary()


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
    step_rows: int | None = None,
    max_skew: str | int | None = None,
) -> RunResult:
    """The whole job: read, parse, enrich, correlate, judge, score, write to every sink.

    Big regular files are correlated in time steps of `step_rows` selected rows (default
    STEP_ROWS or SECOPS_STEP_ROWS; 0: in one piece; given: in steps even when small) with the
    findings of one whole run: the files are merged in time order, and a file may be out of
    order by `max_skew` ('2m', ms; default SECOPS_MAX_SKEW, else steps.MAX_SKEW_MS); events
    later than that are counted as late (`RunResult.correlation` says how it ran).
    """
    clock = _Clock()
    rules = load_rules(rules_paths)
    topology = load_topology(topology_path)
    exceptions = load_exceptions(resolve_exceptions_path(exceptions_path))
    clock.lap("load")
    now = now or datetime.now(UTC)
    progress = _Progress(on_batch)
    stream = partial(
        iter_prepared, inputs, year=year, tz=tz, dead_letter=dead_letter, now=now,
        on_batch=progress, keep=rule_columns(rules), prepare=enrich_and_select(rules, topology),
        workers=default_workers() if workers is None else workers, timings=clock.timings,
        columns=used_columns(rules),
    )  # fmt: skip

    def detect_rows(
        events: pd.DataFrame,
        since: dict[str, int] | None = None,
        carried: dict[str, Carry] | None = None,
    ) -> list[dict[str, Any]]:
        return detect(
            events, rules, topology, clock, exceptions, now, enriched=True, since=since,
            carried=carried,
        )  # fmt: skip

    plan = _plan(inputs, sources, step_rows)
    report = ParseReport()
    if plan["mode"] == "chunked":
        ids, frontier = EventIds(), Frontier()
        steps = Steps(
            rules, detect_rows, clock, plan["step_rows"], ids, frontier, max_skew_ms(max_skew)
        )
        findings, plan = _in_steps(stream(report, ids=ids, frontier=frontier), steps)
        del steps
    else:
        events = _whole(stream(report, sources=sources))
        clock.lap("read+parse+enrich")
        findings = detect_rows(events)
    result = RunResult(findings, report, progress.seen, len(rules), clock.timings, correlation=plan)
    for sink in sinks:
        result.written[sink.name] = sink.write(findings)
        clock.lap(f"sink:{sink.name}")
    return result
