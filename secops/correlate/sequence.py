"""Ordered sequences whose key may hop from entity to entity.

Each step matches events on its `by` fields. A step completes when `count` of its events with
one key fall within `maxspan`. The next step's `by` values must equal the previous step's
`carry` values (default: its `by` values). With `carry: host.asset` on a login step and
`by: source.asset` on the next, "the host that was logged into" becomes "the host that now logs
in elsewhere": the key hops, which is lateral movement.

Joins are `pandas.merge_asof` per step: each completion of step i+1 takes the latest completion
of step i with the same key at or before its own first event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from secops.correlate.candidate import Candidate
from secops.correlate.kinds import register
from secops.correlate.rule import Rule, Step
from secops.correlate.windows import HAS_TIME, sessions

_SEP = "\x1f"


@dataclass
class _StepData:
    rows: np.ndarray  # frame positions of this step's events, sorted by (key, time)
    times: np.ndarray
    comp: pd.DataFrame  # completions: pos (in rows), k (join key), t, first (time of first event)


def _keys(frame: pd.DataFrame, rows: np.ndarray, fields: tuple[str, ...]) -> pd.Series:
    parts = []
    for f in fields:
        col = frame[f].iloc[rows] if f in frame.columns else pd.Series([pd.NA] * len(rows))
        parts.append(col.astype("string").reset_index(drop=True))
    key = parts[0]
    for p in parts[1:]:
        key = key + _SEP + p
    return key


def _step_data(
    step: Step, carry: tuple[str, ...], frame: pd.DataFrame, times: np.ndarray, window_ms: int
) -> _StepData:
    rows = np.flatnonzero(step.filter(frame) & (times > HAS_TIME))
    key = _keys(frame, rows, step.by)
    valid = key.notna().to_numpy()
    rows, key = rows[valid], key[valid].reset_index(drop=True)
    codes, _ = pd.factorize(key)
    order = np.lexsort((times[rows], codes))
    rows, codes, key = rows[order], codes[order], key.iloc[order].reset_index(drop=True)
    t = times[rows]
    pos = np.arange(len(rows))
    c = step.count
    if c > 1 and len(rows):
        back = np.maximum(pos - c + 1, 0)
        ok = (pos - c + 1 >= 0) & (codes[back] == codes) & (t - t[back] <= window_ms)
    else:
        back, ok = pos, np.ones(len(rows), dtype=bool)
    out_key = key if carry == step.by else _keys(frame, rows, carry)
    comp = pd.DataFrame(
        {
            "pos": pos[ok],
            "k": out_key[ok].to_numpy(dtype=object),
            "in_k": key[ok].to_numpy(dtype=object),
            "t": t[ok],
            "first": t[back][ok],
        }
    )
    return _StepData(rows, t, comp)


def detect_sequence(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> list[Candidate]:
    steps = rule.steps
    data = [
        _step_data(s, _carry(rule, i), frame, times, rule.window_ms) for i, s in enumerate(steps)
    ]
    partial = data[0].comp.rename(columns={"pos": "p0", "in_k": "key0"})
    partial["start"] = partial["first"]
    for i in range(1, len(steps)):
        if partial.empty:
            return []
        nxt = data[i].comp.dropna(subset=["in_k"]).sort_values("first")
        nxt["in_k"] = nxt["in_k"].astype(object)
        prev = partial.dropna(subset=["k"]).rename(columns={"k": "in_k", "t": "t_prev"})
        prev = prev[[c for c in prev.columns if c != "first"]].sort_values("t_prev")
        prev["in_k"] = prev["in_k"].astype(object)
        joined = pd.merge_asof(
            nxt,
            prev,
            left_on="first",
            right_on="t_prev",
            by="in_k",
            direction="backward",
            suffixes=("", "_prev"),
        )
        joined = joined[joined["t_prev"].notna()]
        joined = joined[(joined["t"] - joined["start"]) <= rule.window_ms]
        partial = joined.rename(columns={"pos": f"p{i}", "in_k": f"key{i}"})
        partial = partial.drop(columns=["t_prev"])
    return _candidates(rule, partial, data)


def _carry(rule: Rule, i: int) -> tuple[str, ...]:
    carry = rule.step_carry[i] if rule.step_carry else ()
    return carry or rule.steps[i].by


def _candidates(rule: Rule, done: pd.DataFrame, data: list[_StepData]) -> list[Candidate]:
    if done.empty:
        return []
    n = len(rule.steps)
    keycols = [f"key{i}" for i in range(n)]
    chain_key = done[keycols].astype(str).agg(_SEP.join, axis=1)
    codes, _ = pd.factorize(chain_key)
    start = done["start"].to_numpy(dtype=np.int64)
    sid = sessions(codes.astype(np.int64), start, rule.window_ms)
    out = []
    for _, grp in done.groupby(sid, sort=True):
        step_rows = {}
        for i, step in enumerate(rule.steps):
            d = data[i]
            pos = grp[f"p{i}"].to_numpy(dtype=np.int64)
            idx = np.unique(np.concatenate([np.arange(p - step.count + 1, p + 1) for p in pos]))
            step_rows[step.id] = d.rows[idx]
        rows = np.unique(np.concatenate(list(step_rows.values())))
        first = grp.iloc[0]
        key = tuple(
            (f"{rule.steps[i].id}.{'+'.join(rule.steps[i].by)}", first[f"key{i}"]) for i in range(n)
        )
        s, e = int(grp["start"].min()), int(grp["t"].max())
        out.append(Candidate(rule, key, s, e, rows, s, step_rows))
    return out


register("sequence", detect_sequence)
