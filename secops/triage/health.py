"""Per-rule health from the analysts' verdicts: volume, share false positive, precision, time to ack.

precision = resolved / (resolved + false_positive): of the findings an analyst closed with a
verdict, how many were real. Duplicates count in the volume but are no verdict on the rule. A
finding marked false positive stays one after its exception starts cutting it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from secops.triage.sla import timings


@dataclass
class RuleHealth:
    rule: str
    raised: int = 0
    cut: int = 0
    open: int = 0
    acknowledged: int = 0
    resolved: int = 0
    false_positive: int = 0
    duplicate: int = 0
    median_time_to_ack: float | None = None  # seconds
    median_time_to_resolve: float | None = None

    @property
    def share_false_positive(self) -> float | None:
        return self.false_positive / self.raised if self.raised else None

    @property
    def precision(self) -> float | None:
        verdicts = self.resolved + self.false_positive
        return self.resolved / verdicts if verdicts else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "share_false_positive": self.share_false_positive,
            "precision": self.precision,
        }


def rule_health(docs: Iterable[dict[str, Any]]) -> list[RuleHealth]:
    """One row per rule, noisiest first (most false positives, then most volume)."""
    rows: dict[str, RuleHealth] = {}
    acks: dict[str, list[float]] = defaultdict(list)
    closes: dict[str, list[float]] = defaultdict(list)
    for doc in docs:
        rule, fi = doc["rule"]["id"], doc["finding"]
        h = rows.setdefault(rule, RuleHealth(rule))
        if fi.get("suppressed") and fi.get("status", "open") == "open":
            h.cut += 1  # cut before anyone looked; a verdict counts even once an exception cuts it
            continue
        h.raised += 1
        status = fi.get("status", "open")
        setattr(h, status, getattr(h, status) + 1)
        t = timings(doc)
        if t["time_to_ack"] is not None:
            acks[rule].append(t["time_to_ack"])
        if t["time_to_resolve"] is not None:
            closes[rule].append(t["time_to_resolve"])
    for rule, h in rows.items():
        h.median_time_to_ack = statistics.median(acks[rule]) if acks[rule] else None
        h.median_time_to_resolve = statistics.median(closes[rule]) if closes[rule] else None
    return sorted(rows.values(), key=lambda h: (-h.false_positive, -h.raised, h.rule))
