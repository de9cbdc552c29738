"""The rule model: frozen dataclasses built from YAML, validated with file:line errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secops import validate
from secops.content import Located
from secops.correlate.conditions import Condition, _check_field, compile_condition
from secops.errors import ConfigError, RuleError

SEVERITIES = ("low", "medium", "high", "critical")
RULE_TYPES = ("match", "threshold", "distinct", "sequence", "absence")
CLAUSE_KINDS = ("require", "suppress", "escalate")
#: topology questions a clause may ask, with the kind of argument each takes.
QUESTIONS = {
    "source_tag": str,
    "target_tag": str,
    "host_tag": str,
    "source_zone": str,
    "target_zone": str,
    "source_known": bool,
    "target_known": bool,
    "source_external": bool,
    "target_exposes": bool,
    "reachable": bool,
    "target_in_change_window": bool,
    "source_in_change_window": bool,
    "target_criticality_at_least": str,
    "target_on_path_to_crown_jewel": bool,
}
TOP_KEYS = {
    "id",
    "title",
    "description",
    "type",
    "severity",
    "confidence",
    "threat",
    "false_positives",
    "runbook",
    "filter",
    "group_by",
    "window",
    "threshold",
    "field",
    "steps",
    "maxspan",
    "followed_by",
    "within",
    "topology",
    "examples",
    "tags",
    "references",
    "author",
    "enabled",
}
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")


def parse_duration(value: Any, file: str | None = None, line: int | None = None) -> int:
    """A window, gap or step in milliseconds (the one grammar: validate.duration_ms)."""
    try:
        return validate.duration_ms(value)
    except ConfigError as exc:
        raise RuleError(exc.message, file, line) from None


def conditions_of(rule: Rule) -> list[Condition]:
    """The conditions that pick a rule's rows (none: it reads every row)."""
    own = [c for c in (rule.filter, rule.followed_by) if c is not None]
    return own + [s.filter for s in rule.steps if s.filter is not None]


@dataclass(frozen=True)
class Threat:
    tactic_id: str | None = None
    tactic_name: str | None = None
    techniques: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "tactic": {"id": self.tactic_id, "name": self.tactic_name},
            "techniques": list(self.techniques),
        }


@dataclass(frozen=True)
class Clause:
    """One topology clause: `kind` (require|suppress|escalate) asks `question` with `arg`."""

    kind: str
    question: str
    arg: Any
    reason: str | None = None
    to: str | None = None  # escalate: raise severity to this level
    by: int = 1  # escalate: or by this many steps

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.question: self.arg}
        for k in ("reason", "to"):
            if getattr(self, k):
                out[k] = getattr(self, k)
        return out


@dataclass(frozen=True)
class Step:
    """A sequence step: events matching `filter`, joined to the previous step on `by`."""

    id: str
    filter: Condition
    by: tuple[str, ...]
    count: int = 1


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    type: str
    severity: str
    description: str = ""
    confidence: float = 0.8
    threat: Threat = field(default_factory=Threat)
    false_positives: tuple[str, ...] = ()
    runbook: str = ""
    filter: Condition | None = None
    group_by: tuple[str, ...] = ()
    window_ms: int = 0
    threshold: int = 1
    field: str | None = None  # distinct: the field whose distinct values are counted
    steps: tuple[Step, ...] = ()
    followed_by: Condition | None = None  # absence: B
    step_carry: tuple[tuple[str, ...], ...] = ()  # sequence: the key each step hands on
    clauses: tuple[Clause, ...] = ()
    examples: tuple[Mapping[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None

    @property
    def techniques(self) -> tuple[str, ...]:
        return self.threat.techniques

    def clauses_of(self, kind: str) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.kind == kind)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], file: str | None = None) -> Rule:
        return _build(doc, file)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "type": self.type,
            "severity": self.severity,
            "description": self.description,
            "confidence": self.confidence,
            "threat": self.threat.to_dict(),
            "false_positives": list(self.false_positives),
            "runbook": self.runbook,
            "group_by": list(self.group_by),
            "tags": list(self.tags),
        }
        if self.window_ms:
            out["window_ms"] = self.window_ms
        if self.type in ("threshold", "distinct"):
            out["threshold"] = self.threshold
        if self.field:
            out["field"] = self.field
        if self.filter is not None:
            out["filter"] = self.filter.spec
        if self.steps:
            out["steps"] = [
                {"id": s.id, "filter": s.filter.spec, "by": list(s.by), "count": s.count}
                for s in self.steps
            ]
        if self.followed_by is not None:
            out["followed_by"] = self.followed_by.spec
        out["topology"] = {
            k: [c.to_dict() for c in self.clauses_of(k)] for k in CLAUSE_KINDS if self.clauses_of(k)
        }
        return out


def _where(doc: Any, key: str, file: str | None) -> tuple[str | None, int | None]:
    return doc.where(key) if isinstance(doc, Located) else (file, None)


def _req(doc: Mapping[str, Any], key: str, file: str | None, kind: type = str) -> Any:
    if key not in doc or doc[key] in (None, ""):
        raise RuleError(f"missing required field '{key}'", file, getattr(doc, "line", None))
    value = doc[key]
    if not isinstance(value, kind):
        raise RuleError(f"'{key}' must be a {kind.__name__}", *_where(doc, key, file))
    return value


def _build(doc: Mapping[str, Any], file: str | None) -> Rule:
    if not isinstance(doc, Mapping):
        raise RuleError("a rule file must hold one mapping", file, 1)
    for key in doc:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(key, sorted(TOP_KEYS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise RuleError(f"unknown rule field '{key}'{hint}", *_where(doc, key, file))
    rid = _req(doc, "id", file)
    if not re.match(r"^[a-z0-9][a-z0-9._-]*$", rid):
        raise RuleError(
            "'id' must be lower-case letters, digits, '.', '_' or '-'", *_where(doc, "id", file)
        )
    rtype = _req(doc, "type", file)
    if rtype not in RULE_TYPES:
        raise RuleError(
            f"unknown rule type '{rtype}' (one of: {', '.join(RULE_TYPES)})",
            *_where(doc, "type", file),
        )
    severity = _req(doc, "severity", file)
    if severity not in SEVERITIES:
        raise RuleError(
            f"severity must be one of {', '.join(SEVERITIES)}", *_where(doc, "severity", file)
        )
    kwargs: dict[str, Any] = {
        "id": rid,
        "title": _req(doc, "title", file),
        "type": rtype,
        "severity": severity,
        "description": str(doc.get("description", "")).strip(),
        "runbook": str(doc.get("runbook", "")).strip(),
        "false_positives": tuple(str(x) for x in doc.get("false_positives") or ()),
        "tags": tuple(str(x) for x in doc.get("tags") or ()),
        "threat": _threat(doc.get("threat"), doc, file),
        "confidence": _confidence(doc, file),
        "clauses": _clauses(doc.get("topology"), doc, file),
        "examples": tuple(doc.get("examples") or ()),
        "group_by": _fields(doc.get("group_by"), doc, "group_by", file),
        "file": file,
        "line": getattr(doc, "line", None),
    }
    if not kwargs["runbook"]:
        raise RuleError(
            "missing required field 'runbook' (what the analyst does next)", file, kwargs["line"]
        )
    _BUILDERS[rtype](doc, file, kwargs)
    return Rule(**kwargs)


def _confidence(doc: Mapping[str, Any], file: str | None) -> float:
    value = doc.get("confidence", 0.8)
    if not isinstance(value, (int, float)) or not 0 < float(value) <= 1:
        raise RuleError("'confidence' must be a number in (0, 1]", *_where(doc, "confidence", file))
    return float(value)


def _fields(value: Any, doc: Any, key: str, file: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise RuleError(f"'{key}' must be a field name or a list of them", *_where(doc, key, file))
    for name in items:
        _check_field(name, *_where(doc, key, file))
    return tuple(items)


def _threat(value: Any, doc: Any, file: str | None) -> Threat:
    if value is None:
        raise RuleError(
            "missing required field 'threat' (ATT&CK tactic and techniques)",
            file,
            getattr(doc, "line", None),
        )
    if not isinstance(value, Mapping):
        raise RuleError("'threat' must be a mapping", *_where(doc, "threat", file))
    techniques = tuple(str(t) for t in value.get("techniques") or ())
    bad = [t for t in techniques if not _TECHNIQUE.match(t)]
    if not techniques or bad:
        raise RuleError(
            f"threat.techniques needs ATT&CK ids like T1110 or T1110.003 (bad: {bad})",
            *_where(value, "techniques", file),
        )
    tactic = value.get("tactic") or {}
    if not isinstance(tactic, Mapping) or not tactic.get("name") or not tactic.get("id"):
        raise RuleError(
            "threat.tactic needs 'id' (e.g. TA0006) and 'name'", *_where(value, "tactic", file)
        )
    return Threat(str(tactic["id"]), str(tactic["name"]), techniques)


def _clauses(value: Any, doc: Any, file: str | None) -> tuple[Clause, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise RuleError(
            "'topology' must map require/suppress/escalate to lists", *_where(doc, "topology", file)
        )
    out: list[Clause] = []
    for kind, items in value.items():
        if kind not in CLAUSE_KINDS:
            raise RuleError(
                f"unknown topology clause kind '{kind}' (one of: {', '.join(CLAUSE_KINDS)})",
                *_where(value, kind, file),
            )
        for item in items or ():
            out.append(_clause(kind, item, value, file))
    return tuple(out)


def _clause(kind: str, item: Any, parent: Any, file: str | None) -> Clause:
    where = (file, getattr(item, "line", None) or getattr(parent, "line", None))
    if not isinstance(item, Mapping):
        raise RuleError(
            f"a {kind} clause must be a mapping like {{target_tag: crown-jewel}}", *where
        )
    questions = [k for k in item if k not in ("reason", "to", "by")]
    if len(questions) != 1:
        raise RuleError(
            f"a {kind} clause asks exactly one question (one of: {', '.join(QUESTIONS)})", *where
        )
    q = questions[0]
    if q not in QUESTIONS:
        close = difflib.get_close_matches(q, list(QUESTIONS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (one of: {', '.join(QUESTIONS)})"
        raise RuleError(f"unknown topology question '{q}'{hint}", *where)
    if not isinstance(item[q], QUESTIONS[q]):
        raise RuleError(f"'{q}' takes a {QUESTIONS[q].__name__}", *where)
    to = item.get("to")
    if to is not None and to not in SEVERITIES:
        raise RuleError(f"'to' must be one of {', '.join(SEVERITIES)}", *where)
    if kind == "suppress" and not item.get("reason"):
        raise RuleError("a suppress clause needs a 'reason' (analysts audit cut findings)", *where)
    return Clause(kind, q, item[q], item.get("reason"), to, int(item.get("by", 1)))


def _cond(doc: Mapping[str, Any], key: str, file: str | None) -> Condition:
    if key not in doc:
        raise RuleError(f"missing required field '{key}'", file, getattr(doc, "line", None))
    return compile_condition(doc[key], *_where(doc, key, file))


def _window(doc: Mapping[str, Any], key: str, file: str | None) -> int:
    if key not in doc:
        raise RuleError(f"missing required field '{key}'", file, getattr(doc, "line", None))
    return parse_duration(doc[key], *_where(doc, key, file))


def _positive_int(
    doc: Mapping[str, Any], key: str, file: str | None, default: int | None = None
) -> int:
    value = doc.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RuleError(f"'{key}' must be a positive integer", *_where(doc, key, file))
    return value


def _build_match(doc: Mapping[str, Any], file: str | None, kw: dict[str, Any]) -> None:
    kw["filter"] = _cond(doc, "filter", file)
    kw["window_ms"] = (
        parse_duration(doc["window"], *_where(doc, "window", file))
        if "window" in doc
        else 3_600_000
    )


def _build_threshold(doc: Mapping[str, Any], file: str | None, kw: dict[str, Any]) -> None:
    kw["filter"] = _cond(doc, "filter", file)
    kw["window_ms"] = _window(doc, "window", file)
    kw["threshold"] = _positive_int(doc, "threshold", file)
    if not kw["group_by"]:
        raise RuleError("a threshold rule needs 'group_by'", file, getattr(doc, "line", None))


def _build_distinct(doc: Mapping[str, Any], file: str | None, kw: dict[str, Any]) -> None:
    _build_threshold(doc, file, kw)
    kw["field"] = _fields(_req(doc, "field", file), doc, "field", file)[0]


def _build_sequence(doc: Mapping[str, Any], file: str | None, kw: dict[str, Any]) -> None:
    kw["window_ms"] = _window(doc, "maxspan", file)
    steps = doc.get("steps")
    if not isinstance(steps, list) or len(steps) < 2:
        raise RuleError(
            "a sequence needs 'steps': a list of at least two steps", *_where(doc, "steps", file)
        )
    built: list[Step] = []
    carries: list[tuple[str, ...]] = []
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping):
            raise RuleError(f"steps[{i}] must be a mapping", *_where(doc, "steps", file))
        by = _fields(step.get("by") or list(kw["group_by"]), step, "by", file)
        if not by:
            raise RuleError(
                f"steps[{i}] needs 'by' (or the rule a 'group_by')",
                file,
                getattr(step, "line", None),
            )
        if built and len(by) != len(built[0].by):
            raise RuleError(
                f"steps[{i}].by must name as many fields as steps[0].by", *_where(step, "by", file)
            )
        sid = str(step.get("id", f"step{i + 1}"))
        built.append(
            Step(sid, _cond(step, "filter", file), by, _positive_int(step, "count", file, 1))
        )
        carry = _fields(step.get("carry"), step, "carry", file) or by
        if len(carry) != len(by):
            raise RuleError(
                f"steps[{i}].carry must name as many fields as its 'by'",
                *_where(step, "carry", file),
            )
        carries.append(carry)
    kw["steps"] = tuple(built)
    kw["step_carry"] = tuple(carries)
    kw["group_by"] = built[0].by


def _build_absence(doc: Mapping[str, Any], file: str | None, kw: dict[str, Any]) -> None:
    kw["filter"] = _cond(doc, "filter", file)
    kw["followed_by"] = _cond(doc, "followed_by", file)
    kw["window_ms"] = _window(doc, "within", file)
    if not kw["group_by"]:
        raise RuleError("an absence rule needs 'group_by'", file, getattr(doc, "line", None))


_BUILDERS = {
    "match": _build_match,
    "threshold": _build_threshold,
    "distinct": _build_distinct,
    "sequence": _build_sequence,
    "absence": _build_absence,
}
