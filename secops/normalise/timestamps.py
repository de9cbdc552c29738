"""Timestamp text -> UTC timestamps, vectorised, for every format the headers produce.

RFC 3164 carries neither year nor zone: the year comes from `year`, else from the run date
`now` (a record more than one day in the future rolls back one year); the zone is `tz`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from secops.schema import TIMESTAMP, in_ns_range

_ISO = r"^\d{4}-\d\d-\d\d[T ]"
_ISO_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"
#: a time without zone is digits only: anything else after it ("+000") reads to pandas as a
#: zone, and one such text among naive ones failed the whole batch ("Mixed timezones")
_ISO_NAIVE = r"^\d{4}-\d\d-\d\d[T ]\d\d(?::\d\d(?::\d\d(?:\.\d+)?)?)?$"
_BSD_YEAR = r"^[A-Z][a-z]{2} \d{1,2} \d{4} \d\d:\d\d:\d\d$"
_BSD = r"^[A-Z][a-z]{2} \d{1,2} \d\d:\d\d:\d\d$"
_APACHE = r"^\d{1,2}/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$"
#: Unix time (Zeek `ts`, CEF `rt`, journald): seconds with a fraction, or whole seconds,
#: milliseconds, microseconds or nanoseconds (FortiGate eventtime), told apart by their digits (dates from 2001 to 2286)
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_EPOCH = {"s": r"^\d{10}(?:\.\d+)?$", "ms": r"^\d{13}$", "us": r"^\d{16}$", "ns": r"^\d{19}$"}


def parse_timestamps(text: pa.Array, *, year: int | None, tz: str, now: datetime) -> pd.Series:
    """A tz-aware (UTC) datetime Series, NaT where the text is missing or invalid.

    Each distinct text is parsed once (log lines share their second by the thousand)."""
    distinct = pc.unique(text)
    if 2 * len(distinct) > len(text):
        return _parse_all(text, year=year, tz=tz, now=now)
    where = pc.index_in(text, value_set=distinct).to_numpy(zero_copy_only=False)
    parsed = _parse_all(distinct, year=year, tz=tz, now=now)
    return pd.Series(parsed.array.take(where))


def _parse_all(text: pa.Array, *, year: int | None, tz: str, now: datetime) -> pd.Series:
    clean = pc.replace_substring_regex(pc.utf8_trim_whitespace(text), r" +", " ")
    s = pd.Series(clean.to_pandas(), dtype=object)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    iso = _mask(clean, _ISO)
    with_zone = iso & _mask(clean, _ISO_OFFSET)
    _put(out, with_zone, lambda: _to_utc(s[with_zone], "ISO8601"))
    naive = iso & ~with_zone & _mask(clean, _ISO_NAIVE)
    _put(out, naive, lambda: _localize(_to_naive(s[naive], "ISO8601"), tz))
    bsd_year = _mask(pc.replace_substring_regex(clean, r"\.\d+$", ""), _BSD_YEAR)
    _put(
        out,
        bsd_year,
        lambda: _localize(
            _to_naive(s[bsd_year].str.replace(r"\.\d+$", "", regex=True), "%b %d %Y %H:%M:%S"),
            tz,
        ),
    )
    bsd = _mask(pc.replace_substring_regex(clean, r"\.\d+$", ""), _BSD)
    _put(out, bsd, lambda: _bsd(s[bsd].str.replace(r"\.\d+$", "", regex=True), year, tz, now))
    apache = _mask(clean, _APACHE)
    _put(out, apache, lambda: _to_utc(s[apache], "%d/%b/%Y:%H:%M:%S %z"))
    for unit, regex in _EPOCH.items():
        epoch = _mask(clean, regex)
        if epoch.any():
            out[epoch] = _epoch(s[epoch], unit)
    return out


def _epoch(s: pd.Series, unit: str) -> pd.Series:
    """Unix time text -> UTC, the fraction read as digits (a float loses the microseconds)."""
    whole, _, fraction = s.str.partition(".").T.values
    ns = pd.Series(whole, index=s.index).astype("int64") * _NS_PER[unit]
    digits = pd.Series(fraction, index=s.index).str.slice(0, 9).str.ljust(9, "0")
    ns = ns + digits.astype("int64")
    return in_ns_range(pd.to_datetime(ns, unit="ns", utc=True))


def _put(out: pd.Series, mask: pd.Series, parse: Callable[[], pd.Series]) -> None:
    """out[mask] = parse(), only when some row is in the mask (each pandas step costs
    milliseconds even when empty: a batch of a few events, as an .evtx file gives, paid them
    for every format)."""
    if mask.any():
        out[mask] = parse()


def to_arrow(ts: pd.Series) -> pa.Array:
    return pa.array(ts, type=TIMESTAMP, from_pandas=True)


def _mask(text: pa.Array, regex: str) -> pd.Series:
    return pd.Series(
        pc.fill_null(pc.match_substring_regex(text, regex), False).to_numpy(zero_copy_only=False)
    )


def _to_utc(s: pd.Series, fmt: str) -> pd.Series:
    if s.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    return in_ns_range(pd.to_datetime(s, format=fmt, utc=True, errors="coerce"))


def _to_naive(s: pd.Series, fmt: str) -> pd.Series:
    if s.empty:
        return pd.Series([], dtype="datetime64[ns]")
    parsed = pd.to_datetime(s, format=fmt, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return in_ns_range(parsed)


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    if naive.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    # a time the clocks go back over (02:30 twice) is its first occurrence, as Python's fold=0
    # (it was NaT: an hour of every host's lines dead-lettered each autumn)
    first = np.ones(len(naive), dtype=bool)
    local = naive.dt.tz_localize(tz, ambiguous=first, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def _bsd(s: pd.Series, year: int | None, tz: str, now: datetime) -> pd.Series:
    if s.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    if year is not None:
        return _localize(_to_naive(f"{year} " + s, "%Y %b %d %H:%M:%S"), tz)
    now_ts = pd.Timestamp(now).tz_localize("UTC") if now.tzinfo is None else pd.Timestamp(now)
    this_year = now_ts.tz_convert(tz).year
    current = _localize(_to_naive(f"{this_year} " + s, "%Y %b %d %H:%M:%S"), tz)
    previous = _localize(_to_naive(f"{this_year - 1} " + s, "%Y %b %d %H:%M:%S"), tz)
    future = current.isna() | (current > now_ts + timedelta(days=1))
    return current.where(~future, previous)
