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


def was_raised(doc: dict[str, Any]) -> bool:
    """Did the finding reach an analyst? Not cut, or given a verdict before it was cut (an
    accepted false positive is cut by its own exception on the next run: it was raised all
    the same). The one definition of raised vs cut, for rule health and the reports."""
    fi = doc["finding"]
    return not fi.get("suppressed") or fi.get("status", "open") != "open"


def median_times(docs: Iterable[dict[str, Any]]) -> tuple[float | None, float | None]:
    """Median seconds to acknowledge and to resolve (closed with any verdict) over `docs`;
    None where no finding got there."""
    t = [timings(d) for d in docs]
    acks = [x["time_to_ack"] for x in t if x["time_to_ack"] is not None]
    closes = [x["time_to_resolve"] for x in t if x["time_to_resolve"] is not None]
    return (
        statistics.median(acks) if acks else None,
        statistics.median(closes) if closes else None,
    )


def rule_health(docs: Iterable[dict[str, Any]]) -> list[RuleHealth]:
    """One row per rule, noisiest first (most false positives, then most volume)."""
    rows: dict[str, RuleHealth] = {}
    raised: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        rule, fi = doc["rule"]["id"], doc["finding"]
        h = rows.setdefault(rule, RuleHealth(rule))
        if not was_raised(doc):
            h.cut += 1
            continue
        h.raised += 1
        status = fi.get("status", "open")
        setattr(h, status, getattr(h, status) + 1)
        raised[rule].append(doc)
    for rule, h in rows.items():
        h.median_time_to_ack, h.median_time_to_resolve = median_times(raised[rule])
    return sorted(rows.values(), key=lambda h: (-h.false_positive, -h.raised, h.rule))
