"""The local overlay: what a SOC adds to imported Sigma rules without editing them.

    overlay: sigma                  # marks the file (any name, e.g. rules/sigma/overlay.yaml)
    placeholders: {admin_users: [root, admin]}      # values for |expand %admin_users%
    levels: {informational: low}    # Sigma level -> severity (defaults in translate.LEVELS)
    rules:
      - id: b210394c-ba12-4f89-9117-44a2464b9511     # by rule id, or
        tag: attack.lateral-movement                 # by tag (either key; both must hold)
        severity: critical
        confidence: 0.9
        enabled: false                               # switch a rule off (reported, not silent)
        runbook: "..."
        topology: {suppress: [...], require: [...], escalate: [...]}   # as in native rules

Entries apply in file order; topology clauses add up, later scalars win.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from secops.content import load_yaml
from secops.correlate.rule import SEVERITIES, Clause, Rule, _clauses, _confidence
from secops.errors import RuleError

ENTRY_KEYS = {"id", "tag", "severity", "confidence", "enabled", "runbook", "topology"}
TOP_KEYS = {"overlay", "placeholders", "levels", "rules"}


@dataclass(frozen=True)
class OverlayEntry:
    id: str | None
    tag: str | None
    severity: str | None = None
    confidence: float | None = None
    enabled: bool = True
    runbook: str | None = None
    clauses: tuple[Clause, ...] = ()

    def applies(self, rule: Rule) -> bool:
        if self.id is not None and self.id.lower() != rule.id.lower():
            return False
        return self.tag is None or self.tag.lower() in (t.lower() for t in rule.tags)


@dataclass(frozen=True)
class Overlay:
    entries: tuple[OverlayEntry, ...] = ()
    placeholders: Mapping[str, Any] = field(default_factory=dict)
    levels: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def merge(self, other: Overlay) -> Overlay:
        return Overlay(
            self.entries + other.entries,
            {**self.placeholders, **other.placeholders},
            {**self.levels, **other.levels},
            self.files + other.files,
        )

    def disables(self, rule_id: str) -> bool:
        """Does an entry naming this rule id switch it off? (an unsupported rule, too)"""
        return any(e.id == rule_id and not e.enabled for e in self.entries)

    def apply(self, rule: Rule, level: str | None = None) -> Rule | None:
        """The rule with every matching entry applied; None when an entry disables it."""
        if level is not None and level in self.levels:
            rule = replace(rule, severity=self.levels[level])
        for e in self.entries:
            if not e.applies(rule):
                continue
            if not e.enabled:
                return None
            rule = replace(
                rule,
                severity=e.severity or rule.severity,
                confidence=e.confidence if e.confidence is not None else rule.confidence,
                runbook=e.runbook or rule.runbook,
                clauses=rule.clauses + e.clauses,
            )
        return rule


def is_overlay(doc: Any) -> bool:
    return isinstance(doc, Mapping) and doc.get("overlay") == "sigma"


def load_overlay(path: str | Path) -> Overlay:
    doc = load_yaml(path)
    file = str(path)
    if not is_overlay(doc):
        raise RuleError("an overlay file starts with 'overlay: sigma'", file, 1)
    _known(doc, TOP_KEYS, file)
    levels = dict(doc.get("levels") or {})
    bad = [v for v in levels.values() if v not in SEVERITIES]
    if bad:
        raise RuleError(f"levels map to one of {', '.join(SEVERITIES)}", *doc.where("levels"))
    items = doc.get("rules") or []
    if not isinstance(items, list):
        raise RuleError("'rules' must be a list of entries", *doc.where("rules"))
    entries = tuple(_entry(item, file) for item in items)
    return Overlay(entries, dict(doc.get("placeholders") or {}), levels, (file,))


def _known(doc: Any, keys: set[str], file: str) -> None:
    for key in doc:
        if key not in keys:
            close = difflib.get_close_matches(key, sorted(keys), n=1)
            hint = (
                f" (did you mean '{close[0]}'?)"
                if close
                else f" (one of: {', '.join(sorted(keys))})"
            )
            raise RuleError(f"unknown overlay field '{key}'{hint}", *doc.where(key))


def _entry(item: Any, file: str) -> OverlayEntry:
    if not isinstance(item, Mapping):
        raise RuleError("an overlay entry must be a mapping with 'id' or 'tag'", file, None)
    _known(item, ENTRY_KEYS, file)
    line = getattr(item, "line", None)
    if not item.get("id") and not item.get("tag"):
        raise RuleError("an overlay entry needs 'id' or 'tag'", file, line)
    severity = item.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise RuleError(f"severity must be one of {', '.join(SEVERITIES)}", file, line)
    confidence = _confidence(item, file) if "confidence" in item else None
    return OverlayEntry(
        id=str(item["id"]) if item.get("id") else None,
        tag=str(item["tag"]) if item.get("tag") else None,
        severity=severity,
        confidence=confidence,
        enabled=bool(item.get("enabled", True)),
        runbook=str(item["runbook"]).strip() if item.get("runbook") else None,
        clauses=_clauses(item.get("topology"), item, file),
    )
