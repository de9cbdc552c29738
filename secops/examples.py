"""Rule examples: the positive and negative events each shipped rule carries, run for real.

An example is a list of abbreviated events (flat ECS keys) and what the rule must do with
them: `raised`, `cut` (found, then suppressed; `reason_contains` checks the reason) or `none`.
`repeat: N` with `every: 10s` expands one line into N events; `vary: {field: [a, b]}` cycles
values across the repeats.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from secops.correlate.rule import Rule, parse_duration
from secops.errors import RuleError
from secops.pipeline import detect
from secops.schema import conform

EXPECTATIONS = ("raised", "cut", "none")
_META = {"repeat", "every", "vary"}


@dataclass(frozen=True)
class ExampleResult:
    rule: str
    name: str
    expect: str
    got: str
    reason: str | None
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def expand(events: list[dict[str, Any]], file: str | None = None) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for spec in events:
        base = {k: v for k, v in spec.items() if k not in _META}
        if "@timestamp" not in base:
            raise RuleError(
                "every example event needs '@timestamp'", file, getattr(spec, "line", None)
            )
        t0 = pd.Timestamp(base["@timestamp"])
        step = parse_duration(spec.get("every", "1s"), file, getattr(spec, "line", None))
        vary = spec.get("vary") or {}
        for i in range(int(spec.get("repeat", 1))):
            row = dict(base)
            row["@timestamp"] = t0 + pd.Timedelta(milliseconds=i * step)
            for field, values in vary.items():
                row[field] = values[i % len(values)]
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["event.id"] = [
        hashlib.sha256(f"{i}:{r}".encode()).hexdigest()[:16] for i, r in enumerate(rows)
    ]
    return conform(frame)


def run_examples(rule: Rule, topology: Any) -> list[ExampleResult]:
    out = []
    for i, ex in enumerate(rule.examples):
        name = str(ex.get("name", f"example {i + 1}"))
        expect = ex.get("expect")
        if expect not in EXPECTATIONS:
            raise RuleError(
                f"example '{name}': expect must be one of {', '.join(EXPECTATIONS)}",
                rule.file,
                getattr(ex, "line", None),
            )
        findings = detect(expand(ex.get("events") or [], rule.file), [rule], topology)
        got, reason = _outcome(findings)
        ok = got == expect and (
            expect != "cut" or str(ex.get("reason_contains", "")).lower() in (reason or "").lower()
        )
        out.append(ExampleResult(rule.id, name, expect, got, reason, ok))
    return out


def _outcome(findings: list[dict[str, Any]]) -> tuple[str, str | None]:
    if not findings:
        return "none", None
    raised = [f for f in findings if not f["finding"]["suppressed"]]
    if raised:
        return "raised", None
    return "cut", findings[0]["finding"]["suppression"].get("reason")
