"""Summaries of an episode's first rows (`Carried`), so time steps hold an open episode's
last window instead of all its rows: made from evidence rows, merged in time order, and turned
into what `build_contexts` gives a whole episode (the count, the first and last event ids,
the distinct values), equal to what the rows themselves would give.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from secops.correlate.candidate import Candidate, Carried
from secops.judge.evidence import (
    EVIDENCE_IDS,
    FIRST_VALUES,
    SMALLEST_VALUES,
    Evidence,
    Ragged,
    _python,
    distinct_first,
    distinct_tuples,
    distincts,
    taken,
)

#: event ids a summary keeps: all up to this many, else the first EVIDENCE_IDS and the rest
#: of this many from the end (a merge then still knows the first and last EVIDENCE_IDS)
CARRIED_IDS = 3 * EVIDENCE_IDS


def summaries(
    candidates: Sequence[Candidate],
    frame: pd.DataFrame,
    first_cols: Sequence[str],
    related_cols: Sequence[str],
    source_cols: list[str],
    target_cols: list[str],
) -> list[Carried]:
    """Each candidate's rows summarised (its own `prefix`, if any, merged in front)."""
    rows = [c.rows for c in candidates]
    r = Ragged.of(rows)
    firsts, lasts = (
        Ragged.of([c.first_rows for c in candidates]),
        Ragged.of([c.last_rows for c in candidates]),
    )
    first, small, users = distincts(frame, r, first_cols, related_cols)
    hosts = distinct_first(frame, firsts, ["host.asset"], None)["host.asset"]
    sources = distinct_tuples(frame, firsts, source_cols)
    targets = distinct_tuples(frame, lasts, target_cols)
    ids = _raw_ids(frame, rows)
    out = []
    for i, c in enumerate(candidates):
        own = Carried(
            c.start, len(c.rows), c.fired, ids[i],
            {col: tuple(v[i]) for col, v in first.items()},
            {col: tuple(v[i]) for col, v in small.items()},
            tuple(sorted(str(u) for u in users[i])), tuple(sources[i]), tuple(targets[i]),
            tuple(hosts[i]), {s: int(len(x)) for s, x in c.steps.items()}, c.last, c.end,
        )  # fmt: skip
        out.append(own if c.prefix is None else merge(c.prefix, own))
    return out


def _raw_ids(frame: pd.DataFrame, rows: Sequence[np.ndarray]) -> list[tuple[Any, ...]]:
    """Per group: the event ids (nulls too) a summary keeps, in evidence order."""
    tail = CARRIED_IDS - EVIDENCE_IDS
    picks = [
        r if len(r) <= CARRIED_IDS else np.concatenate([r[:EVIDENCE_IDS], r[-tail:]]) for r in rows
    ]
    r = Ragged.of(picks)
    values = taken(frame, "event.id", r.rows)
    per = np.split(np.arange(len(r.rows)), np.cumsum([len(p) for p in picks])[:-1])
    return [tuple(v) for v in _python(values, per)]


def merge(a: Carried, b: Carried) -> Carried:
    """`a` then `b` (its rows all later) as one summary."""
    return Carried(
        a.start, a.count + b.count, a.fired or b.fired, _ids(a, b),
        {c: _firsts(a.first.get(c, ()), v)[:FIRST_VALUES] for c, v in b.first.items()},
        {c: tuple(sorted(set(a.smallest.get(c, ())) | set(v))[:SMALLEST_VALUES])
         for c, v in b.smallest.items()},
        tuple(sorted(set(a.users) | set(b.users))),
        _records(a.sources, b.sources), _records(a.targets, b.targets), _firsts(a.hosts, b.hosts),
        {s: a.steps.get(s, 0) + n for s, n in b.steps.items()}, max(a.last, b.last),
        max(a.end, b.end),
    )  # fmt: skip


def _ids(a: Carried, b: Carried) -> tuple[Any, ...]:
    n, tail = a.count + b.count, CARRIED_IDS - EVIDENCE_IDS
    if n <= CARRIED_IDS:
        return a.ids + b.ids  # both whole
    head = (a.ids + b.ids[: max(0, EVIDENCE_IDS - a.count)])[:EVIDENCE_IDS]
    if b.count >= tail:
        return head + b.ids[-tail:]
    return head + (a.ids[-(tail - b.count) :] + b.ids)[-tail:]


def _firsts(a: Iterable[Any], b: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys([*a, *b]))


def _records(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> tuple[dict, ...]:
    seen = {tuple(r.items()) for r in a}
    return tuple(a) + tuple(r for r in b if tuple(r.items()) not in seen)


def evidence(m: Carried, ids_kept: int = EVIDENCE_IDS) -> Evidence:
    """What `summarise` gives the whole episode `m` summarises."""
    picks = m.ids if m.count <= 2 * ids_kept else m.ids[:ids_kept] + m.ids[-ids_kept:]
    return Evidence(
        m.count,
        list(dict.fromkeys(v for v in picks if v is not None)),
        {c: list(v) for c, v in m.first.items()},
        {c: list(v) for c, v in m.smallest.items()},
        list(m.users),
    )
