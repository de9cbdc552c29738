"""Judge: ask the topology about each candidate; cut what cannot be true or is known-good.

A cut candidate is not dropped: it comes out `suppressed` with the reason, so analysts can
audit what was cut. Every answer the topology gave is kept for the finding document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from secops.correlate.candidate import Candidate
from secops.correlate.rule import SEVERITIES, Clause
from secops.judge.context import Context, Target, build_contexts
from secops.judge.evidence import EVIDENCE_IDS
from secops.judge.exceptions import FindingException, entities_of, first_match
from secops.judge.questions import MAX_ANSWERS, QUESTIONS
from secops.topology import Answer

MAX_ENTITIES = 20  # targets/sources described on one finding


@dataclass
class Judgement:
    context: Context
    severity: str
    confidence: float
    suppressed: bool = False
    reason: str | None = None
    clauses: list[dict[str, Any]] = field(default_factory=list)  # each clause asked and its answers
    escalations: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # the standing answers about the entities

    @property
    def candidate(self) -> Candidate:
        return self.context.candidate


def judge(
    candidates: list[Candidate],
    frame: pd.DataFrame,
    topology: Any,
    exceptions: Sequence[FindingException] = (),
    now: datetime | None = None,
    evidence_ids: int = EVIDENCE_IDS,
) -> list[Judgement]:
    """Judge every candidate (`evidence_ids`: event ids a finding keeps from the start and from
    the end of its evidence)."""
    frame = frame.reset_index(drop=True)
    now = now or datetime.now(UTC)
    return [
        judge_one(ctx, topology, exceptions, now)
        for ctx in build_contexts(candidates, frame, topology, evidence_ids)
    ]


def judge_one(
    ctx: Context,
    topology: Any,
    exceptions: Sequence[FindingException] = (),
    now: datetime | None = None,
) -> Judgement:
    rule = ctx.candidate.rule
    j = Judgement(ctx, rule.severity, rule.confidence)
    j.facts = describe(ctx, topology)
    unknown = 0
    for clause in rule.clauses:
        answers = QUESTIONS[clause.question](topology, ctx, clause.arg)[:MAX_ANSWERS]
        known = [a for a in answers if a.value is not None]
        unknown += len(answers) - len(known) + (0 if answers else 1)
        j.clauses.append(
            {
                "kind": clause.kind,
                "question": clause.question,
                "arg": clause.arg,
                "answers": [answer_dict(a) for a in answers],
            }
        )
        _apply(j, clause, known)
    if unknown and rule.clauses_of("require"):
        j.confidence = round(j.confidence * 0.9, 3)  # could not confirm every requirement
    if exceptions and not j.suppressed:
        _except(j, ctx, topology, exceptions, now or datetime.now(UTC))
    return j


def _except(
    j: Judgement,
    ctx: Context,
    topology: Any,
    exceptions: Sequence[FindingException],
    now: datetime,
) -> None:
    """An accepted analyst exception (exceptions/*.yaml) cuts with reason `exception:<id>`."""
    hit = first_match(exceptions, ctx.candidate.rule.id, entities_of(ctx, topology), now)
    if hit is None:
        return
    j.suppressed, j.reason = True, f"exception:{hit.id}"
    j.clauses.append(
        {
            "kind": "exception",
            "question": "exception",
            "arg": hit.id,
            "answers": [{"value": True, "reason": f"{hit.reason} ({hit.analyst})"}],
        }
    )


def _apply(j: Judgement, clause: Clause, known: list[Answer]) -> None:
    if not known:
        return
    why = "; ".join(a.reason for a in known[:3])
    if clause.kind == "suppress" and not j.suppressed and all(a.value is True for a in known):
        j.suppressed, j.reason = True, f"{clause.reason}: {why}"
    elif clause.kind == "require" and not j.suppressed and all(a.value is False for a in known):
        label = clause.reason or f"requirement '{clause.question}' not met"
        j.suppressed, j.reason = True, f"{label}: {why}"
    elif clause.kind == "escalate" and any(a.value is True for a in known):
        before = j.severity
        j.severity = _raise(j.severity, clause)
        if j.severity != before:
            hit = next(a for a in known if a.value is True)
            j.escalations.append(f"{before} -> {j.severity}: {clause.reason or hit.reason}")


def _raise(severity: str, clause: Clause) -> str:
    i = SEVERITIES.index(severity)
    target = SEVERITIES.index(clause.to) if clause.to else min(i + clause.by, len(SEVERITIES) - 1)
    return SEVERITIES[max(i, target)]


def answer_dict(a: Answer) -> dict[str, Any]:
    return {"value": a.value, "reason": a.reason, **({"detail": a.detail} if a.detail else {})}


def describe(ctx: Context, topology: Any) -> dict[str, Any]:
    """The standing facts about the entities: assets, zones, criticality, exposure, reach."""
    sources = [
        _describe_source(ip, asset, loc, topology) for ip, asset, loc in ctx.sources[:MAX_ENTITIES]
    ]
    targets = [_describe_target(t, ctx, topology) for t in ctx.targets[:MAX_ENTITIES]]
    return {
        "sources": sources,
        "targets": targets,
        "truncated": len(ctx.sources) > MAX_ENTITIES or len(ctx.targets) > MAX_ENTITIES,
    }


def _describe_source(
    ip: str | None, asset: str | None, locality: str | None, topology: Any
) -> dict[str, Any]:
    a = topology.asset(asset) if asset else None
    return {
        "ip": ip,
        "asset": asset,
        "zone": topology.zone_of(ip) if ip else None,
        "locality": locality,
        "tags": list(a.tags) if a else [],
        "criticality": topology.criticality(asset) if asset else None,
    }


def _describe_target(t: Target, ctx: Context, topology: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ip": t.ip,
        "asset": t.asset,
        "port": t.port,
        "transport": t.transport,
        "zone": topology.zone_of(t.ip) if t.ip else topology.zone_of_asset(t.asset),
    }
    if t.asset:
        a = topology.asset(t.asset)
        out["criticality"] = topology.criticality(t.asset)
        out["tags"] = list(a.tags) if a else []
        out["change_window"] = answer_dict(topology.in_change_window(t.asset, ctx.start))
        out["path_to_crown_jewel"] = answer_dict(topology.path_to_crown_jewel(t.asset))
        if t.port is not None:
            out["exposes"] = answer_dict(topology.exposes(t.asset, t.port, t.transport or "tcp"))
    reach = [
        answer_dict(topology.can_reach(ip, t.ip, t.port, t.transport or "tcp"))
        for ip, _a, _l in ctx.sources[:5]
        if ip and t.ip and t.port is not None
    ]
    if reach:
        out["reachable"] = reach
    return out
