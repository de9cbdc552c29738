"""The common stream: ECS column names and their Arrow-backed dtypes.

Every step between normalise and correlate passes a pandas DataFrame whose columns are
(a superset of) EVENT_COLUMNS, flat dotted ECS names, Arrow-backed dtypes. Missing values
are nulls (pd.NA), never empty strings. IPs are strings in canonical text form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

TIMESTAMP = pa.timestamp("ns", tz="UTC")

#: column name -> Arrow type. Order is the canonical column order.
EVENT_FIELDS: dict[str, pa.DataType] = {
    "@timestamp": TIMESTAMP,
    "event.id": pa.string(),
    "event.kind": pa.string(),
    "event.category": pa.string(),
    "event.type": pa.string(),
    "event.action": pa.string(),
    "event.outcome": pa.string(),
    "event.dataset": pa.string(),  # parser id, e.g. "sshd"
    "event.severity": pa.int64(),
    "event.code": pa.string(),  # device message id, e.g. ASA "106023"
    "event.reason": pa.string(),  # e.g. netfilter log prefix
    "source.ip": pa.string(),
    "source.port": pa.int64(),
    "source.domain": pa.string(),  # when the log names the peer by host name only
    "destination.ip": pa.string(),
    "destination.port": pa.int64(),
    "network.transport": pa.string(),
    "network.protocol": pa.string(),
    "user.name": pa.string(),
    "user.effective.name": pa.string(),  # sudo/su target user
    "user.target.name": pa.string(),  # account an IAM action changes (useradd, gpasswd ...)
    "host.name": pa.string(),
    "process.name": pa.string(),
    "process.pid": pa.int64(),
    "process.command_line": pa.string(),
    "observer.vendor": pa.string(),
    "observer.product": pa.string(),
    "rule.id": pa.string(),  # IDS signature id
    "rule.name": pa.string(),  # IDS signature
    "rule.category": pa.string(),
    "url.original": pa.string(),
    "http.request.method": pa.string(),
    "http.response.status_code": pa.int64(),
    "user_agent.original": pa.string(),
    "message": pa.string(),
    "log.file.path": pa.string(),
    "event.original": pa.string(),
}

EVENT_COLUMNS: list[str] = list(EVENT_FIELDS)

#: columns the enrich step adds (topology answers per event); all strings except criticality.
ENRICH_FIELDS: dict[str, pa.DataType] = {
    "source.asset": pa.string(),
    "source.zone": pa.string(),
    "destination.asset": pa.string(),
    "destination.zone": pa.string(),
    "host.asset": pa.string(),
    "host.zone": pa.string(),
}

NUMERIC_FIELDS = {k for k, v in {**EVENT_FIELDS}.items() if pa.types.is_integer(v)}


def dtype(field: str) -> pd.ArrowDtype:
    return pd.ArrowDtype(EVENT_FIELDS.get(field) or ENRICH_FIELDS.get(field) or pa.string())


def empty_events() -> pd.DataFrame:
    """An empty frame with every event column and its dtype."""
    return pd.DataFrame({c: pd.Series([], dtype=dtype(c)) for c in EVENT_COLUMNS})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with every EVENT column present, in order, cast to its Arrow dtype.

    Extra columns are kept after the canonical ones.
    """
    n = len(frame)
    out: dict[str, Any] = {}
    for col in EVENT_COLUMNS:
        want = dtype(col)
        if col in frame.columns:
            s = frame[col]
            out[col] = s if s.dtype == want else _cast(s, want)
        else:
            out[col] = pd.Series(pa.nulls(n, want.pyarrow_dtype), dtype=want, index=frame.index)
    for col in frame.columns:
        if col not in out:
            out[col] = frame[col]
    return pd.DataFrame(out, index=frame.index)


#: a day inside nanoseconds' range at each end: localising to any zone stays representable
_NS_MIN = pd.Timestamp("1677-09-23")
_NS_MAX = pd.Timestamp("2262-04-10")
_NS_MIN_UTC, _NS_MAX_UTC = _NS_MIN.tz_localize("UTC"), _NS_MAX.tz_localize("UTC")


def in_ns_range(parsed: pd.Series) -> pd.Series:
    """`parsed` in nanoseconds; a time nanoseconds cannot hold (before 1677-09-22 or after
    2262-04-11: a corrupted line, a wrong `--year`, a forged message) becomes NaT, so its
    line is dead-lettered like any other invalid time instead of stopping the run."""
    lo, hi = (_NS_MIN, _NS_MAX) if parsed.dt.tz is None else (_NS_MIN_UTC, _NS_MAX_UTC)
    ok = parsed.isna() | ((parsed >= lo) & (parsed <= hi))
    if not ok.all():
        parsed = parsed.where(ok)
    return parsed.dt.as_unit("ns")


def _cast(s: pd.Series, want: pd.ArrowDtype) -> pd.Series:
    t = want.pyarrow_dtype
    if pa.types.is_timestamp(t):
        parsed = in_ns_range(pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601"))
        return pd.Series(parsed, index=s.index).astype(want)
    if pa.types.is_integer(t):
        return pd.to_numeric(s, errors="coerce").astype(want)
    arr = pa.array(
        s.astype(object).where(s.notna(), None).map(lambda v: v if v is None else str(v)),
        type=pa.string(),
    )
    return pd.Series(arr, dtype=want, index=s.index)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{'source.ip': x} -> {'source': {'ip': x}}; keys starting with '@' stay flat.

    None/NA values are dropped.
    """
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
            continue
        if key.startswith("@"):
            out[key] = value
            continue
        parts = key.split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):  # a scalar already sits at a parent key
                nxt = node[p] = {"value": nxt}
            node = nxt
        node[parts[-1]] = value
    return out


def flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Inverse of nest: nested ECS dict -> flat dotted keys (lists kept as values)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out
