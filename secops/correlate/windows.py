"""Vectorised time-window primitives over (key, time) arrays.

Times are int64 milliseconds; keys are dense int codes (from pandas.factorize). Every function
works on whole arrays sorted by (key, time): no per-event Python loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def to_millis(ts: pd.Series) -> np.ndarray:
    """Event timestamps (Arrow timestamp[ns, UTC]) -> int64 ms since epoch (NaT -> min)."""
    values = pd.to_datetime(ts, utc=True).astype("datetime64[ns, UTC]")
    ns = (
        values.array.asi8
        if hasattr(values.array, "asi8")
        else values.to_numpy("datetime64[ns]").view("int64")
    )
    return np.asarray(ns, dtype=np.int64) // 1_000_000


def key_codes(frame: pd.DataFrame, fields: list[str]) -> tuple[np.ndarray, list[tuple]]:
    """Dense codes for the tuple of `fields` per row (-1 when any part is null) + the key values."""
    if not fields:
        return np.zeros(len(frame), dtype=np.int64), [()]
    cols = [
        frame[f] if f in frame.columns else pd.Series([pd.NA] * len(frame), index=frame.index)
        for f in fields
    ]
    if len(cols) == 1:
        codes, uniques = pd.factorize(cols[0], use_na_sentinel=True)
        return codes.astype(np.int64), [(u,) for u in uniques]
    index = pd.MultiIndex.from_arrays([c.to_numpy(dtype=object, na_value=None) for c in cols])
    codes, uniques = pd.factorize(index, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    nulls = np.zeros(len(frame), dtype=bool)
    for c in cols:
        nulls |= c.isna().to_numpy()
    codes[nulls] = -1
    return codes, [tuple(u) for u in uniques]


def sort_order(keys: np.ndarray, times: np.ndarray) -> np.ndarray:
    return np.lexsort((times, keys))


def _composite(keys: np.ndarray, times: np.ndarray, base: int, span: int) -> np.ndarray:
    return keys.astype(np.int64) * span + (times - base)


def covering_counts(
    keys: np.ndarray, starts: np.ndarray, ends: np.ndarray, qkeys: np.ndarray, qtimes: np.ndarray
) -> np.ndarray:
    """For each query (key, t): how many intervals [start, end) of the same key contain t."""
    if len(qkeys) == 0:
        return np.zeros(0, dtype=np.int64)
    allt = np.concatenate([starts, ends, qtimes])
    base = int(allt.min())
    span = int(allt.max()) - base + 1
    s = np.sort(_composite(keys, starts, base, span))
    e = np.sort(_composite(keys, ends, base, span))
    q = _composite(qkeys, qtimes, base, span)
    return np.searchsorted(s, q, side="right") - np.searchsorted(e, q, side="right")


def sliding_counts(keys: np.ndarray, times: np.ndarray, window_ms: int) -> np.ndarray:
    """Events of the same key in (t - window, t] for each event."""
    return covering_counts(keys, times, times + window_ms, keys, times)


def sliding_distinct(
    keys: np.ndarray, times: np.ndarray, values: np.ndarray, window_ms: int
) -> np.ndarray:
    """Distinct `values` of the same key in (t - window, t] for each event (exact).

    Each occurrence counts from its time until the next occurrence of the same (key, value) or
    until it leaves the window, whichever is first; a query counts the intervals covering it.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((times, values, keys))
    k, v, t = keys[order], values[order], times[order]
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = (k[1:] == k[:-1]) & (v[1:] == v[:-1])
    next_t = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
    next_t[:-1][same_next[:-1]] = t[1:][same_next[:-1]]
    end = np.minimum(next_t, t + window_ms)
    keep = end > t  # a duplicate at the same instant covers nothing
    return covering_counts(k[keep], t[keep], end[keep], keys, times)


def sessions(keys: np.ndarray, times: np.ndarray, gap_ms: int) -> np.ndarray:
    """Session id per event: events of one key with gaps <= gap_ms share a session."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = sort_order(keys, times)
    k, t = keys[order], times[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (t[1:] - t[:-1] > gap_ms)
    sid_sorted = np.cumsum(new) - 1
    sid = np.empty(n, dtype=np.int64)
    sid[order] = sid_sorted
    return sid
