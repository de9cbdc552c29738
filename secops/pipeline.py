"""The one place where the order of the steps is visible.

collect -> normalise -> enrich -> correlate -> judge -> score -> sinks
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from secops.correlate import correlate, load_rules
from secops.correlate.rule import Rule
from secops.enrich import enrich
from secops.judge import judge
from secops.judge.exceptions import FindingException, load_exceptions, resolve_exceptions_path
from secops.normalise import ParseReport, iter_events
from secops.schema import empty_events
from secops.score import score
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
) -> pd.DataFrame:
    """collect + normalise: every input into one events frame (heavy text columns dropped).

    `sources` are frames already in the common stream (e.g. pages read from Elasticsearch).
    `keep` names heavy columns the rules read (e.g. `message` for Sigma keyword rules).
    """
    heavy = [c for c in HEAVY_COLUMNS if c not in set(keep)]
    frames = []
    batches = (
        iter_events(
            inputs,
            year=year,
            tz=tz,
            dead_letter=dead_letter,
            report=report,
            now=now,
            keep_original=False,
        )
        if inputs
        else iter(())
    )
    for batch in chain(batches, sources):
        frames.append(batch.drop(columns=[c for c in heavy if c in batch.columns]))
        if on_batch:
            on_batch(len(batch))
    if not frames:
        return empty_events().drop(columns=heavy)
    return pd.concat(frames, ignore_index=True)


def rule_columns(rules: list[Rule]) -> set[str]:
    """Every column a rule's conditions read (filter, followed_by, sequence steps)."""
    conds = [c for r in rules for c in (r.filter, r.followed_by) if c is not None]
    conds += [s.filter for r in rules for s in r.steps]
    return {f for c in conds for f in c.fields}


def detect(
    events: pd.DataFrame,
    rules: list[Rule],
    topology: Topology,
    clock: _Clock | None = None,
    exceptions: list[FindingException] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """enrich -> correlate -> judge -> score, on an events frame already in memory."""
    clock = clock or _Clock()
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
) -> RunResult:
    """The whole job: read, parse, enrich, correlate, judge, score, write to every sink."""
    clock = _Clock()
    rules = load_rules(rules_paths)
    topology = load_topology(topology_path)
    exceptions = load_exceptions(resolve_exceptions_path(exceptions_path))
    clock.lap("load")
    report = ParseReport()
    events = read_events(
        inputs,
        report,
        year=year,
        tz=tz,
        dead_letter=dead_letter,
        now=now,
        on_batch=on_batch,
        sources=sources,
        keep=rule_columns(rules),
    )
    clock.lap("read+parse")
    findings = detect(events, rules, topology, clock, exceptions, now)
    result = RunResult(findings, report, len(events), len(rules), clock.timings)
    for sink in sinks:
        result.written[sink.name] = sink.write(findings)
        clock.lap(f"sink:{sink.name}")
    return result
