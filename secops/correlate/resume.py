"""Where the next run must start reading, and which findings a run hands to the sinks.

A finding's id is rule id + key + the first event of its episode (matching events of one key
whose gaps stay within the rule window). For a run over [t0, end] to give the ids of one batch
run, t0 must lie before the first event of every episode that may still grow. So at the end of
each run, per rule, the episodes still open at `end` (last event within one window of it; for
absences two windows: the judgement of the last A is still pending) give the next run's t0:

    resume = min(end - look_back, first event of every open episode)

Episodes are computed on a superset of each detector's rows (the filter, step 1 of a sequence,
the A side of an absence), which can only move t0 earlier. Reading earlier cuts episodes that
closed long ago, and a cut episode would get another id: so a run writes only the findings
that can have changed since the last checkpoint (`changed_since`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from secops.correlate.rule import Rule
from secops.correlate.windows import HAS_TIME, NO_TIME_MS, key_codes, sessions


def resume_point(
    events: pd.DataFrame, times: np.ndarray, rules: list[Rule], end_ms: int, look_back_ms: int
) -> int:
    """The earliest time the next run must read from (ms): `look_back_ms` (at least the
    longest rule window) before `end_ms`, or earlier for an episode still open."""
    return min([end_ms - look_back_ms, *resume_points(events, times, rules, end_ms).values()])


def resume_points(
    events: pd.DataFrame,
    times: np.ndarray,
    rules: list[Rule],
    end_ms: int,
    since: dict[str, int] | None = None,
) -> dict[str, int]:
    """Per rule, the earliest time its next correlation must see (ms): one window (two for
    an absence) before `end_ms`, or the first event of one of its episodes still open.

    `since` (the previous points) limits each rule to the events it was given; a rule with a
    short window then holds back only its own window, not the longest rule's."""
    points = {}
    for rule in rules:
        start = (since or {}).get(rule.id)
        own = times if start is None else np.where(times >= start, times, NO_TIME_MS)
        opened = _open_start(rule, events, own, end_ms)
        points[rule.id] = (
            end_ms - _slack(rule) if opened is None else min(end_ms - _slack(rule), opened)
        )
    return points


def longest_window(rules: list[Rule]) -> int:
    return max((_slack(r) for r in rules), default=0)


def changed_since(findings: list[dict[str, Any]], rules: list[Rule], since_ms: int | None):
    """Findings whose evidence reaches past `since_ms` (absences: whose judgement came after)."""
    if since_ms is None:
        return findings
    slack = {r.id: (r.window_ms if r.type == "absence" else 0) for r in rules}
    out = []
    for f in findings:
        end = int(pd.Timestamp(f["event"]["end"]).value // 1_000_000)
        if end + slack.get(f["rule"]["id"], 0) > since_ms:
            out.append(f)
    return out


def _slack(rule: Rule) -> int:
    return 2 * rule.window_ms if rule.type == "absence" else rule.window_ms


def _open_start(rule: Rule, events: pd.DataFrame, times: np.ndarray, end_ms: int) -> int | None:
    if rule.type == "sequence":
        step = rule.steps[0]
        mask, fields = step.filter(events), list(step.by)
    elif rule.type == "match" and not rule.group_by:
        return None  # one finding per event: nothing to resume
    else:
        mask = rule.filter(events) if rule.filter is not None else np.ones(len(events), bool)
        fields = list(rule.group_by)
    rows = np.flatnonzero(np.asarray(mask, dtype=bool) & (times > HAS_TIME))
    if len(rows) == 0:
        return None
    present = [f for f in dict.fromkeys(fields) if f in events.columns]  # take only these
    # Sessions of the recent rows only, reaching further back while an open one may have
    # begun earlier: a session whose first event lies a window after the cut has no event
    # before the cut (that event would be within a window of it, hence after the cut).
    recent = end_ms - _slack(rule)
    cut = recent - rule.window_ms
    while True:
        part = rows[times[rows] >= cut]
        start = _earliest_open(events[present].iloc[part], times[part], fields, rule, recent)
        if start is None or start >= cut + rule.window_ms or len(part) == len(rows):
            return start
        cut -= 4 * (end_ms - cut)


def _earliest_open(
    frame: pd.DataFrame, t: np.ndarray, fields: list[str], rule: Rule, recent: int
) -> int | None:
    """The first event of the earliest session that reaches past `recent` (None: none)."""
    if len(t) == 0 or t.max() <= recent:
        return None
    keys, _ = key_codes(frame, fields)
    t = t[keys >= 0]
    sid = sessions(keys[keys >= 0], t, rule.window_ms)
    span = pd.DataFrame({"sid": sid, "t": t}).groupby("sid")["t"].agg(["min", "max"])
    open_ = span[span["max"] > recent]
    return int(open_["min"].min()) if len(open_) else None
