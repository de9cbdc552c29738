"""Ordered sequences whose key may hop from entity to entity.

Each step matches events on its `by` fields. A step completes when `count` of its events with
one key fall within `maxspan`. The next step's `by` values must equal the previous step's
`carry` values (default: its `by` values). With `carry: host.asset` on a login step and
`by: source.asset` on the next, "the host that was logged into" becomes "the host that now logs
in elsewhere": the key hops, which is lateral movement.

Each completion of step i+1 takes the latest partial match of steps 0..i with the same key
that ended at or before its own first event (as EQL sequences do: a newer partial match of a
key replaces the older ones, so only matches that can still complete are kept). Keys are
integers: each step's key columns are factorized, and the text of each distinct key (never of
each row) gives one code space shared by the steps, so a key hops across columns. The join is
a sort + `searchsorted`; the whole detector is O(n log n) in the rows it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from secops.correlate.candidate import Candidate, Carried, Carry
from secops.correlate.kinds import CARRIED, register
from secops.correlate.rule import Rule, Step
from secops.correlate.windows import HAS_TIME, key_codes, sessions

_SEP = "\x1f"


def _keys(frame: pd.DataFrame, rows: np.ndarray, fields: tuple[str, ...]) -> pd.Series:
    """The key text of `rows` (fields joined by _SEP; NA when any part is null)."""
    parts = []
    for f in fields:
        col = frame[f].iloc[rows] if f in frame.columns else pd.Series([pd.NA] * len(rows))
        parts.append(col.astype("string").reset_index(drop=True))
    key = parts[0]
    for p in parts[1:]:
        key = key + _SEP + p
    return key


class KeySpace:
    """One integer code per key text, shared by every step (and column) of a rule."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.texts: list[str] = []

    def of(self, frame: pd.DataFrame, rows: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
        """The code of each row's key (-1: null); text is built once per distinct key."""
        local, _ = key_codes(_only(frame, fields).iloc[rows], list(fields))
        valid = np.flatnonzero(local >= 0)
        _, first_of = np.unique(local[valid], return_index=True)  # codes are 0..k-1
        first = valid[first_of]
        texts = _keys(frame, rows[first], fields)
        glob = np.array([self.code(t) for t in texts], dtype=np.int64)
        out = np.full(len(rows), -1, dtype=np.int64)
        out[valid] = glob[local[valid]]
        return out

    def code(self, text: object) -> int:
        if text is pd.NA:
            return -1
        code = self.codes.get(str(text))
        if code is None:
            code = self.codes[str(text)] = len(self.texts)
            self.texts.append(str(text))
        return code


def _only(frame: pd.DataFrame, fields: tuple[str, ...]) -> pd.DataFrame:
    return frame[[f for f in dict.fromkeys(fields) if f in frame.columns]]


@dataclass
class _StepData:
    rows: np.ndarray  # frame positions of this step's events, sorted by (key, time)
    pos: np.ndarray  # completions: position (in rows) of the completing event
    key: np.ndarray  # completions: the step's own key code
    out: np.ndarray  # completions: the key handed on (carry), -1 when null
    t: np.ndarray  # completions: time of the completing event
    first: np.ndarray  # completions: time of the first of its `count` events


def _step_data(
    step: Step,
    carry: tuple[str, ...],
    frame: pd.DataFrame,
    times: np.ndarray,
    window_ms: int,
    space: KeySpace,
) -> _StepData:
    rows = np.flatnonzero(step.filter(frame) & (times > HAS_TIME))
    codes = space.of(frame, rows, step.by)
    valid = codes >= 0
    rows, codes = rows[valid], codes[valid]
    order = np.lexsort((times[rows], codes))
    rows, codes = rows[order], codes[order]
    out = codes if carry == step.by else space.of(frame, rows, carry)
    t = times[rows]
    pos = np.arange(len(rows))
    c = step.count
    if c > 1 and len(rows):
        back = np.maximum(pos - c + 1, 0)
        ok = (pos - c + 1 >= 0) & (codes[back] == codes) & (t - t[back] <= window_ms)
    else:
        back, ok = pos, np.ones(len(rows), dtype=bool)
    return _StepData(rows, pos[ok], codes[ok], out[ok], t[ok], t[back][ok])


@dataclass
class _Partial:
    """Partial matches of steps 0..i: per match, each step's completion and key, its start."""

    pos: list[np.ndarray]
    keys: list[np.ndarray]
    out: np.ndarray  # the key the last step hands on
    t: np.ndarray  # time of the last step's completion
    start: np.ndarray

    def take(self, idx: np.ndarray) -> _Partial:
        return _Partial(
            [p[idx] for p in self.pos],
            [k[idx] for k in self.keys],
            self.out[idx],
            self.t[idx],
            self.start[idx],
        )


def _latest_before(
    pk: np.ndarray, pt: np.ndarray, pstart: np.ndarray, qk: np.ndarray, qt: np.ndarray
) -> np.ndarray:
    """For each query (key, time): the partial with that key and the latest time <= the query's
    (ties: the latest start), or -1. One sort and one `searchsorted`: O((p + q) log(p + q))."""
    if len(pk) == 0 or len(qk) == 0:
        return np.full(len(qk), -1, dtype=np.int64)
    _, rank = np.unique(np.concatenate([pt, qt]), return_inverse=True)
    rank = rank.astype(np.int64)
    span = int(rank.max()) + 1
    comp = pk * span + rank[: len(pk)]
    order = np.lexsort((pstart, comp))
    at = np.searchsorted(comp[order], qk * span + rank[len(pk) :], side="right") - 1
    found = (at >= 0) & (pk[order][np.maximum(at, 0)] == qk)
    return np.where(found, order[np.maximum(at, 0)], -1)


def detect_sequence(
    rule: Rule, frame: pd.DataFrame, times: np.ndarray, carry: Carry | None = None
) -> list[Candidate]:
    """Every episode: the matches of one chain of keys whose starts are within the window.

    `carry` (time steps, `secops.steps.carry_open`): episodes still open, their matches up to
    `carry.upto` summarised; matches ending by then are not counted again, an episode's events
    at or after the floor come back as rows (`Carried.recent`), and a later match within the
    window of an episode continues it."""
    space = KeySpace()
    data = [
        _step_data(s, _carry(rule, i), frame, times, rule.window_ms, space)
        for i, s in enumerate(rule.steps)
    ]
    done = _matches(rule, data)
    if carry is not None and carry.upto is not None:
        done = done.take(np.flatnonzero(done.t > carry.upto))
    if len(done.t) == 0 and (carry is None or not carry.summaries):
        return []
    return _candidates(rule, done, data, space, _Carried.of(rule, carry, space, frame, data))


def _matches(rule: Rule, data: list[_StepData]) -> _Partial:
    """The complete matches: each step's completions joined to the latest partial match of
    the steps before it (same key, ended before its first event, within the window)."""
    d0 = data[0]
    partial = _Partial([d0.pos], [d0.key], d0.out, d0.t, d0.first)
    for d in data[1:]:
        live = np.flatnonzero(partial.out >= 0)
        prev = partial.take(live)
        hit = _latest_before(prev.out, prev.t, prev.start, d.key, d.first)
        ok = np.flatnonzero(hit >= 0)
        joined = prev.take(hit[ok])
        keep = d.t[ok] - joined.start <= rule.window_ms
        ok, joined = ok[keep], joined.take(np.flatnonzero(keep))
        partial = _Partial(
            [*joined.pos, d.pos[ok]], [*joined.keys, d.key[ok]], d.out[ok], d.t[ok], joined.start
        )
    return partial


@dataclass
class _Carried:
    """The carried episodes as pseudo-matches: per episode its key codes per step, latest
    start, end and summary, and the (episode, step, position in that step's rows) of its
    events held as rows."""

    keys: list[np.ndarray]
    last: np.ndarray
    end: np.ndarray
    summaries: list[Carried]
    held: list[tuple[np.ndarray, np.ndarray]]  # per step: (episode, position in rows)

    @classmethod
    def of(
        cls,
        rule: Rule,
        carry: Carry | None,
        space: KeySpace,
        frame: pd.DataFrame,
        data: list[_StepData],
    ) -> _Carried:
        carry = carry if carry is not None and carry.summaries else None
        sums = list(carry.summaries) if carry is not None else []
        keys = [
            np.array([space.code(str(t)) for t in carry.keys[n]] if carry else [], dtype=np.int64)
            for n in _names(rule)
        ]
        held = []
        for step, d in zip(rule.steps, data, strict=True):
            owner: dict[Any, list[int]] = {}
            for e, m in enumerate(sums):
                for i in m.recent.get(step.id, ()):
                    owner.setdefault(i, []).append(e)
            ids = frame["event.id"].iloc[d.rows] if owner else pd.Series([], dtype=object)
            at = np.flatnonzero(ids.isin(list(owner)).to_numpy()) if owner else np.zeros(0, int)
            pairs = [(e, int(p)) for p, i in zip(at, ids.iloc[at], strict=True) for e in owner[i]]
            arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
            held.append((arr[:, 0], arr[:, 1]))
        last = np.array([m.last for m in sums], dtype=np.int64)
        end = np.array([m.end for m in sums], dtype=np.int64)
        return cls(keys, last, end, sums, held)


def _carry(rule: Rule, i: int) -> tuple[str, ...]:
    carry = rule.step_carry[i] if rule.step_carry else ()
    return carry or rule.steps[i].by


def _chain_codes(keys: list[np.ndarray]) -> np.ndarray:
    """One dense code per tuple of step keys."""
    code = np.zeros(len(keys[0]), dtype=np.int64)
    for k in keys:
        code = pd.factorize(code * (int(k.max()) + 1) + k)[0].astype(np.int64)
    return code


def _grouped(sid: np.ndarray, values: np.ndarray, n_sessions: int) -> list[np.ndarray]:
    """Distinct `values` per session, ascending: one sort over all pairs, then split."""
    span = int(values.max()) + 1 if len(values) else 1
    pairs = np.unique(sid * span + values)
    cuts = np.searchsorted(pairs // span, np.arange(1, n_sessions))
    return np.split(pairs % span, cuts)


def _names(rule: Rule) -> list[str]:
    return [f"{s.id}.{'+'.join(s.by)}" for s in rule.steps]


def _candidates(
    rule: Rule, done: _Partial, data: list[_StepData], space: KeySpace, carried: _Carried
) -> list[Candidate]:
    m = len(done.t)
    keys = [np.concatenate([k, c]) for k, c in zip(done.keys, carried.keys, strict=True)]
    starts = np.concatenate([done.start, carried.last])
    ends = np.concatenate([done.t, carried.end])
    sid = sessions(_chain_codes(keys), starts, rule.window_ms)
    _, first_of = np.unique(sid, return_index=True)  # sessions are 0..n-1
    n = len(first_of)
    start = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(start, sid, starts)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, sid, starts)
    end = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(end, sid, ends)
    prefix: dict[int, Carried] = {int(sid[m + e]): p for e, p in enumerate(carried.summaries)}
    per_step = []
    for i, (step, d, pos) in enumerate(zip(rule.steps, data, done.pos, strict=True)):
        back = np.arange(step.count - 1, -1, -1)
        idx = (pos[:, None] - back[None, :]).ravel()  # each completion's `count` events
        owner, at = carried.held[i]
        own_sid = np.concatenate([np.repeat(sid[:m], step.count), sid[m + owner]])
        per_step.append([d.rows[j] for j in _grouped(own_sid, np.concatenate([idx, at]), n)])
    all_sid = np.concatenate([np.repeat(np.arange(n), [len(r) for r in s]) for s in per_step])
    all_rows = np.concatenate([np.concatenate(s) for s in per_step])
    rows = _grouped(all_sid, all_rows, n)
    names = _names(rule)
    out = []
    for s in range(n):
        f = first_of[s]
        key = tuple((name, space.texts[k[f]]) for name, k in zip(names, keys, strict=True))
        steps = {st.id: per_step[i][s] for i, st in enumerate(rule.steps)}
        pre = prefix.get(s)
        begin = int(start[s]) if pre is None else pre.start
        out.append(
            Candidate(rule, key, begin, int(end[s]), rows[s], begin, steps, prefix=pre,
                      last=int(last[s]))
        )  # fmt: skip
    return out


register("sequence", detect_sequence)
CARRIED["sequence"] = detect_sequence
