"""The `temporal` detector (Sigma `temporal`, unordered): within `window_ms`, events of at
least `threshold` different steps (default: all) occur for one key, in any order; or, for a
Sigma extended condition (`rule_a and not rule_b`), the boolean expression over "step seen in
the trailing window" holds at an event.

Each step's events are keyed on its own `by` fields (Sigma aliases may name different columns
per rule). For every event, a grouped forward fill gives the last time each step was seen for
its key; the event fires when enough steps were seen within the window. Episodes are built as
for the other detectors (sessions of one key whose gaps stay within the window).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from secops.correlate.candidate import Candidate
from secops.correlate.kinds import _episodes, register
from secops.correlate.rule import Rule
from secops.correlate.sequence import _SEP, _keys
from secops.correlate.windows import HAS_TIME

#: step id -> "seen for this key within the window, at this event" -> fires?
Presence = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class TemporalRule(Rule):
    """A temporal rule with a boolean condition over its steps (Sigma extended conditions)."""

    presence: Presence | None = None


def _step_rows(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> pd.DataFrame:
    parts = []
    for i, step in enumerate(rule.steps):
        rows = np.flatnonzero(step.filter(frame) & (times > HAS_TIME))
        key = _keys(frame, rows, step.by)
        parts.append(pd.DataFrame({"row": rows, "k": key.to_numpy(dtype=object), "s": i}))
    df = pd.concat(parts, ignore_index=True)
    df = df[df["k"].notna()].copy()
    df["t"] = times[df["row"].to_numpy(dtype=np.int64)]
    return df


def detect_temporal(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> list[Candidate]:
    df = _step_rows(rule, frame, times)
    if df.empty:
        return []
    codes, uniques = pd.factorize(df["k"])
    df["code"] = codes
    df = df.sort_values(["code", "t", "row"], kind="stable").reset_index(drop=True)
    seen: dict[str, np.ndarray] = {}
    for i, step in enumerate(rule.steps):
        last = df["t"].where(df["s"] == i).groupby(df["code"]).ffill()
        seen[step.id] = (last.notna() & (df["t"] - last <= rule.window_ms)).to_numpy()
    presence = getattr(rule, "presence", None)
    if presence is not None:
        fire = presence(seen)
    else:
        fire = np.sum(list(seen.values()), axis=0) >= rule.threshold
    keys = [tuple(str(u).split(_SEP)) for u in uniques]
    found = _episodes(
        rule,
        df["row"].to_numpy(dtype=np.int64),
        df["code"].to_numpy(dtype=np.int64),
        keys,
        times,
        fire,
        rule.window_ms,
    )
    return [_dedupe(c, times) for c in found]


def _dedupe(c: Candidate, times: np.ndarray) -> Candidate:
    """An event matching two steps is evidence once."""
    rows = np.unique(c.rows)
    return replace(c, rows=rows[np.argsort(times[rows], kind="stable")])


register("temporal", detect_temporal)
