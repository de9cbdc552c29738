"""Parsed Sigma rules (pySigma objects) -> our frozen `Rule`s.

A detection rule becomes a `match` rule whose filter is the compiled condition AND the
logsource filter. Correlation rules map onto our detectors:

    event_count -> threshold      value_count -> distinct
    temporal_ordered -> sequence  temporal -> temporal (secops.sigma.temporal)

`level` -> severity (informational -> low); `attack.*` tags -> threat tactic / techniques.
"""

from __future__ import annotations

import copy
import re
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.exceptions import SigmaConditionError, SigmaError
from sigma.rule import SigmaRule

from secops.correlate.conditions import Condition, Mask, _all, _any
from secops.correlate.rule import Rule, Step, Threat
from secops.sigma.compile import Compiler, Unsupported, _regex_mask
from secops.sigma.mapping import ECS_ENTRY, LogsourceEntry, Mapping
from secops.sigma.temporal import Presence, TemporalRule

LEVELS = {
    "informational": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}
TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "stealth": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "command-and-control": ("TA0011", "Command and Control"),
    "impact": ("TA0040", "Impact"),
}
_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
_OPS = SigmaCorrelationConditionOperator


@dataclass(frozen=True)
class Compiled:
    """One Sigma detection rule, mapped and compiled."""

    sigma: SigmaRule
    entry: LogsourceEntry
    filter: Condition

    def field(self, name: str) -> str:
        """A Sigma field name of this rule's logsource (e.g. a group-by) -> our column."""
        mapped = self.entry.column(name)
        if not self.entry.allows(mapped):
            raise Unsupported(
                f"field '{name}' has no mapping to our events (see secops/sigma/mapping.yaml)"
            )
        return mapped


def rule_id(rule: SigmaRule | SigmaCorrelationRule) -> str:
    if rule.id is not None:
        return str(rule.id)
    if rule.name:
        return str(rule.name)
    path = getattr(rule.source, "path", None)
    return f"sigma-{path.stem if path else 'rule'}-{abs(hash(rule.title)) % 10**8}"


def compile_rule(rule: SigmaRule, mapping: Mapping) -> Compiled:
    """Map the rule's logsource and fields and compile its condition (raises Unsupported)."""
    ls = rule.logsource
    entries = mapping.entries_for(ls)
    if entries:
        return _any_source(rule, entries, mapping)
    if ls.product or ls.service or ls.category:  # never run against other sources' events
        raise Unsupported(
            f"logsource {_describe(ls)} is not produced by our collectors "
            "(see secops/sigma/mapping.yaml)"
        )
    return _compile(rule, ECS_ENTRY, mapping)


def _any_source(rule: SigmaRule, entries: list[LogsourceEntry], mapping: Mapping) -> Compiled:
    """The rule over every event source of its logsource that can hold its fields (OR-ed);
    Unsupported (the first source's reason) when none can."""
    compiled: list[Compiled] = []
    first: Unsupported | None = None
    for entry in entries:
        try:
            compiled.append(_compile(rule, entry, mapping))
        except Unsupported as exc:
            first = first or exc
    if not compiled:
        assert first is not None
        raise first
    if len(compiled) == 1:
        return compiled[0]
    conds = [c.filter for c in compiled]
    spec = {**conds[0].spec, "sources": [c.entry.id for c in compiled]}
    either = Condition(
        spec, _any([c.evaluate for c in conds]), frozenset().union(*[c.fields for c in conds])
    )
    return Compiled(compiled[0].sigma, compiled[0].entry, either)


def _describe(ls: Any) -> str:
    parts = [f"{k}={getattr(ls, k)}" for k in ("product", "service", "category") if getattr(ls, k)]
    return " ".join(parts) or "(none)"


def _compile(rule: SigmaRule, entry: LogsourceEntry, mapping: Mapping) -> Compiled:
    rule = copy.deepcopy(rule)
    try:
        mapping.pipeline(entry).apply(rule)
        trees = [c.parsed for c in rule.detection.parsed_condition]
    except SigmaConditionError as exc:
        if "pipe syntax" in str(exc):
            raise Unsupported(
                "Sigma v1 aggregation in the condition ('| count() by ...'): write it as a "
                "Sigma correlation rule (event_count / value_count)"
            ) from None
        raise Unsupported(f"condition: {exc}") from None
    except SigmaError as exc:
        raise Unsupported(f"field mapping failed: {exc}") from None
    compiler = Compiler(entry.allows, entry.column)
    masks = [compiler.compile(t) for t in trees if t is not None]
    if not masks:
        raise Unsupported("the condition is empty after field mapping")
    spec = {
        "sigma": {
            "logsource": entry.id,
            "condition": list(rule.detection.condition),
            "fields": sorted(compiler.fields),
        }
    }
    condition = _any(masks) if len(masks) > 1 else masks[0]
    evaluate = source_rows(entry).within(condition) if entry.filter else condition
    fields = frozenset(compiler.fields | set(entry.filter))
    return Compiled(rule, entry, Condition(spec, evaluate, fields))


class SourceRows:
    """The rows of one logsource in a frame, worked out once per frame for all its rules: with
    thousands of rules, each one's condition then runs only on its logsource's rows (a Sysmon
    registry rule never meets a Security event), and the logsource filter once per frame."""

    def __init__(self, mask: Any) -> None:
        self._mask = mask
        self._frame: weakref.ref[pd.DataFrame] | None = None
        self._rows = np.zeros(0, dtype=np.int64)
        self._sub: pd.DataFrame | None = None

    def rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        if self._frame is None or self._frame() is not frame or self._sub is None:
            self._rows = np.flatnonzero(self._mask(frame))
            self._sub = frame.take(self._rows).reset_index(drop=True)
            self._frame = weakref.ref(frame)
        return self._rows, self._sub

    def within(self, condition: Any) -> Any:
        """`condition` AND this logsource, evaluated on the logsource's rows only."""

        def run(frame: pd.DataFrame) -> np.ndarray:
            rows, sub = self.rows(frame)
            out = np.zeros(len(frame), dtype=bool)
            if len(rows):
                out[rows] = condition(sub)
            return out

        return run


#: one SourceRows per logsource entry (by id and filter), shared by the rules of that entry
_SOURCES: dict[tuple[str, str], SourceRows] = {}


def source_rows(entry: LogsourceEntry) -> SourceRows:
    key = (entry.id, repr(sorted((k, str(v)) for k, v in entry.filter.items())))
    if key not in _SOURCES:
        _SOURCES[key] = SourceRows(_logsource_mask(entry))
    return _SOURCES[key]


def _logsource_mask(entry: LogsourceEntry) -> Mask:
    parts = []
    for name, want in entry.filter.items():
        values = want if isinstance(want, list) else [want]
        regex = "(?i)^(?:" + "|".join(re.escape(str(v)) for v in values) + ")$"
        parts.append(_regex_mask(name, regex))
    if not parts:
        return lambda fr: np.ones(len(fr), dtype=bool)
    return _all(parts)


def threat(rule: SigmaRule | SigmaCorrelationRule) -> Threat:
    tactics, techniques = [], []
    for tag in rule.tags:
        if tag.namespace != "attack":
            continue
        name = tag.name.lower().replace("_", "-")
        if _TECHNIQUE.match(name):
            techniques.append(name.upper())
        elif name in TACTICS:
            tactics.append(TACTICS[name])
    tid, tname = tactics[0] if tactics else (None, None)
    return Threat(tid, tname, tuple(dict.fromkeys(techniques)))


def meta(rule: SigmaRule | SigmaCorrelationRule) -> dict[str, Any]:
    """The Rule fields every Sigma rule shares (id, title, severity, threat, texts)."""
    level = str(rule.level.name).lower() if rule.level else "medium"
    fps = tuple(str(x) for x in rule.falsepositives or ())
    author = f" by {rule.author}" if rule.author else ""
    refs = "".join(f"\n- {r}" for r in rule.references or ())
    return {
        "id": rule_id(rule),
        "title": rule.title or rule_id(rule),
        "severity": LEVELS.get(level, "medium"),
        "description": str(rule.description or "").strip(),
        "threat": threat(rule),
        "false_positives": fps,
        "runbook": (
            f"Sigma rule '{rule.title}'{author} (Detection Rule License 1.1 for SigmaHQ content). "
            "Review the evidence events and the topology answers; rule out the known false "
            f"positives: {', '.join(fps) or 'none listed'}.{refs}"
        ),
        "tags": tuple(str(t) for t in rule.tags),
        "file": str(rule.source.path) if rule.source else None,
        "examples": tuple(rule.custom_attributes.get("examples") or ()),
    }


def detection_rule(c: Compiled) -> Rule:
    return Rule(type="match", filter=c.filter, window_ms=3_600_000, **meta(c.sigma))


# -- correlations ---------------------------------------------------------------------------


def correlation_rule(rule: SigmaCorrelationRule, compiled: dict[int, Compiled]) -> Rule:
    """`compiled` maps id(SigmaRule) -> Compiled for every base rule that compiled."""
    kind = rule.type
    window = rule.timespan.seconds * 1000
    if kind in (SigmaCorrelationType.EVENT_COUNT, SigmaCorrelationType.VALUE_COUNT):
        bases = [_base(ref, compiled, kind) for ref in rule.referenced_rules]
        by = _same_group_by(rule, bases)
        cond = _or_conditions([b.filter for _, b in bases])
        kw: dict[str, Any] = {"threshold": _at_least(rule.condition, kind.name.lower())}
        if kind == SigmaCorrelationType.VALUE_COUNT:
            fieldref = getattr(rule.condition, "fieldref", None)
            if not isinstance(fieldref, str):
                raise Unsupported("value_count needs one 'field' in its condition")
            kw["field"] = _one({b.field(fieldref) for _, b in bases}, "the value_count field")
        rtype = "threshold" if kind == SigmaCorrelationType.EVENT_COUNT else "distinct"
        return Rule(type=rtype, filter=cond, group_by=by, window_ms=window, **kw, **meta(rule))
    if kind in (SigmaCorrelationType.TEMPORAL, SigmaCorrelationType.TEMPORAL_ORDERED):
        steps = tuple(_step(rule, ref, compiled) for ref in rule.referenced_rules)
        if not rule.group_by:
            raise Unsupported(f"{kind.name.lower()} without group-by")
        extended = isinstance(rule.condition, SigmaExtendedCorrelationCondition)
        if kind == SigmaCorrelationType.TEMPORAL_ORDERED:
            if extended:
                raise Unsupported("temporal_ordered with an extended (boolean) condition")
            return Rule(
                type="sequence",
                steps=steps,
                group_by=steps[0].by,
                window_ms=window,
                **meta(rule),
            )
        ext = rule.condition
        presence = (
            _presence(ext.parsed) if isinstance(ext, SigmaExtendedCorrelationCondition) else None
        )
        need = len(steps) if extended else _temporal_need(rule, len(steps))
        return TemporalRule(
            type="temporal",
            steps=steps,
            group_by=tuple(rule.group_by),
            window_ms=window,
            threshold=need,
            presence=presence,
            **meta(rule),
        )
    raise Unsupported(f"correlation type '{kind.name.lower()}' has no detector here")


def _base(
    ref: SigmaRuleReference, compiled: dict[int, Compiled], kind: Any
) -> tuple[SigmaRuleReference, Compiled]:
    target = ref.rule
    if isinstance(target, SigmaCorrelationRule):
        raise Unsupported(f"{kind.name.lower()} over another correlation ('{ref.reference}')")
    if target is None or id(target) not in compiled:
        raise Unsupported(f"referenced rule '{ref.reference}' is not supported")
    return ref, compiled[id(target)]


def _group_fields(rule: SigmaCorrelationRule, ref: SigmaRuleReference, c: Compiled) -> tuple:
    aliases = {a.alias: a for a in rule.aliases}
    out = []
    for name in rule.group_by or ():
        alias = aliases.get(name)
        if alias is not None:
            hit = [f for r, f in alias.mapping.items() if r.reference == ref.reference]
            if not hit:
                raise Unsupported(f"alias '{name}' has no field for rule '{ref.reference}'")
            name = hit[0]
        out.append(c.field(name))
    return tuple(out)


def _same_group_by(rule: SigmaCorrelationRule, bases: list) -> tuple[str, ...]:
    return _one({_group_fields(rule, r, c) for r, c in bases}, "the group-by fields")


def _one(values: set, what: str) -> Any:
    if len(values) != 1:
        raise Unsupported(f"{what} map to different columns per rule: {sorted(values)}")
    return next(iter(values))


def _or_conditions(conds: list[Condition]) -> Condition:
    if len(conds) == 1:
        return conds[0]
    spec = {"any": [c.spec for c in conds]}
    return Condition(
        spec, _any([c.evaluate for c in conds]), frozenset().union(*(c.fields for c in conds))
    )


def _at_least(cond: Any, what: str) -> int:
    if not isinstance(cond, SigmaCorrelationCondition):
        raise Unsupported(f"{what} with an extended (boolean) condition")
    if cond.op == _OPS.GTE:
        return max(1, int(np.ceil(cond.count)))
    if cond.op == _OPS.GT:
        return int(np.floor(cond.count)) + 1
    raise Unsupported(
        f"{what} condition '{cond.op.name.lower()}' (only gte/gt: our detectors fire when a "
        "count reaches a threshold)"
    )


def _step(rule: SigmaCorrelationRule, ref: SigmaRuleReference, compiled: dict) -> Step:
    target = ref.rule
    name = str(ref.reference)
    if isinstance(target, SigmaCorrelationRule):
        if target.type != SigmaCorrelationType.EVENT_COUNT:
            raise Unsupported(f"a {target.type.name.lower()} correlation inside a temporal one")
        inner = [_base(r, compiled, target.type) for r in target.referenced_rules]
        by = _one({_group_fields(rule, ref, c) for _, c in inner}, "the group-by fields")
        count = _at_least(target.condition, "event_count")
        cond = _or_conditions([c.filter for _, c in inner])
        return Step(name, cond, by, count)
    _, c = _base(ref, compiled, rule.type)
    return Step(name, c.filter, _group_fields(rule, ref, c), 1)


def _presence(node: Any) -> Presence:
    """A Sigma extended condition tree -> a function of the per-step "seen" arrays."""
    if isinstance(node, SigmaRuleReference):
        name = str(node.reference)
        return lambda seen: seen[name]
    parts = [_presence(a) for a in node.args]
    if isinstance(node, CorrelationConditionNOT):
        return lambda seen: ~parts[0](seen)
    if isinstance(node, CorrelationConditionAND):
        return lambda seen: np.logical_and.reduce([p(seen) for p in parts])
    if isinstance(node, CorrelationConditionOR):
        return lambda seen: np.logical_or.reduce([p(seen) for p in parts])
    raise Unsupported(f"extended condition element {type(node).__name__}")


def _temporal_need(rule: SigmaCorrelationRule, n: int) -> int:
    cond = rule.condition
    if not isinstance(cond, SigmaCorrelationCondition):
        raise Unsupported("temporal with an extended (boolean) condition")
    if cond.op in (_OPS.GTE, _OPS.GT) and _at_least(cond, "temporal") > 1:
        return min(n, _at_least(cond, "temporal"))
    return n
