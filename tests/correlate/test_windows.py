"""The window primitives agree with a plain reference implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from secops.correlate.windows import HAS_TIME, sessions, sliding_counts, sliding_distinct, to_millis
from secops.schema import TIMESTAMP

events = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 500), st.integers(0, 5)), max_size=60)


def _arrays(evs):
    k = np.array([e[0] for e in evs], dtype=np.int64)
    t = np.array([e[1] for e in evs], dtype=np.int64)
    v = np.array([e[2] for e in evs], dtype=np.int64)
    return k, t, v


@settings(max_examples=200, deadline=None)
@given(events, st.integers(1, 200))
def test_sliding_counts_match_reference(evs, window):
    k, t, _ = _arrays(evs)
    got = sliding_counts(k, t, window)
    want = [sum(1 for kj, tj, _ in evs if kj == ki and ti - window < tj <= ti) for ki, ti, _ in evs]
    assert got.tolist() == want


@settings(max_examples=200, deadline=None)
@given(events, st.integers(1, 200))
def test_sliding_distinct_matches_reference(evs, window):
    k, t, v = _arrays(evs)
    got = sliding_distinct(k, t, v, window)
    want = [
        len({vj for kj, tj, vj in evs if kj == ki and ti - window < tj <= ti}) for ki, ti, _ in evs
    ]
    assert got.tolist() == want


@settings(max_examples=100, deadline=None)
@given(events, st.integers(1, 200))
def test_sessions_split_on_gaps_only(evs, gap):
    k, t, _ = _arrays(evs)
    sid = sessions(k, t, gap)
    for i in range(len(evs)):
        for j in range(len(evs)):
            assert (sid[i] == sid[j]) == _same_session(evs, i, j, gap), (i, j)


def _same_session(evs, i, j, gap):
    """Reference: two events share a session when they have one key and the times of that key
    between theirs never jump by more than the gap."""
    (ki, ti, _), (kj, tj, _) = evs[i], evs[j]
    if ki != kj:
        return False
    lo, hi = min(ti, tj), max(ti, tj)
    between = sorted({tx for kx, tx, _ in evs if kx == ki and lo <= tx <= hi})
    return all(b - a <= gap for a, b in zip(between, between[1:], strict=False))


def test_missing_times_fall_below_the_detectors_cut_off():
    """An event without a time is no event at any time: every detector drops rows at or
    at or below HAS_TIME, whichever dtype the frame's timestamps have."""
    stamps = ["2026-11-20T10:00:00.123Z", None, "1969-12-31T23:59:59.5Z"]
    arrow = pd.Series(pa.array([pd.Timestamp(s) if s else None for s in stamps], TIMESTAMP))
    arrow = arrow.astype(pd.ArrowDtype(TIMESTAMP))
    numpy_ = pd.Series(pd.to_datetime(stamps, utc=True, format="ISO8601"))
    for series in (arrow, numpy_):
        ms = to_millis(series)
        assert ms[0] == 1_795_168_800_123
        assert ms[1] <= HAS_TIME
        assert ms[2] == -500  # floor, like numpy
