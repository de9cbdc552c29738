"""One scheduled run, start to finish (see the package docstring for the order)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from secops.correlate import Rule, load_rules
from secops.correlate.resume import changed_since, longest_window, resume_point
from secops.correlate.windows import to_millis
from secops.errors import SinkError
from secops.judge.exceptions import FindingException, load_exceptions
from secops.normalise import load_parsers
from secops.normalise.batch import Registry
from secops.pipeline import HEAVY_COLUMNS, detect, rule_columns
from secops.schedule import tail
from secops.schedule.leftout import counts as left_counts
from secops.schedule.leftout import late_findings, left_out
from secops.schedule.lock import RunLock
from secops.schedule.state import State, load_state, save_state
from secops.score import WEIGHT
from secops.spool import Spool
from secops.topology import Topology, load_topology

EXIT_OK = 0
EXIT_FINDINGS = 3
EXIT_SINK = 4
EXIT_CONFIG = 78


@dataclass
class RunSettings:
    state_dir: Path
    spool_dir: Path
    inputs: list[str] = field(default_factory=list)
    rules_paths: list[str | Path] | None = None
    topology_path: str | None = None
    exceptions_path: str | Path | None = None  # accepted analyst exceptions (folder)
    look_back_ms: int = 0  # at least the longest rule window (taken when larger)
    max_look_back_ms: int = 86_400_000  # bound on how far an open episode pulls a run back
    settle_ms: int = 60_000
    year: int | None = None
    tz: str = "UTC"
    dead_letter: str | Path | None = None
    fail_on: str | None = None
    dry_run: bool = False
    #: extra events for a window (e.g. read from Elasticsearch indices): (start, end) -> frames.
    #: They are read again each run over the whole window, so they need no spool.
    extra_source: Callable[[datetime, datetime], Iterable[pd.DataFrame]] | None = None


@dataclass
class RunOutcome:
    exit_code: int = EXIT_OK
    status: str = "ok"
    window: dict[str, str | None] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    #: what was spooled but not correlated, and why (see secops.schedule.leftout)
    left_out: list[dict[str, Any]] = field(default_factory=list)

    def log_line(self) -> dict[str, Any]:
        return {
            "time": _iso_dt(datetime.now(UTC)),
            "command": "run",
            "status": self.status,
            "exit_code": self.exit_code,
            "window": self.window,
            **self.counts,
            "written": self.written,
            "left_out": self.left_out,
            "durations_s": self.durations,
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class Content:
    """Rules, topology and parsers: loaded once per process."""

    rules: list[Rule]
    topology: Topology
    registry: Registry
    exceptions: tuple[FindingException, ...] = ()


def load_content(settings: RunSettings) -> Content:
    return Content(
        load_rules(settings.rules_paths),
        load_topology(settings.topology_path),
        Registry(load_parsers()),
        tuple(load_exceptions(settings.exceptions_path)),
    )


def run_once(
    settings: RunSettings,
    sinks: list[Any],
    now: datetime | None = None,
    content: Content | None = None,
) -> RunOutcome:
    """Take the lock and do one run; raises LockHeld (exit 75) when another run holds it."""
    with RunLock(settings.state_dir / "run.lock"):
        return _run(settings, sinks, now or datetime.now(UTC), content)


def _run(s: RunSettings, sinks: list[Any], now: datetime, content: Content | None) -> RunOutcome:
    out, clock = RunOutcome(), _Laps()
    state_path = s.state_dir / "state.json"
    state = load_state(state_path)
    content = content or load_content(s)
    rules, topology = content.rules, content.topology
    clock.lap("load")
    pending = tail.plan(s.inputs, state)
    end_ms = _ms(now) - s.settle_ms
    look_back = max(s.look_back_ms, longest_window(rules))
    start_ms = _start(state, end_ms, look_back, s.max_look_back_ms)
    out.window = {
        "start": _iso(start_ms),
        "end": _iso(end_ms),
        "checkpoint": _iso(state.checkpoint_ms),
    }
    if s.dry_run:
        out.status, out.plan = "dry-run", [_describe(p) for p in pending]
        return out
    spool = Spool(s.spool_dir)
    ingested = tail.ingest(
        pending,
        state,
        spool,
        s.state_dir,
        registry=content.registry,
        year=s.year,
        tz=s.tz,
        now=now,
        dead_letter=s.dead_letter,
        late_upto=state.checkpoint_ms,
    )
    save_state(state_path, state)
    tail.forget_unused(s.state_dir, state)
    clock.lap("ingest")
    out.counts = _ingest_counts(ingested)
    bounded = start_ms == end_ms - max(s.max_look_back_ms, look_back)
    spooled = ingested.spooled_times()
    left = partial(left_out, spooled, (start_ms, end_ms), state.checkpoint_ms, bounded, look_back)
    out.left_out = left()
    out.counts |= left_counts(out.left_out)
    if state.checkpoint_ms is not None and end_ms <= state.checkpoint_ms:
        out.status = "nothing-new"
        return out
    events = spool.read(_dt(start_ms), _dt(end_ms))
    if s.extra_source is not None:
        events, out.counts["extra_source_events"] = _with_extra(
            events, s.extra_source, start_ms, end_ms
        )
    keep = rule_columns(rules)  # e.g. Sigma keyword rules read `message`
    events = events.drop(
        columns=[c for c in HEAVY_COLUMNS if c in events.columns and c not in keep]
    )
    clock.lap("read")
    detected = detect(events, rules, topology, exceptions=list(content.exceptions), now=now)
    findings = changed_since(detected, rules, state.checkpoint_ms)
    out.left_out = left(late_findings(detected, findings, ingested.late_ids))
    out.counts |= left_counts(out.left_out)
    times = to_millis(events["@timestamp"]) if len(events) else np.zeros(0, np.int64)
    next_resume = resume_point(events, times, rules, end_ms, look_back)
    clock.lap("correlate")
    out.findings = findings
    out.counts |= _finding_counts(events, findings, state, now)
    try:
        for sink in sinks:
            out.written[sink.name] = sink.write(findings)
            clock.lap(f"sink:{sink.name}")
    except SinkError as exc:
        out.exit_code, out.status, out.error = EXIT_SINK, "sink-down", str(exc)
        out.durations = clock.timings
        return out
    state.checkpoint_ms, state.resume_ms, state.runs = end_ms, next_resume, state.runs + 1
    save_state(state_path, state)
    clock.lap("checkpoint")
    out.durations = clock.timings
    if _gate(findings, s.fail_on):
        out.exit_code, out.status = EXIT_FINDINGS, "findings"
    return out


def _with_extra(
    events: pd.DataFrame,
    source: Callable[[datetime, datetime], Iterable[pd.DataFrame]],
    start_ms: int,
    end_ms: int,
) -> tuple[pd.DataFrame, int]:
    """The spooled events plus the extra source's events of the window, each event.id once."""
    frames = [f for f in source(_dt(start_ms), _dt(end_ms)) if len(f)]
    if not frames:
        return events, 0
    extra = pd.concat(frames, ignore_index=True)
    merged = pd.concat([events, extra], ignore_index=True) if len(events) else extra
    merged = merged.drop_duplicates(subset=["event.id"], keep="first", ignore_index=True)
    return merged, len(extra)


def _start(state: State, end_ms: int, look_back: int, max_look_back: int) -> int:
    if state.checkpoint_ms is None:  # the first run: whatever the spool has, within bounds
        return end_ms - max(max_look_back, look_back)
    start = state.checkpoint_ms - look_back
    if state.resume_ms is not None:
        start = min(start, state.resume_ms)
    return max(start, end_ms - max(max_look_back, look_back))


def _gate(findings: list[dict[str, Any]], fail_on: str | None) -> bool:
    if not fail_on:
        return False
    floor = WEIGHT[fail_on]
    return any(
        not f["finding"]["suppressed"] and WEIGHT.get(f["finding"]["severity"], 0) >= floor
        for f in findings
    )


def _ingest_counts(r: tail.IngestResult) -> dict[str, Any]:
    return {
        "files_read": r.files,
        "bytes_read": r.bytes,
        "lines_read": r.report.lines_read,
        "parsed": r.report.parsed,
        "dead_lettered": r.report.dead_lettered,
        "blank": r.report.blank,
        "parse_warnings": r.report.warnings(),
        "events_spooled": r.events,
    }


def _finding_counts(
    events: pd.DataFrame, findings: list[dict[str, Any]], state: State, now: datetime
) -> dict[str, Any]:
    raised = sum(1 for f in findings if not f["finding"]["suppressed"])
    lag = (
        None
        if state.checkpoint_ms is None
        else round(_ms(now) / 1000 - state.checkpoint_ms / 1000, 1)
    )
    return {
        "events_in_window": len(events),
        "findings_raised": raised,
        "findings_cut": len(findings) - raised,
        "lag_s": lag,
    }


def _describe(p: tail.Pending) -> dict[str, Any]:
    return {
        "path": p.path,
        "from_offset": p.entry.offset,
        "size": p.size,
        "new_bytes": p.new_bytes if not p.gz else "gz (read on from offset)",
        "known": p.entry.fp_len > 0,
    }


class _Laps:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(now - self._t, 4)
        self._t = now


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else _iso_dt(_dt(ms))


def _iso_dt(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")
