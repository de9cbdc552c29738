"""What a report says, computed from the stored findings (no drawing, no markup here)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from secops.triage import RuleHealth, is_overdue, rule_health
from secops.triage.health import median_times, was_raised
from secops.triage.sla import Sla

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass
class ReportData:
    start: datetime
    end: datetime
    findings: list[dict[str, Any]]
    raised: list[dict[str, Any]] = field(default_factory=list)
    cut: list[dict[str, Any]] = field(default_factory=list)
    open: list[dict[str, Any]] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)
    by_severity: dict[str, int] = field(default_factory=dict)
    by_rule: list[tuple[str, int, int]] = field(default_factory=list)  # rule, raised, cut
    cut_reasons: list[tuple[str, int]] = field(default_factory=list)
    top_targets: list[tuple[str, int, str]] = field(default_factory=list)  # target, n, worst
    health: list[RuleHealth] = field(default_factory=list)
    response: dict[str, dict[str, float | None]] = field(default_factory=dict)


def _t(text: str | None) -> datetime | None:
    if not text:
        return None
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def in_period(doc: dict[str, Any], start: datetime, end: datetime) -> bool:
    """Raised by secops in the period, or its events happened in it."""
    seen, last = _t(doc["finding"].get("first_seen")), _t(doc["event"]["end"])
    return any(t is not None and start <= t <= end for t in (seen, last))


def cut_reason(doc: dict[str, Any]) -> str:
    """The reason without its per-entity detail: 'authorized scanner', 'exception:<id>'."""
    reason = doc["finding"].get("suppression", {}).get("reason") or "unknown"
    return reason if reason.startswith("exception:") else reason.split(":")[0]


def _target(doc: dict[str, Any]) -> str | None:
    targets = doc["finding"].get("topology", {}).get("targets", [])
    names = {t.get("asset") or t.get("ip") for t in targets} - {None}
    if len(names) == 1:
        return names.pop()
    return doc.get("destination", {}).get("ip") or doc.get("host", {}).get("name")


def build(
    docs: list[dict[str, Any]], period: str, sla: dict[str, Sla], now: datetime | None = None
) -> ReportData:
    end = now or datetime.now(UTC)
    start = end - PERIODS[period]
    chosen = [d for d in docs if in_period(d, start, end)]
    r = ReportData(start, end, chosen)
    r.raised = [d for d in chosen if was_raised(d)]
    r.cut = [d for d in chosen if not was_raised(d)]
    r.open = [d for d in r.raised if d["finding"].get("status", "open") in ("open", "acknowledged")]
    r.overdue = [d for d in r.open if is_overdue(d, sla, end)]
    sev = Counter(d["finding"]["severity"] for d in r.raised)
    r.by_severity = {s: sev.get(s, 0) for s in SEVERITIES}
    r.health = rule_health(chosen)
    r.by_rule = sorted(((h.rule, h.raised, h.cut) for h in r.health), key=lambda x: (-x[1], x[0]))
    r.cut_reasons = Counter(cut_reason(d) for d in r.cut).most_common()
    r.top_targets = _top_targets(r.raised)
    r.response = _response(r.raised)
    return r


def _top_targets(raised: list[dict[str, Any]], n: int = 10) -> list[tuple[str, int, str]]:
    counts: Counter[str] = Counter()
    worst: dict[str, str] = {}
    for d in raised:
        target = _target(d)
        if target is None:
            continue
        counts[target] += 1
        sev = d["finding"]["severity"]
        if target not in worst or SEVERITIES.index(sev) < SEVERITIES.index(worst[target]):
            worst[target] = sev
    return [(t, c, worst[t]) for t, c in counts.most_common(n)]


def _response(raised: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Median time to acknowledge / resolve (seconds), overall and per severity."""
    out: dict[str, dict[str, float | None]] = {}
    for sev in ("all", *SEVERITIES):
        docs = [d for d in raised if sev == "all" or d["finding"]["severity"] == sev]
        ack, resolve = median_times(docs)
        out[sev] = {"findings": len(docs), "time_to_ack": ack, "time_to_resolve": resolve}
    return out


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 86400 else f"{seconds / 86400:.1f} d"
