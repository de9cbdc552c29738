"""Correlation in time steps: a stream of prepared frames (the inputs merged in time order,
`secops.parallel`) gives the findings of one whole run while holding only the rows an
episode that may still grow needs.

See `Steps`; `secops.pipeline.run` decides when a run goes in steps.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from secops.config import valid_duration
from secops.correlate import resume, run_rule
from secops.correlate.candidate import Carry
from secops.correlate.kinds import CARRIED, detect_open
from secops.correlate.rule import Rule, conditions_of
from secops.correlate.windows import HAS_TIME, from_time, to_millis
from secops.errors import ConfigError
from secops.judge.context import carry_summaries
from secops.normalise.events import EventIds
from secops.parallel import ORDER, Frontier, give_back_memory
from secops.score import rank

#: how far an event may come before a later-stamped event already read from the same input
#: (clocks of the hosts a relay interleaves, relay delays); a step correlates up to the
#: lowest time still to come minus this, and an event earlier than that is late
MAX_SKEW_MS = 5 * 60_000
_NEVER = int(np.iinfo(np.int64).min)


def max_skew_ms(value: str | int | None = None) -> int:
    """`value` ('2m', '90s', ms as an int), else SECOPS_MAX_SKEW, else MAX_SKEW_MS."""
    value = value if value is not None else os.environ.get("SECOPS_MAX_SKEW", "").strip() or None
    if value is None:
        return MAX_SKEW_MS
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(valid_duration(value).total_seconds() * 1000)
    except ConfigError as exc:
        raise ConfigError(f"SECOPS_MAX_SKEW / max_skew: {exc}") from exc


class Laps(Protocol):
    """Stage timings (`secops.pipeline`'s clock)."""

    def lap(self, step: str) -> None: ...


def one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
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


def rows_read(
    rules: list[Rule], frame: pd.DataFrame, times: np.ndarray, held: resume.Hold
) -> np.ndarray:
    """The rows some rule needs next (`times`: the frame's, in ms): the rows its conditions
    pick from its floor on, and the rows of its episodes still open (`resume.hold`): all a next
    step needs (the detectors, the judge and the finding documents see only the rows a rule's
    conditions pick). Memo columns make the conditions cheap here."""
    out = np.zeros(len(frame), dtype=bool)
    for rule in rules:
        own = conditions_of(rule)
        picked = np.ones(len(frame), dtype=bool) if not own else np.zeros(len(frame), dtype=bool)
        for cond in own:
            picked |= cond(frame)
        out |= picked & (times >= held.floors[rule.id])
        out[held.rows.get(rule.id, slice(0))] = True
    return out


def carry_open(
    rules: list[Rule],
    window: pd.DataFrame,
    times: np.ndarray,
    held: resume.Hold,
    carried: dict[str, Carry],
    starts: dict[str, int] | None,
    end: int,
) -> dict[str, Carry]:
    """Per rule of a kind in `CARRIED`: its episodes still open summarised up to its floor
    (`held.floors`: one window before the step's end, all a next count needs), so the rows
    before it are not held (`held` is changed: the rule reads from its floor on). An episode
    already carried takes the rows up to the floor in its summary."""
    out = {}
    for rule in rules:
        if rule.type == "sequence":
            found = _sequence_open(rule, window, times, end, held, carried.get(rule.id), starts)
            if found is not None:
                out[rule.id] = found
            continue
        if rule.type not in CARRIED or not rule.group_by:
            continue
        rows, floor = held.rows[rule.id], held.floors[rule.id]
        since = (starts or {}).get(rule.id)
        own = from_time(times, since)
        opened = detect_open(rule, window, own, carried.get(rule.id), floor)
        held.rows[rule.id], held.points[rule.id] = rows[:0], floor
        if opened:
            present = [f for f in dict.fromkeys(rule.group_by) if f in window.columns]
            keys = window[present].iloc[[int(c.rows[0]) for c in opened]]
            cut = [replace(c, rows=c.rows[times[c.rows] < floor]) for c in opened]
            out[rule.id] = Carry(keys.reset_index(drop=True), carry_summaries(cut, window))
    return out


def _sequence_open(
    rule: Rule,
    window: pd.DataFrame,
    times: np.ndarray,
    end: int,
    held: resume.Hold,
    carried: Carry | None,
    starts: dict[str, int] | None,
) -> Carry | None:
    """A sequence rule's episodes that a later match may still continue (its latest match
    started within two windows of the step's end), summarised up to the rule's floor: one
    window per step before the end, so every match ending after the end is found as one
    whole run finds it (each step's completion needs only the partial matches of the window
    before it). Its events from the floor on stay rows (`Carried.recent`, by event id)."""
    floor = end - len(rule.steps) * rule.window_ms
    held.floors[rule.id] = held.points[rule.id] = floor
    held.rows[rule.id], held.opens[rule.id] = np.zeros(0, dtype=np.int64), set()
    since = (starts or {}).get(rule.id)
    own = from_time(times, since)
    found = run_rule(rule, window, own, carried)
    opened = [c for c in found if c.last > end - 2 * rule.window_ms]
    if not opened:
        return None
    cut = [
        replace(c, rows=c.rows[times[c.rows] < floor],
                steps={s: r[times[r] < floor] for s, r in c.steps.items()})
        for c in opened
    ]  # fmt: skip
    ids = window["event.id"]
    summaries = [
        replace(m, recent={s: tuple(ids.iloc[r[times[r] >= floor]]) for s, r in c.steps.items()})
        for m, c in zip(carry_summaries(cut, window), opened, strict=True)
    ]
    keys = pd.DataFrame([{n: v for n, v in c.key} for c in opened])
    return Carry(keys, summaries, end)


class Steps:
    """Correlate a stream of prepared frames (merged in time order) in time steps, with the
    findings of one `detect` over the whole stream.

    A step correlates the rows up to `end` = the lowest event time still to come (`Frontier`;
    without one, the latest event time seen) - `skew`, keeps the
    findings that can have changed since the previous step (a later version of an id replaces
    the earlier one as its episode grows) and holds on, per rule, to the rows it reads from
    its own resume point on (`resume.hold`, per key where episodes are sessions of one key):
    every episode that may still grow keeps its first event, so its id and evidence are those
    of one whole run (see secops/correlate/resume.py). An open threshold or distinct episode
    keeps only its last window of rows and a summary of the others (`carry_open`); an open
    sequence episode keeps one window per step of rows and a summary of its earlier matches.
    One of a Sigma temporal or absence rule that never closes (a key active without a
    window's gap) pins its rule's held rows to its start; memory then grows with it.
    Rows are correlated in the order of a serial read (`ORDER`), as one whole run has them.

    An event at or before a past step's end (out of order by more than `skew`) is late: it is
    counted (`late_events`) and correlated with the rows still held (each rule from its own
    resume point on), as a scheduled run takes late lines; only then may findings differ from
    one whole run's.
    """

    def __init__(
        self,
        rules: list[Rule],
        detect_rows: Callable[
            [pd.DataFrame, dict[str, int] | None, dict[str, Carry] | None], list[dict[str, Any]]
        ],
        clock: Laps,
        step_rows: int,
        ids: EventIds | None = None,
        frontier: Frontier | None = None,
        skew: int = MAX_SKEW_MS,
    ) -> None:
        self.rules, self.detect_rows, self.clock = rules, detect_rows, clock
        self.step_rows, self.ids, self.frontier, self.skew = step_rows, ids, frontier, skew
        self.starts: dict[str, int] | None = None  # per rule: where its next step reads from
        self.kept = resume.Hold()  # per rule: which of those rows were all held
        self.carried: dict[str, Carry] = {}  # per rule: open episodes carried as summaries
        self.held: pd.DataFrame | None = None
        self.buffer: list[pd.DataFrame] = []
        self.rows, self.latest, self.end = 0, _NEVER, _NEVER
        self.found: dict[str, dict[str, Any]] = {}
        self.steps, self.held_max, self.late = 0, 0, 0
        self.first_late: int | None = None
        self.late_in_step: int | None = None  # earliest late event the next step brings

    def add(self, frame: pd.DataFrame) -> None:
        times = millis(frame)
        late = (times <= self.end) & (times > HAS_TIME)
        if late.any():
            self.late += int(late.sum())
            first = int(times[late].min())
            self.first_late = first if self.first_late is None else min(self.first_late, first)
            since = self.late_in_step
            self.late_in_step = first if since is None else min(since, first)
        self.latest = max(self.latest, int(times.max()) if len(times) else _NEVER)
        self.buffer.append(frame)
        self.rows += len(frame)
        upto = self.latest if self.frontier is None else min(self.latest, self.frontier.lowest)
        if self.rows >= self.step_rows and upto - self.skew > self.end:
            self._step(upto - self.skew)

    def finish(self) -> list[dict[str, Any]]:
        self._step(None)
        return sorted(self.found.values(), key=rank)

    def summary(self) -> dict[str, Any]:
        out = {
            "mode": "chunked", "steps": self.steps, "held_max_rows": self.held_max,
            "max_skew_ms": self.skew, "late_events": self.late,
        }  # fmt: skip
        if self.first_late is not None:
            out["earliest_late"] = _iso(self.first_late)
        return out

    def _step(self, end: int | None) -> None:
        self.clock.lap("read+parse+enrich")
        pieces = [f for f in (self.held, *self.buffer) if f is not None]
        self.held, self.buffer, self.rows = None, [], 0
        if not pieces:
            return
        window, pending, times = _cut(pieces, end)
        give_back_memory()
        self.clock.lap("steps")
        found = self.detect_rows(window, self.starts, self.carried)
        since = self.end if self.steps else None
        for f in resume.changed_since(found, self.rules, since) + self._late_changed(found):
            self.found[f["finding"]["id"]] = f
        self.steps += 1
        if end is not None:
            self.kept = resume.hold(window, times, self.rules, end, self.starts)
            self.carried = carry_open(
                self.rules, window, times, self.kept, self.carried, self.starts, end
            )
            self.starts = self.kept.points
            keep = rows_read(self.rules, window, times, self.kept)
            self.held = pd.concat([window[keep], pending], ignore_index=True)
            self.held_max, self.end = max(self.held_max, len(self.held)), end
            if self.ids is not None:  # a line that old now comes in late: no count needed
                self.ids.forget(end)
        del window, pending
        give_back_memory()
        self.clock.lap("steps")

    def _late_changed(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Findings of this step that late events may have changed before the previous
        step's end: those reaching to the earliest late event whose rows were all held (an
        episode from the rule's resume point on; an earlier one keeps its former version)."""
        late, self.late_in_step = self.late_in_step, None
        if late is None or self.starts is None:
            return []
        out = []
        for f in found:
            start, end = (_ms(f["event"][k]) for k in ("start", "end"))
            if late <= end <= self.end and self._whole(f["rule"]["id"], start):
                out.append(f)
        return out

    def _whole(self, rule: str, start: int) -> bool:
        """Whether an episode from `start` had all its rows held: from the rule's floor on,
        or one of its episodes still open (rules held per key keep only those before it)."""
        return start >= self.kept.floors.get(rule, _NEVER) or start in self.kept.opens.get(rule, ())


def _ms(iso: str) -> int:
    return int(pd.Timestamp(iso).value // 1_000_000)


def _cut(
    pieces: list[pd.DataFrame], end: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The rows up to `end` (every column in one chunk, in `ORDER`) and the rows after it;
    `pieces` are taken apart one by one, so they are never all copied at once (a piece wholly
    in the window is not copied at all). Also the times of the window's rows."""
    parts, later, times, upto = [], [], [], []
    for piece in _drain(pieces):
        times.append(millis(piece))
        upto.append(times[-1] <= end if end is not None else np.ones(len(piece), dtype=bool))
        parts.append(piece if upto[-1].all() else piece[upto[-1]])
        later.append(piece[~upto[-1]])
    window = pd.concat(parts, ignore_index=True)
    parts.clear()
    pending = pd.concat(later, ignore_index=True)
    times_in = np.concatenate(times)[np.concatenate(upto)]
    window = one_chunk(window)
    if ORDER in window.columns:  # the rows as a serial read has them, as one whole run
        order = np.argsort(window[ORDER].to_numpy(dtype=np.int64), kind="stable")
        if (np.diff(order) < 0).any():
            window, times_in = window.take(order).reset_index(drop=True), times_in[order]
    return window, pending, times_in


def _drain(frames: list[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Each frame, dropped from the list as it is handed out (the caller decides what stays)."""
    frames.reverse()
    while frames:
        yield frames.pop()


def millis(frame: pd.DataFrame) -> np.ndarray:
    """Event times in ms (a missing time is NO_TIME_MS: in the next step, never late)."""
    return to_millis(frame["@timestamp"]) if len(frame) else np.zeros(0, dtype=np.int64)


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")
