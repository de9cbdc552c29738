"""One detector per rule type, registered in KINDS. Each: (rule, frame, times) -> candidates.

All work on whole arrays (numpy / pandas); Python loops run per candidate, never per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from secops.correlate.candidate import Candidate, Carried, Carry
from secops.correlate.rule import Rule
from secops.correlate.windows import (
    HAS_TIME,
    Keys,
    KeyValues,
    key_codes,
    sessions,
    sliding_counts,
    sliding_distinct,
)

Detector = Callable[[Rule, pd.DataFrame, np.ndarray], list[Candidate]]


def _selected(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    mask = rule.filter(frame) if rule.filter is not None else np.ones(len(frame), dtype=bool)
    return np.flatnonzero(mask & (times > HAS_TIME))


def _columns(frame: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """Only the columns a detector reads (taking rows of every column is the slow part)."""
    return frame[[c for c in dict.fromkeys(names) if c in frame.columns]]


def _episodes(
    rule: Rule,
    rows: np.ndarray,
    keys: np.ndarray,
    uniques: Keys,
    times: np.ndarray,
    fire: np.ndarray,
    gap_ms: int,
    carried: dict[int, Carried] | None = None,
    after: int | None = None,
) -> list[Candidate]:
    """Group `rows` into sessions per key (gap <= gap_ms); each session with a firing row is a
    candidate (`after`: instead each session with an event after that time that began
    before it or continues a carried episode, `fired` saying which fire). `carried` (key code -> summary of an episode's first rows): the key's first
    session continues that episode."""
    valid = keys >= 0
    rows, keys, fire = rows[valid], keys[valid], fire[valid]
    t = times[rows]
    sid = sessions(keys, t, gap_ms)
    fired = np.unique(sid[fire])
    opened = _continued(keys, sid, carried or {})
    fired = np.union1d(fired, [s for s, c in opened.items() if c.fired]).astype(np.int64)
    firing = fired
    if after is not None:  # the rows after it are held: only an episode begun before matters
        before = np.union1d(sid[t < after], np.fromiter(opened, dtype=np.int64))
        firing = np.intersect1d(sid[t > after], before)
    if len(firing) == 0:
        return []
    keep = np.isin(sid, firing)
    sid, rows, t, keys = sid[keep], rows[keep], t[keep], keys[keep]
    order = np.lexsort((rows, t, sid))
    sid, rows, t, keys = sid[order], rows[order], t[order], keys[order]
    first = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    last = np.r_[first[1:], len(sid)] - 1
    hit = set(fired.tolist())
    values = uniques.take(keys[first])
    out = []
    for n, (a, b) in enumerate(zip(first.tolist(), last.tolist(), strict=True)):
        key = tuple(zip(rule.group_by, values[n], strict=False))
        pre, s = opened.get(int(sid[a])), int(sid[a])
        start = int(t[a]) if pre is None else pre.start
        out.append(
            Candidate(rule, key, start, int(t[b]), rows[a : b + 1], start, prefix=pre,
                      fired=s in hit)
        )  # fmt: skip
    return out


def _continued(keys: np.ndarray, sid: np.ndarray, carried: dict[int, Carried]) -> dict:
    """Session id -> the carried summary it continues (the first session of a carried key)."""
    if not carried or len(keys) == 0:
        return {}
    none = np.iinfo(np.int64).max
    firsts = np.full(max(int(keys.max()), *carried) + 1, none, dtype=np.int64)
    np.minimum.at(firsts, keys, sid)  # sessions number each key's in time order
    return {int(firsts[c]): pre for c, pre in carried.items() if firsts[c] != none}


def _keyed(
    frame: pd.DataFrame, rows: np.ndarray, fields: list[str], carry: Carry | None
) -> tuple[np.ndarray, KeyValues, dict[int, Carried]]:
    """Key codes of `rows` and the key values, with the code of each carried key (its key
    columns are coded with the rows': a carried key without rows gets a code of its own)."""
    sub = _columns(frame, fields).iloc[rows]
    if carry is None or not carry.summaries:
        keys, uniques = key_codes(sub, fields)
        return keys, uniques, {}
    both = pd.concat([sub, carry.keys[list(sub.columns)]], ignore_index=True)
    codes, uniques = key_codes(both, fields)
    mine = codes[len(sub) :]
    carried = {int(c): s for c, s in zip(mine.tolist(), carry.summaries, strict=True) if c >= 0}
    return codes[: len(sub)], uniques, carried


def detect_match(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> list[Candidate]:
    rows = _selected(rule, frame, times)
    if not rule.group_by:
        return [
            Candidate(
                rule,
                (("event.id", frame["event.id"].iat[r]),),
                int(times[r]),
                int(times[r]),
                np.array([r]),
                int(times[r]),
            )
            for r in rows
        ]
    keys, uniques = key_codes(_columns(frame, rule.group_by).iloc[rows], list(rule.group_by))
    return _episodes(
        rule, rows, keys, uniques, times, np.ones(len(rows), dtype=bool), rule.window_ms
    )


def detect_threshold(
    rule: Rule, frame: pd.DataFrame, times: np.ndarray, carry: Carry | None = None,
    after: int | None = None,
) -> list[Candidate]:  # fmt: skip
    rows = _selected(rule, frame, times)
    keys, uniques, carried = _keyed(frame, rows, list(rule.group_by), carry)
    counts = sliding_counts(keys, times[rows], rule.window_ms)
    fire = counts >= rule.threshold
    return _episodes(rule, rows, keys, uniques, times, fire, rule.window_ms, carried, after)


def detect_distinct(
    rule: Rule, frame: pd.DataFrame, times: np.ndarray, carry: Carry | None = None,
    after: int | None = None,
) -> list[Candidate]:  # fmt: skip
    rows = _selected(rule, frame, times)
    assert rule.field is not None
    sub = _columns(frame, (rule.field,)).iloc[rows]
    values, _ = pd.factorize(
        sub[rule.field] if rule.field in sub.columns else pd.Series([pd.NA] * len(sub))
    )
    has_value = values >= 0
    rows, values = rows[has_value], values[has_value]
    keys, uniques, carried = _keyed(frame, rows, list(rule.group_by), carry)
    distinct = sliding_distinct(keys, times[rows], values.astype(np.int64), rule.window_ms)
    fire = distinct >= rule.threshold
    return _episodes(rule, rows, keys, uniques, times, fire, rule.window_ms, carried, after)


def detect_absence(rule: Rule, frame: pd.DataFrame, times: np.ndarray) -> list[Candidate]:
    """A (filter) with no B (followed_by) of the same key within the window after it.

    Only A events whose window has fully elapsed before the last event seen are judged.
    """
    assert rule.followed_by is not None
    a_rows = _selected(rule, frame, times)
    b_rows = np.flatnonzero(rule.followed_by(frame))
    horizon = int(times.max()) if len(times) else 0
    a_rows = a_rows[times[a_rows] + rule.window_ms <= horizon]
    if len(a_rows) == 0:
        return []
    both = np.concatenate([a_rows, b_rows])
    keys, uniques = key_codes(_columns(frame, rule.group_by).iloc[both], list(rule.group_by))
    a = pd.DataFrame({"t": times[a_rows], "k": keys[: len(a_rows)], "row": a_rows})
    b = pd.DataFrame({"tb": times[b_rows], "k": keys[len(a_rows) :]})
    a = a[a["k"] >= 0].sort_values("t")
    b = b[b["k"] >= 0].sort_values("tb")
    joined = pd.merge_asof(
        a, b, left_on="t", right_on="tb", by="k", direction="forward", allow_exact_matches=False
    )
    missing = joined["tb"].isna() | (joined["tb"] - joined["t"] > rule.window_ms)
    hit = joined[missing.to_numpy()]
    return _episodes(
        rule,
        hit["row"].to_numpy(),
        hit["k"].to_numpy(),
        uniques,
        times,
        np.ones(len(hit), dtype=bool),
        rule.window_ms,
    )


KINDS: dict[str, Detector] = {
    "match": detect_match,
    "threshold": detect_threshold,
    "distinct": detect_distinct,
    "absence": detect_absence,
}


#: kinds whose open episodes can be carried as summaries (`Carry`) instead of rows
CARRIED: dict[str, Callable[..., list[Candidate]]] = {
    "threshold": detect_threshold,
    "distinct": detect_distinct,
}


def detect_open(
    rule: Rule, frame: pd.DataFrame, times: np.ndarray, carry: Carry | None, after: int
) -> list[Candidate]:
    """Every episode with events before and after `after` (fired or not), continuing `carry`:
    what a time step whose rows from `after` on are held must carry as a summary."""
    return CARRIED[rule.type](rule, frame, times, carry, after=after)


def register(kind: str, detector: Detector) -> None:
    KINDS[kind] = detector
