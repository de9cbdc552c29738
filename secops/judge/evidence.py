"""The evidence of many candidates summarised at once: O(evidence log evidence), whatever the
number of candidates, never a pandas frame per candidate.

The evidence rows of every candidate are laid end to end (`Ragged`); each column is taken once
for all of them and factorized; distinct values per candidate are one sort over (candidate,
code) pairs. Python objects are built only for what a finding shows: the first few distinct
values in evidence order, the smallest few in sorted order, the first and last event ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: event ids kept per finding: the first and the last this many (the rest: key + time range)
EVIDENCE_IDS = 10
#: distinct values kept per column in evidence order (categories, "exactly one value" fields)
FIRST_VALUES = 10
#: distinct values kept per column in sorted order (the finding's related.* lists)
SMALLEST_VALUES = 100
#: ECS entity fields a finding sets when its evidence (or key) has exactly one value
ENTITY_FIELDS = (
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "network.transport",
    "user.name",
    "user.effective.name",
    "host.name",
    "process.name",
    "rule.name",
    "url.original",
)


@dataclass(frozen=True)
class Evidence:
    """What the judge and the finding document read of one candidate's evidence rows."""

    count: int
    event_ids: list[str]  # the first and the last EVIDENCE_IDS ids, in evidence order
    first: dict[str, list[Any]] = field(default_factory=dict)  # column -> first distinct values
    smallest: dict[str, list[Any]] = field(default_factory=dict)  # column -> smallest distinct
    users: list[str] = field(default_factory=list)  # every distinct user.name, sorted

    @property
    def omitted(self) -> int:
        """Evidence events whose id is not listed (re-read them by key and time range)."""
        return self.count - len(self.event_ids)


@dataclass
class Ragged:
    """Row arrays of many groups, end to end: `group[i]` owns frame row `rows[i]`."""

    group: np.ndarray
    rows: np.ndarray
    n: int

    @classmethod
    def of(cls, parts: Sequence[np.ndarray]) -> Ragged:
        lens = np.array([len(p) for p in parts], dtype=np.int64)
        rows = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
        return cls(np.repeat(np.arange(len(parts)), lens), rows, len(parts))


def clean(v: Any) -> Any:
    if v is None or (not isinstance(v, (list, dict, str)) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def taken(frame: pd.DataFrame, col: str, rows: np.ndarray) -> pa.Array | None:
    """Column `col` at `rows` as one Arrow array (None: no such column)."""
    if col not in frame.columns:
        return None
    s = frame[col]
    data = getattr(s.array, "_pa_array", None)
    if data is None:
        data = pa.array(s.to_numpy(dtype=object), from_pandas=True)
    elif isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    return data.take(pa.array(rows, type=pa.int64()))


def codes_of(values: pa.Array | None, n: int) -> tuple[np.ndarray, pa.Array]:
    """Dense codes of `values` (-1: null) and the distinct values they number."""
    if values is None:
        return np.full(n, -1, dtype=np.int64), pa.array([], type=pa.null())
    enc = pc.dictionary_encode(values)
    idx = enc.indices
    codes = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, enc.dictionary


def first_seen(r: Ragged, codes: np.ndarray, cap: int | None) -> list[np.ndarray]:
    """Per group: the positions (in r) of the first occurrence of each distinct non-negative
    code, in evidence order, at most `cap` of them."""
    ok = np.flatnonzero(codes >= 0)
    span = int(codes.max()) + 1 if len(ok) else 1
    _, first = np.unique(r.group[ok] * span + codes[ok], return_index=True)
    pos = np.sort(ok[first])  # group-major (groups are laid out in order), evidence order
    return _split(r.group[pos], pos, r.n, cap)


def smallest(r: Ragged, codes: np.ndarray, ranks: np.ndarray, cap: int) -> list[np.ndarray]:
    """Per group: the codes of its `cap` smallest distinct values (`ranks`: code -> sort rank)."""
    ok = np.flatnonzero(codes >= 0)
    span = len(ranks) + 1
    pairs = np.unique(r.group[ok] * span + ranks[codes[ok]])
    order = np.argsort(ranks) if len(ranks) else np.zeros(0, dtype=np.int64)
    return _split(pairs // span, order[pairs % span], r.n, cap)


def _split(group: np.ndarray, values: np.ndarray, n: int, cap: int | None) -> list[np.ndarray]:
    """`values` (sorted by `group`) cut into n lists, each cut to its first `cap`."""
    starts = np.searchsorted(group, np.arange(n + 1))
    if cap is not None:
        keep = np.arange(len(group)) - starts[group] < cap
        values, group = values[keep], group[keep]
        starts = np.searchsorted(group, np.arange(n + 1))
    return [values[starts[i] : starts[i + 1]] for i in range(n)]


def sort_ranks(dictionary: pa.Array) -> np.ndarray:
    """code -> rank of its value in ascending order."""
    order = np.asarray(pc.sort_indices(dictionary).to_numpy(), dtype=np.int64)
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order))
    return ranks


def distinct_first(
    frame: pd.DataFrame, r: Ragged, cols: Sequence[str], cap: int | None
) -> dict[str, list[list[Any]]]:
    """Per column, per group: its first `cap` distinct non-null values in evidence order."""
    out = {}
    for col in cols:
        values = taken(frame, col, r.rows)
        codes, _ = codes_of(values, len(r.rows))
        pos = first_seen(r, codes, cap)
        out[col] = _python(values, pos)
    return out


def distinct_smallest(
    frame: pd.DataFrame, r: Ragged, cols: Sequence[str], cap: int
) -> dict[str, list[list[Any]]]:
    """Per column, per group: its `cap` smallest distinct non-null values, ascending."""
    out = {}
    for col in cols:
        values = taken(frame, col, r.rows)
        codes, dictionary = codes_of(values, len(r.rows))
        per = smallest(r, codes, sort_ranks(dictionary), cap)
        out[col] = _python(dictionary, per)
    return out


def distincts(
    frame: pd.DataFrame, r: Ragged, first_cols: Sequence[str], related_cols: Sequence[str]
) -> tuple[dict[str, list[list[Any]]], dict[str, list[list[Any]]], list[list[Any]]]:
    """Per group: the first distinct values of `first_cols`, the smallest of `related_cols`
    and every distinct user.name (what `Evidence` keeps)."""
    return (
        distinct_first(frame, r, first_cols, FIRST_VALUES),
        distinct_smallest(frame, r, related_cols, SMALLEST_VALUES),
        distinct_first(frame, r, ["user.name"], None)["user.name"],
    )


def distinct_tuples(
    frame: pd.DataFrame, r: Ragged, cols: Sequence[str]
) -> list[list[dict[str, Any]]]:
    """Per group: the distinct tuples of `cols` (nulls count as values) in evidence order, as
    records (what `drop_duplicates().to_dict("records")` gives on each group's rows)."""
    present = [c for c in cols if c in frame.columns]
    arrays = [taken(frame, c, r.rows) for c in present]
    combined = np.zeros(len(r.rows), dtype=np.int64)
    for a in arrays:
        codes, dictionary = codes_of(a, len(r.rows))
        combined = combined * (len(dictionary) + 1) + (codes + 1)
        combined = pd.factorize(combined)[0].astype(np.int64)  # dense again: no overflow
    pos = first_seen(r, combined, None)
    columns = {c: _python(a, pos) for c, a in zip(present, arrays, strict=True)}
    return [
        [{c: columns[c][g][i] for c in present} for i in range(len(pos[g]))] for g in range(r.n)
    ]


def _python(values: pa.Array | None, per: list[np.ndarray]) -> list[list[Any]]:
    """The Python values at each group's positions (one Arrow take for all groups)."""
    if values is None:
        return [[] for _ in per]
    flat = np.concatenate(per) if per else np.zeros(0, dtype=np.int64)
    items = [clean(v) for v in values.take(pa.array(flat, type=pa.int64())).to_pylist()]
    out, at = [], 0
    for p in per:
        out.append(items[at : at + len(p)])
        at += len(p)
    return out


def head_tail_ids(frame: pd.DataFrame, rows: Sequence[np.ndarray], n: int) -> list[list[str]]:
    """Per candidate: the event ids of its first and last `n` evidence rows (all when fewer)."""
    picks = [r if len(r) <= 2 * n else np.concatenate([r[:n], r[-n:]]) for r in rows]
    r = Ragged.of(picks)
    ids = taken(frame, "event.id", r.rows)
    per = np.split(np.arange(len(r.rows)), np.cumsum([len(p) for p in picks])[:-1])
    values = _python(ids, per) if ids is not None else [[] for _ in picks]
    return [list(dict.fromkeys(v for v in vals if v is not None)) for vals in values]
