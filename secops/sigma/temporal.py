"""The `temporal` detector (Sigma `temporal`, unordered): within `window_ms`, events of at
least `threshold` different steps (default: all) occur for one key, in any order; or, for a
Sigma extended condition (`rule_a and not rule_b`), the boolean expression over "step seen in
the trailing window" holds at an event.

Each step's events are keyed on its own `by` fields (Sigma aliases may name different columns
per rule). For every event, a running maximum gives the last time each step was seen for
its key; the event fires when enough steps were seen within the window. Episodes are built as
for the other detectors (sessions of one key whose gaps stay within the window).

Keys are integer codes shared by the steps (`sequence.KeySpace`: one text per distinct key,
not per row); "last seen" is a running maximum over the (key, time)-sorted events: O(n log n).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from secops.correlate.candidate import Candidate
from secops.correlate.kinds import _episodes, register
from secops.correlate.rule import Rule
from secops.correlate.sequence import _SEP, KeySpace
from secops.correlate.windows import HAS_TIME

#: step id -> "seen for this key within the window, at this event" -> fires?
Presence = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class TemporalRule(Rule):
    """A temporal rule with a boolean condition over its steps (Sigma extended conditions)."""

    presence: Presence | None = None


@dataclass
class _StepRows:
    """Every step's events, sorted by (key, time, row): frame row, key code, step, time."""

    row: np.ndarray
    code: np.ndarray
    step: np.ndarray
    t: np.ndarray


def _step_rows(rule: Rule, frame: pd.DataFrame, times: np.ndarray, space: KeySpace) -> _StepRows:
    rows, codes, steps = [], [], []
    for i, step in enumerate(rule.steps):
        r = np.flatnonzero(step.filter(frame) & (times > HAS_TIME))
        rows.append(r)
        codes.append(space.of(frame, r, step.by))
        steps.append(np.full(len(r), i, dtype=np.int64))
    row, code, s = np.concatenate(rows), np.concatenate(codes), np.concatenate(steps)
    keep = code >= 0
    row, code, s = row[keep], code[keep], s[keep]
    t = times[row]
    order = np.lexsort((row, t, code))
    return _StepRows(row[order], code[order], s[order], t[order])


def _seen(d: _StepRows, step: int, window_ms: int) -> np.ndarray:
    """At each event: was `step` seen for its key within the window (up to and including it)?
    The last position of the step so far (a running max) is valid while in the key's block."""
    n = len(d.row)
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = d.code[1:] != d.code[:-1]
    block_start = np.maximum.accumulate(np.where(new_key, np.arange(n), 0))
    last = np.maximum.accumulate(np.where(d.step == step, np.arange(n), -1))
    valid = last >= block_start
    return valid & (d.t - d.t[np.maximum(last, 0)] <= window_ms)


def detect_temporal(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> list[Candidate]:
    space = KeySpace()
    d = _step_rows(rule, frame, times, space)
    if len(d.row) == 0:
        return []
    seen = {step.id: _seen(d, i, rule.window_ms) for i, step in enumerate(rule.steps)}
    presence = getattr(rule, "presence", None)
    if presence is not None:
        fire = presence(seen)
    else:
        fire = np.sum(list(seen.values()), axis=0) >= rule.threshold
    found = _episodes(rule, d.row, d.code, _Texts(space), times, fire, rule.window_ms)
    return [_dedupe(c, times) for c in found]


class _Texts:
    """The key values of a code: its text split at the field separator (`windows.Keys`)."""

    def __init__(self, space: KeySpace) -> None:
        self._texts = space.texts

    def take(self, codes: np.ndarray) -> list[tuple]:
        return [tuple(self._texts[c].split(_SEP)) for c in codes.tolist()]


def _dedupe(c: Candidate, times: np.ndarray) -> Candidate:
    """An event matching two steps is evidence once."""
    rows = np.unique(c.rows)
    return replace(c, rows=rows[np.argsort(times[rows], kind="stable")])


register("temporal", detect_temporal)
