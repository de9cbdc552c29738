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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from secops.correlate.rule import Rule
from secops.correlate.windows import HAS_TIME, from_time, key_codes, sessions


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
    return hold(events, times, rules, end_ms, since).points


@dataclass
class Hold:
    """What a next step needs, per rule: `points`, where it reads from (`resume_points`);
    `floors`, from when on it needs every row its conditions pick (one window back, or the
    point itself for kinds not held per key); `rows`, the positions it needs before its floor
    (per key: the rows of that key's episode still open); `opens`, the first events of those
    episodes."""

    points: dict[str, int] = field(default_factory=dict)
    floors: dict[str, int] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    opens: dict[str, set[int]] = field(default_factory=dict)


def hold(
    events: pd.DataFrame,
    times: np.ndarray,
    rules: list[Rule],
    end_ms: int,
    since: dict[str, int] | None = None,
) -> Hold:
    """Per rule, where its next correlation reads from and which rows it needs.

    Kinds whose episodes are sessions of one key over the rows of one filter (`PER_KEY`) hold
    per key: the rows of a key whose episode is still open from that episode's first event,
    the others only from one window back. The rows of a closed episode that stay (another rule
    holds them) make a part of it that ends a window before `end_ms`: it never reaches the next
    step's findings (`changed_since`) and no open episode comes within a window of it."""
    out = Hold()
    for rule in rules:
        start = (since or {}).get(rule.id)
        own = from_time(times, start)
        floor = end_ms - _slack(rule)
        rows = _open_rows(rule, events, own, end_ms)
        opened = int(own[rows].min()) if len(rows) else None
        out.points[rule.id] = floor if opened is None else min(floor, opened)
        if _per_key(rule):
            out.floors[rule.id], out.rows[rule.id] = floor, rows
            out.opens[rule.id] = _firsts(rule, events, own, rows)
        else:
            out.floors[rule.id] = out.points[rule.id]
    return out


def longest_window(rules: list[Rule]) -> int:
    return max((_slack(r) for r in rules), default=0)


def changed_since(
    findings: list[dict[str, Any]], rules: list[Rule], since_ms: int | None
) -> list[dict[str, Any]]:
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


#: kinds whose episodes are sessions of one key over one filter's rows (held per key)
PER_KEY = frozenset({"match", "threshold", "distinct"})


def _per_key(rule: Rule) -> bool:
    return rule.type in PER_KEY and bool(rule.group_by)


def _firsts(rule: Rule, events: pd.DataFrame, times: np.ndarray, rows: np.ndarray) -> set[int]:
    """The first event time of each open episode (`rows`: their rows)."""
    if len(rows) == 0:
        return set()
    fields = list(rule.group_by)
    present = [f for f in dict.fromkeys(fields) if f in events.columns]
    keys, _ = key_codes(events[present].iloc[rows], fields)
    t = times[rows]
    first = pd.DataFrame({"k": keys, "t": t}).groupby("k")["t"].min()
    return {int(v) for v in first.to_numpy()}


def _open_rows(rule: Rule, events: pd.DataFrame, times: np.ndarray, end_ms: int) -> np.ndarray:
    """The rows of every episode still open at `end_ms` (positions in `events`)."""
    if rule.type == "sequence":
        step = rule.steps[0]
        mask, fields = step.filter(events), list(step.by)
    elif rule.type == "match" and not rule.group_by:
        return np.zeros(0, dtype=np.int64)  # one finding per event: nothing to resume
    else:
        mask = rule.filter(events) if rule.filter is not None else np.ones(len(events), bool)
        fields = list(rule.group_by)
    rows = np.flatnonzero(np.asarray(mask, dtype=bool) & (times > HAS_TIME))
    if len(rows) == 0:
        return rows
    present = [f for f in dict.fromkeys(fields) if f in events.columns]  # take only these
    # Sessions of the recent rows only, reaching further back while an open one may have
    # begun earlier: a session whose first event lies a window after the cut has no event
    # before the cut (that event would be within a window of it, hence after the cut).
    recent = end_ms - _slack(rule)
    cut = recent - rule.window_ms
    while True:
        part = rows[times[rows] >= cut]
        opened = part[_open_mask(events[present].iloc[part], times[part], fields, rule, recent)]
        if (
            len(opened) == 0
            or times[opened].min() >= cut + rule.window_ms
            or len(part) == len(rows)
        ):
            return opened
        cut -= 4 * (end_ms - cut)


def _open_mask(
    frame: pd.DataFrame, t: np.ndarray, fields: list[str], rule: Rule, recent: int
) -> np.ndarray:
    """Which rows belong to a session that reaches past `recent`."""
    out = np.zeros(len(t), dtype=bool)
    if len(t) == 0 or t.max() <= recent:
        return out
    keys, _ = key_codes(frame, fields)
    valid = np.flatnonzero(keys >= 0)
    sid = sessions(keys[valid], t[valid], rule.window_ms)
    last = pd.Series(t[valid]).groupby(sid).max()
    open_ids = last.index.to_numpy()[last.to_numpy() > recent]
    out[valid] = np.isin(sid, open_ids)
    return out
