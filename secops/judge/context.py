"""The entities of a candidate finding: who acted (sources) and what was acted on (targets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from secops.correlate.candidate import Candidate, Carried
from secops.judge import carry
from secops.judge.evidence import (
    ENTITY_FIELDS,
    EVIDENCE_IDS,
    Evidence,
    Ragged,
    distinct_first,
    distinct_tuples,
    distincts,
    head_tail_ids,
)


@dataclass(frozen=True)
class Target:
    asset: str | None
    ip: str | None
    port: int | None
    transport: str | None


@dataclass
class Context:
    """Everything the judge and the scorer need to know about one candidate."""

    candidate: Candidate
    evidence: Evidence
    sources: list[tuple[str | None, str | None, str | None]] = field(
        default_factory=list
    )  # (ip, asset, locality)
    targets: list[Target] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # assets that logged the (first step's) evidence

    @cached_property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.candidate.start, unit="ms", tz="UTC")


def _val(row: dict[str, Any], name: str) -> Any:
    """A value of a record from `evidence.distinct_tuples` (clean already: None for null)."""
    return row.get(name)


SOURCE_COLUMNS = ["source.ip", "source.asset", "source.locality"]
TARGET_COLUMNS = [
    "destination.ip",
    "destination.asset",
    "destination.port",
    "network.transport",
    "host.asset",
]
#: columns whose first distinct values a finding shows (categories, one-value entities)
FIRST_COLUMNS = ("event.category", "user.name", *ENTITY_FIELDS)
#: columns whose smallest distinct values a finding lists (related.*)
RELATED_COLUMNS = (
    "source.ip",
    "destination.ip",
    "user.name",
    "user.effective.name",
    "host.name",
    "host.asset",
    "destination.asset",
    "source.asset",
)


def build_context(candidate: Candidate, frame: pd.DataFrame, topology: Any) -> Context:
    return build_contexts([candidate], frame, topology)[0]


def build_contexts(
    candidates: list[Candidate], frame: pd.DataFrame, topology: Any, ids: int = EVIDENCE_IDS
) -> list[Context]:
    """Sources come from the first step (or all evidence), targets from the last step.

    All candidates at once: each column is read once for every candidate's evidence."""
    firsts = [c.first_rows for c in candidates]
    lasts = [c.last_rows for c in candidates]
    sources = distinct_tuples(frame, Ragged.of(firsts), SOURCE_COLUMNS)
    targets = distinct_tuples(frame, Ragged.of(lasts), TARGET_COLUMNS)
    hosts = distinct_first(frame, Ragged.of(firsts), ["host.asset"], None)["host.asset"]
    evidence = summarise(candidates, frame, ids)
    _carried_in(candidates, frame, ids, (evidence, sources, targets, hosts))
    out = []
    for i, c in enumerate(candidates):
        ctx = Context(c, evidence[i])
        ctx.sources = _unique(
            (r.get("source.ip"), r.get("source.asset"), r.get("source.locality"))
            for r in sources[i]  # values are clean already: None for a null
            if r.get("source.ip") or r.get("source.asset")
        )
        ctx.targets = [
            t for t in _unique(_target(r, topology) for r in targets[i]) if t.asset or t.ip
        ]
        ctx.hosts = sorted(hosts[i])
        out.append(ctx)
    return out


def summarise(
    candidates: list[Candidate], frame: pd.DataFrame, ids_kept: int = EVIDENCE_IDS
) -> list[Evidence]:
    rows = [c.rows for c in candidates]
    r = Ragged.of(rows)
    first, small, users = distincts(frame, r, FIRST_COLUMNS, RELATED_COLUMNS)
    ids = head_tail_ids(frame, rows, ids_kept)
    return [
        Evidence(
            c.count,
            ids[i],
            {col: v[i] for col, v in first.items()},
            {col: v[i] for col, v in small.items()},
            sorted(str(u) for u in users[i]),
        )
        for i, c in enumerate(candidates)
    ]


def carry_summaries(candidates: list[Candidate], frame: pd.DataFrame) -> list[Carried]:
    """Each candidate's rows (after its own summary, if any) summarised (`secops.judge.carry`)."""
    return carry.summaries(
        candidates, frame, FIRST_COLUMNS, RELATED_COLUMNS, SOURCE_COLUMNS, TARGET_COLUMNS
    )


def _carried_in(
    candidates: list[Candidate], frame: pd.DataFrame, ids: int, found: tuple[list, ...]
) -> None:
    """Episodes whose first rows a time step summarised (`Candidate.prefix`): their evidence,
    sources, targets and hosts those of the whole episode (`found`, replaced in place)."""
    at = [i for i, c in enumerate(candidates) if c.prefix is not None]
    if not at:
        return
    whole = carry_summaries([candidates[i] for i in at], frame)
    evidence, sources, targets, hosts = found
    for i, m in zip(at, whole, strict=True):
        evidence[i], sources[i], targets[i], hosts[i] = (
            carry.evidence(m, ids),
            list(m.sources),
            list(m.targets),
            list(m.hosts),
        )


def _unique(items: Any) -> list[Any]:
    out, seen = [], set()
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _target(r: dict[str, Any], topology: Any) -> Target:
    ip, asset = _val(r, "destination.ip"), _val(r, "destination.asset")
    port, transport = _val(r, "destination.port"), _val(r, "network.transport")
    if ip is None and asset is None:
        asset = _val(r, "host.asset")
        if asset is not None:
            ips = topology.ips_of_asset(asset)
            ip = ips[0] if ips else None
    return Target(asset, ip, int(port) if port is not None else None, transport)
