"""Vectorised time-window primitives over (key, time) arrays.

Times are int64 milliseconds; keys are dense int codes (from pandas.factorize). Every function
works on whole arrays sorted by (key, time): no per-event Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: the time of an event without one: below every detector's cut-off (HAS_TIME)
NO_TIME_MS = int(np.iinfo(np.int64).min)
#: detectors read only rows with `times > HAS_TIME`
HAS_TIME = np.iinfo(np.int64).min // 2


def to_millis(ts: pd.Series) -> np.ndarray:
    """Event timestamps (Arrow timestamp[ns, UTC]) -> int64 ms since epoch (NaT -> min)."""
    dtype = ts.dtype
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_timestamp(dtype.pyarrow_dtype):
        arr = pa.chunked_array(ts.array._pa_array).cast(pa.timestamp("ns", "UTC"))
        ns = arr.cast(pa.int64())
        ms = np.asarray(pc.fill_null(ns, 0).to_numpy(), dtype=np.int64) // 1_000_000
        missing = np.asarray(pc.is_null(ns).to_numpy(), dtype=bool)
        ms[missing] = NO_TIME_MS
        return ms
    values = pd.to_datetime(ts, utc=True).astype("datetime64[ns, UTC]")
    ns = (
        values.array.asi8
        if hasattr(values.array, "asi8")
        else values.to_numpy("datetime64[ns]").view("int64")
    )
    ns = np.asarray(ns, dtype=np.int64)
    return np.where(ns == np.iinfo(np.int64).min, ns, ns // 1_000_000)  # NaT stays min


class Keys(Protocol):
    """The key tuples of dense key codes."""

    def take(self, codes: np.ndarray) -> list[tuple]: ...


class KeyValues(Sequence[tuple]):
    """The key tuple of each dense code, built when asked for (most keys never fire)."""

    def __init__(self, cols: list[pd.Series], first_rows: np.ndarray) -> None:
        self._cols, self._first = cols, first_rows

    def __len__(self) -> int:
        return len(self._first)

    def __getitem__(self, code: int) -> tuple:  # type: ignore[override]
        return self.take(np.array([code]))[0]

    def take(self, codes: np.ndarray) -> list[tuple]:
        """The key tuples of many codes, each column read once (a value at a time costs a
        pandas lookup each: ~0.3 ms, seconds for the keys of a busy step)."""
        rows = self._first[np.asarray(codes, dtype=np.int64)]
        cols = [[None if pd.isna(v) else v for v in c.iloc[rows]] for c in self._cols]
        return list(zip(*cols, strict=True)) if cols else [() for _ in rows]


def key_codes(frame: pd.DataFrame, fields: list[str]) -> tuple[np.ndarray, KeyValues]:
    """Dense codes for the tuple of `fields` per row (-1 when any part is null) + the key values.

    Codes number the keys in order of first appearance. Each column is factorized alone
    (Arrow dictionary encoding) and the codes are combined as integers: no Python objects."""
    if not fields:  # one key, the empty tuple
        return np.zeros(len(frame), dtype=np.int64), KeyValues([], np.zeros(1, dtype=np.int64))
    cols = [
        frame[f] if f in frame.columns else pd.Series([pd.NA] * len(frame), index=frame.index)
        for f in fields
    ]
    combined = np.zeros(len(frame), dtype=np.int64)
    nulls = np.zeros(len(frame), dtype=bool)
    for c in cols:
        codes, uniques = pd.factorize(c, use_na_sentinel=True)
        nulls |= codes < 0
        combined = combined * (len(uniques) + 1) + (codes.astype(np.int64) + 1)
        combined = pd.factorize(combined)[0].astype(np.int64)  # dense again: no overflow
    combined[nulls] = -1
    codes, _ = pd.factorize(combined, use_na_sentinel=False)
    codes = codes.astype(np.int64)
    if nulls.any():  # -1 took a code of its own: drop it and renumber the rest
        null_code = codes[np.flatnonzero(nulls)[0]]
        codes = np.where(nulls, -1, codes - (codes > null_code))
    valid = np.flatnonzero(codes >= 0)
    _, first_of = np.unique(codes[valid], return_index=True)  # codes are 0..k-1, all present
    first = valid[first_of]
    return codes, KeyValues([c.reset_index(drop=True) for c in cols], first)


def from_time(times: np.ndarray, start: int | None) -> np.ndarray:
    """`times` with those before `start` made NO_TIME_MS (every detector drops them): what a
    rule that reads from `start` on sees (None: all)."""
    return times if start is None else np.where(times >= start, times, NO_TIME_MS)


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
    order = np.argsort(q, kind="stable")  # sorted needles: searchsorted walks, no cache misses
    qs = q[order]
    out = np.empty(len(q), dtype=np.int64)
    out[order] = np.searchsorted(s, qs, side="right") - np.searchsorted(e, qs, side="right")
    return out


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
