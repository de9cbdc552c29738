"""Score: risk 0-100 and the finding document (nested ECS), the one shape every sink stores.

    risk = 100 x severity_weight x (0.5 + 0.5 x criticality_weight) x confidence

severity_weight and criticality_weight are low 0.25, medium 0.5, high 0.75, critical 1.0
(an unknown target counts as medium). Like OSSIM's value x priority x reliability, each
factor scales the others; the 0.5 floor keeps a critical rule on an unimportant host visible.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

from secops.judge import Judgement
from secops.judge.evidence import ENTITY_FIELDS, SMALLEST_VALUES, Evidence, clean

__all__ = ["ENTITY_FIELDS", "document", "finding_id", "rank", "risk", "score"]

WEIGHT = {"low": 0.25, "medium": 0.5, "high": 0.75, "critical": 1.0}
MAX_RELATED = SMALLEST_VALUES


def finding_id(rule_id: str, key: tuple[tuple[str, Any], ...], anchor_ms: int) -> str:
    """Deterministic: rule id + group key + window anchor."""
    text = json.dumps([rule_id, [[k, str(v)] for k, v in key], int(anchor_ms)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def target_criticality(j: Judgement) -> str:
    crits = [t.get("criticality") for t in j.facts.get("targets", []) if t.get("criticality")]
    return max(crits, key=lambda c: WEIGHT.get(c, 0.5)) if crits else "unknown"


def risk(j: Judgement) -> tuple[float, dict[str, Any]]:
    crit = target_criticality(j)
    sev_w = WEIGHT[j.severity]
    crit_w = WEIGHT.get(crit, 0.5)
    value = round(100 * sev_w * (0.5 + 0.5 * crit_w) * j.confidence, 1)
    factors = {
        "severity": j.severity,
        "severity_weight": sev_w,
        "criticality": crit,
        "criticality_weight": crit_w,
        "confidence": j.confidence,
        "formula": "100 x severity_weight x (0.5 + 0.5 x criticality_weight) x confidence",
    }
    return value, factors


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")


def _related(ev: Evidence, cols: tuple[str, ...], extra: set[Any]) -> list[Any]:
    """The smallest MAX_RELATED distinct values of `cols` (each column keeps its smallest)."""
    values = {v for c in cols for v in ev.smallest.get(c, [])} | extra
    return sorted(values)[:MAX_RELATED]


def document(j: Judgement) -> dict[str, Any]:
    """The finding as one nested ECS document."""
    c, rule, ev = j.candidate, j.candidate.rule, j.context.evidence
    score, factors = risk(j)
    target_ips = {t.ip for t in j.context.targets if t.ip}
    target_assets = {t.asset for t in j.context.targets if t.asset}
    doc: dict[str, Any] = {
        "@timestamp": _iso(c.end),
        "event": {
            "kind": "alert",
            "start": _iso(c.start),
            "end": _iso(c.end),
            "risk_score": score,
            "category": ev.first.get("event.category", [])[:10],
            "dataset": "secops.finding",
        },
        "rule": {
            "id": rule.id,
            "name": rule.title,
            "description": rule.description,
            "ruleset": "secops",
            "type": rule.type,
        },
        "threat": {
            "framework": "MITRE ATT&CK",
            "tactic": {"id": rule.threat.tactic_id, "name": rule.threat.tactic_name},
            "technique": {"id": list(rule.threat.techniques)},
        },
        "finding": {
            "id": finding_id(rule.id, c.key, c.anchor),
            "title": rule.title,
            "severity": j.severity,
            "rule_severity": rule.severity,
            "confidence": j.confidence,
            "key": {k: clean(v) for k, v in c.key},
            "evidence": {
                "count": c.count,
                "event_ids": ev.event_ids,  # the first and the last EVIDENCE_IDS
                "omitted": ev.omitted,  # re-read by finding.key + event.start/end
                "steps": c.step_counts,
            },
            "topology": {**j.facts, "clauses": j.clauses},
            "risk": factors,
            "escalations": j.escalations,
            "suppressed": j.suppressed,
            "suppression": {"reason": j.reason} if j.suppressed else {},
            "runbook": rule.runbook,
            "status": "open",
        },
        "related": {
            "ip": _related(ev, ("source.ip", "destination.ip"), target_ips),
            "user": _related(ev, ("user.name", "user.effective.name"), set()),
            "hosts": _related(
                ev, ("host.name", "host.asset", "destination.asset", "source.asset"), target_assets
            ),
        },
    }
    _entities(doc, j)
    doc["message"] = summary(doc)
    return doc


def _entities(doc: dict[str, Any], j: Judgement) -> None:
    """ECS entity fields: set where the evidence (or the key) has exactly one value."""
    ev = j.context.evidence
    key = dict(j.candidate.key)
    for col in ENTITY_FIELDS:
        vals = ev.first.get(col, [])
        val = key.get(col, vals[0] if len(vals) == 1 else None)
        if val is None:
            continue
        if col == "rule.name":
            doc.setdefault("finding", {})["signature"] = val
            continue
        top, _, rest = col.partition(".")
        node = doc.setdefault(top, {})
        parts = rest.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = val
    if "destination" not in doc and j.context.targets and len(j.context.targets) == 1:
        t = j.context.targets[0]
        if t.ip:
            doc["destination"] = {"ip": t.ip, **({"port": t.port} if t.port is not None else {})}


def summary(doc: dict[str, Any]) -> str:
    src = doc.get("source", {}).get("ip")
    dst = doc.get("destination", {}).get("ip") or doc.get("host", {}).get("name")
    user = doc.get("user", {}).get("name")
    parts = [doc["rule"]["name"]]
    if src:
        parts.append(f"from {src}")
    if dst:
        parts.append(f"against {dst}")
    if user:
        parts.append(f"user {user}")
    parts.append(f"({doc['finding']['evidence']['count']} events)")
    return " ".join(parts)


def score(judgements: list[Judgement]) -> list[dict[str, Any]]:
    """Finding documents, highest risk first (cut ones after the raised ones)."""
    return sorted((document(j) for j in judgements), key=rank)


def rank(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The order of finding documents: raised first, then risk (highest first), start, id."""
    f, e = doc["finding"], doc["event"]
    return (f["suppressed"], -e["risk_score"], e["start"], f["id"])
