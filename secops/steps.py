"""Correlation in time steps: a stream of prepared frames (input order) gives the findings
of one whole run while holding only the rows an episode that may still grow needs.

See `Steps`; `secops.pipeline.run` decides when a run goes in steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from secops.correlate import resume
from secops.correlate.conditions import Condition
from secops.correlate.rule import Rule
from secops.correlate.windows import to_millis
from secops.normalise.events import EventIds
from secops.parallel import give_back_memory
from secops.score import rank

#: a step correlates up to the latest event time seen minus this: slack for lines a little late
SETTLE_MS = 5 * 60_000
_NEVER = int(np.iinfo(np.int64).min)


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


def conditions_of(rule: Rule) -> list[Condition]:
    """The conditions that pick a rule's rows (none: it reads every row)."""
    own = [c for c in (rule.filter, rule.followed_by) if c is not None]
    return own + [s.filter for s in rule.steps if s.filter is not None]


def rows_read(
    rules: list[Rule], frame: pd.DataFrame, times: np.ndarray, since: dict[str, int]
) -> np.ndarray:
    """The rows some rule reads from its own `since` time on (`times`: the frame's, in ms):
    all a next step needs (the detectors, the judge and the finding documents see only the
    rows a rule's conditions pick). Memo columns make the conditions cheap here."""
    out = np.zeros(len(frame), dtype=bool)
    for rule in rules:
        own = conditions_of(rule)
        picked = np.ones(len(frame), dtype=bool) if not own else np.zeros(len(frame), dtype=bool)
        for cond in own:
            picked |= cond(frame)
        out |= picked & (times >= since[rule.id])
    return out


class Late(Exception):
    """A frame brought events at or before the end of a step already correlated."""


class Steps:
    """Correlate a stream of prepared frames (input order) in time steps, with the findings of
    one `detect` over the whole stream.

    A step correlates the rows up to `end` = the latest event time seen - SETTLE_MS, keeps the
    findings that can have changed since the previous step (a later version of an id replaces
    the earlier one as its episode grows) and holds on, per rule, to the rows it reads from
    its own resume point on (`resume_points`): every episode that may still grow keeps its
    first event, so its id and evidence are those of one whole run (see
    secops/correlate/resume.py). An episode that never closes (a key active without a
    window's gap) rightly pins its rule's held rows to its start; memory then grows with it. Events at or before a past step's end raise Late: only a whole run is exact then.
    """

    def __init__(
        self,
        rules: list[Rule],
        detect_rows: Callable[[pd.DataFrame, dict[str, int] | None], list[dict[str, Any]]],
        clock: Laps,
        step_rows: int,
        ids: EventIds | None = None,
    ) -> None:
        self.rules, self.detect_rows, self.clock = rules, detect_rows, clock
        self.step_rows, self.ids = step_rows, ids
        self.starts: dict[str, int] | None = None  # per rule: where its next step reads from
        self.held: pd.DataFrame | None = None
        self.buffer: list[pd.DataFrame] = []
        self.rows, self.latest, self.end = 0, _NEVER, _NEVER
        self.found: dict[str, dict[str, Any]] = {}
        self.steps, self.held_max = 0, 0

    def add(self, frame: pd.DataFrame) -> None:
        times = millis(frame)
        if len(times) and times.min() <= self.end:
            raise Late(
                f"an event of {_iso(int(times.min()))} came after the step up to {_iso(self.end)}"
            )
        self.latest = max(self.latest, int(times.max()) if len(times) else _NEVER)
        self.buffer.append(frame)
        self.rows += len(frame)
        if self.rows >= self.step_rows and self.latest - SETTLE_MS > self.end:
            self._step(self.latest - SETTLE_MS)

    def finish(self) -> list[dict[str, Any]]:
        self._step(None)
        return sorted(self.found.values(), key=rank)

    def summary(self) -> dict[str, Any]:
        return {"mode": "chunked", "steps": self.steps, "held_max_rows": self.held_max}

    def _step(self, end: int | None) -> None:
        self.clock.lap("read+parse+enrich")
        pieces = [f for f in (self.held, *self.buffer) if f is not None]
        self.held, self.buffer, self.rows = None, [], 0
        if not pieces:
            return
        window, pending, times, upto = _cut(pieces, end)
        give_back_memory()
        self.clock.lap("steps")
        found = self.detect_rows(window, self.starts)
        since = self.end if self.steps else None
        for f in resume.changed_since(found, self.rules, since):
            self.found[f["finding"]["id"]] = f
        self.steps += 1
        if end is not None:
            self.starts = resume.resume_points(window, times[upto], self.rules, end, self.starts)
            keep = rows_read(self.rules, window, times[upto], self.starts)
            self.held = _in_order(window, keep, pending, upto)
            self.held_max, self.end = max(self.held_max, len(self.held)), end
            if self.ids is not None:  # a line that old now comes in late: no count needed
                self.ids.forget(end)
        del window, pending
        give_back_memory()
        self.clock.lap("steps")


def _cut(
    pieces: list[pd.DataFrame], end: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """The rows up to `end` (every column in one chunk) and the rows after it; `pieces` are
    taken apart one by one, so they are never all copied at once (a piece wholly in the window
    is not copied at all). Also the times of all rows and which of them went to the window."""
    parts, later, times, upto = [], [], [], []
    for piece in _drain(pieces):
        times.append(millis(piece))
        upto.append(times[-1] <= end if end is not None else np.ones(len(piece), dtype=bool))
        parts.append(piece if upto[-1].all() else piece[upto[-1]])
        later.append(piece[~upto[-1]])
    window = pd.concat(parts, ignore_index=True)
    parts.clear()
    pending = pd.concat(later, ignore_index=True)
    return one_chunk(window), pending, np.concatenate(times), np.concatenate(upto)


def _drain(frames: list[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Each frame, dropped from the list as it is handed out (the caller decides what stays)."""
    frames.reverse()
    while frames:
        yield frames.pop()


def _in_order(
    window: pd.DataFrame, keep: np.ndarray, pending: pd.DataFrame, upto: np.ndarray
) -> pd.DataFrame:
    """The kept window rows and the pending rows, back in input order (`upto`: which rows of
    the step went to the window)."""
    where = np.concatenate([np.flatnonzero(upto)[keep], np.flatnonzero(~upto)])
    rows = pd.concat([window[keep], pending], ignore_index=True)
    if (np.diff(where) > 0).all():  # time-ordered input: the pending rows come last
        return rows
    return rows.take(np.argsort(where)).reset_index(drop=True)


def millis(frame: pd.DataFrame) -> np.ndarray:
    """Event times in ms (a missing time is NO_TIME_MS: before every step's end, so late)."""
    return to_millis(frame["@timestamp"]) if len(frame) else np.zeros(0, dtype=np.int64)


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")
