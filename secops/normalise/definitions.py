"""Parser definitions: the typed, frozen form of one `collectors/<id>.yaml` file.

Two kinds are registered in KINDS: `regex` (syslog programs and line formats, matched with
RE2 on whole Arrow arrays) and `json` (JSON objects; `map` pulls fields by dotted path,
`auto_ecs` takes every ECS field the object already carries).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from secops.errors import ParserError
from secops.schema import EVENT_FIELDS

KINDS = ("regex", "json")
FORMATS = ("syslog", "access", "asa", "netfilter", "eve", "ecs", "winlog", "winlogbeat", "zeek")
#: columns outside EVENT_FIELDS a parser may fill (kept as strings after the ECS columns)
EXTRA_NAMESPACES = ("winlog.", "zeek.")
#: a named group called `timestamp` replaces the header time; names starting `_` are dropped
TIMESTAMP_GROUP = "timestamp"
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def group_field(name: str) -> str:
    """RE2 group names cannot hold dots: `source__ip` captures `source.ip`."""
    return name.replace("__", ".")


@dataclass(frozen=True)
class Template:
    """A field value; `{name}` parts are filled from the row's columns (captures, header)."""

    text: str

    @property
    def refs(self) -> list[str]:
        return _TEMPLATE.findall(self.text)

    def parts(self) -> list[tuple[bool, str]]:
        """(is_ref, text) pieces in order."""
        out: list[tuple[bool, str]] = []
        pos = 0
        for m in _TEMPLATE.finditer(self.text):
            if m.start() > pos:
                out.append((False, self.text[pos : m.start()]))
            out.append((True, m.group(1)))
            pos = m.end()
        if pos < len(self.text):
            out.append((False, self.text[pos:]))
        return out


@dataclass(frozen=True)
class PatternDef:
    name: str
    regex: str | None = None
    when: Mapping[str, str] = field(default_factory=dict)
    #: json patterns: paths that must hold a value (a Zeek log type told by its fields)
    has: tuple[str, ...] = ()
    fields: Mapping[str, Template] = field(default_factory=dict)
    line: int | None = None

    @property
    def captures(self) -> list[str]:
        return re.findall(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>", self.regex or "")


@dataclass(frozen=True)
class ContextRule:
    """Fill `fields` (where still empty) on rows from `program` or whose path contains text."""

    fields: Mapping[str, Template]
    program: str | None = None
    path_contains: str | None = None


@dataclass(frozen=True)
class ParserDef:
    id: str
    kind: str
    description: str = ""
    programs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    fields: Mapping[str, Template] = field(default_factory=dict)
    patterns: tuple[PatternDef, ...] = ()
    lowercase: tuple[str, ...] = ()
    context: tuple[ContextRule, ...] = ()
    map: Mapping[str, str] = field(default_factory=dict)
    auto_ecs: bool = False
    keep_json: str | None = None  # keep every JSON field as column `<keep_json><name>`
    #: regex parsers: field -> key of `key=value` pairs (CEF, LEEF, FortiGate), read from the
    #: `_kv` capture (else the whole message), filling what the pattern did not capture
    kv: Mapping[str, str] = field(default_factory=dict)
    #: what stands between pairs (RE2 class): whitespace (CEF, key=value logs), a tab (LEEF)
    kv_separator: str = r"\s"
    #: message prefixes that send a line to this parser whatever its program or format
    #: (`CEF:`), also a line with no header at all
    prefixes: tuple[str, ...] = ()
    file: str | None = None
    #: top-level key -> line in the file, for error messages
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], file: str | None = None) -> ParserDef:
        applies = doc.get("applies_to") or {}
        lines = dict(getattr(doc, "key_lines", {}))
        return cls(
            id=str(doc.get("id", "")),
            kind=str(doc.get("kind", "regex")),
            description=str(doc.get("description", "")),
            programs=tuple(str(p) for p in applies.get("programs") or ()),
            formats=tuple(str(f) for f in applies.get("formats") or ()),
            fields=_templates(doc.get("fields")),
            patterns=tuple(_pattern(i, p) for i, p in enumerate(doc.get("patterns") or [])),
            lowercase=tuple(doc.get("lowercase") or ()),
            context=tuple(_context(c) for c in doc.get("context") or []),
            map={str(k): str(v) for k, v in (doc.get("map") or {}).items()},
            auto_ecs=bool(doc.get("auto_ecs", False)),
            keep_json=str(doc["keep_json"]) if doc.get("keep_json") else None,
            kv={str(k): str(v) for k, v in (doc.get("kv") or {}).items()},
            kv_separator=str(doc.get("kv_separator") or r"\s"),
            prefixes=tuple(str(p) for p in applies.get("prefixes") or ()),
            file=file,
            lines=lines,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "description": self.description,
            "applies_to": {"programs": list(self.programs), "formats": list(self.formats)},
            "fields": {k: v.text for k, v in self.fields.items()},
            "patterns": [
                {
                    "name": p.name,
                    "regex": p.regex,
                    "when": dict(p.when),
                    "has": list(p.has),
                    "fields": {k: v.text for k, v in p.fields.items()},
                }
                for p in self.patterns
            ],
            "lowercase": list(self.lowercase),
            "map": dict(self.map),
            "auto_ecs": self.auto_ecs,
            "keep_json": self.keep_json,
            "kv": dict(self.kv),
            "kv_separator": self.kv_separator,
            "prefixes": list(self.prefixes),
        }


def _templates(raw: Any) -> dict[str, Template]:
    return {str(k): Template(str(v)) for k, v in (raw or {}).items()}


def _pattern(index: int, raw: Any) -> PatternDef:
    raw = raw if isinstance(raw, Mapping) else {}
    return PatternDef(
        name=str(raw.get("name", f"pattern{index + 1}")),
        regex=raw.get("regex"),
        when={str(k): str(v) for k, v in (raw.get("when") or {}).items()},
        has=tuple(str(h) for h in raw.get("has") or ()),
        fields=_templates(raw.get("fields")),
        line=getattr(raw, "line", None),
    )


def _context(raw: Mapping[str, Any]) -> ContextRule:
    return ContextRule(
        fields=_templates(raw.get("fields")),
        program=raw.get("program"),
        path_contains=raw.get("path_contains"),
    )


def validate(p: ParserDef, line_of: Mapping[str, int]) -> list[ParserError]:
    """Every problem in one definition, each with the file and the best line we know."""
    errs: list[ParserError] = []

    def err(msg: str, key: str = "id", line: int | None = None) -> None:
        errs.append(ParserError(msg, p.file, line or line_of.get(key)))

    if p.kind not in KINDS:
        err(f"unknown kind {p.kind!r} (expected one of {', '.join(KINDS)})", "kind")
    if not p.programs and not p.formats and not p.prefixes:
        err("applies_to needs 'programs', 'formats' or 'prefixes'", "applies_to")
    for f in p.formats:
        if f not in FORMATS:
            err(f"unknown format {f!r} (expected one of {', '.join(FORMATS)})", "applies_to")
    if p.keep_json and not p.keep_json.startswith(EXTRA_NAMESPACES):
        err(f"keep_json must start with one of {', '.join(EXTRA_NAMESPACES)}", "keep_json")
    for name in [
        *p.fields,
        *p.lowercase,
        *p.map,
        *(k for k in p.kv if k != TIMESTAMP_GROUP and k[0] != "_"),
    ]:
        if name not in EVENT_FIELDS and not name.startswith(EXTRA_NAMESPACES):
            err(f"unknown field {name!r} (see secops/schema.py EVENT_FIELDS)", "fields")
    if not p.patterns and not p.auto_ecs:
        err("a parser needs at least one pattern", "patterns")
    for pat in p.patterns:
        errs.extend(_validate_pattern(p, pat, line_of.get("patterns")))
    return errs


def _validate_pattern(p: ParserDef, pat: PatternDef, fallback: int | None) -> list[ParserError]:
    errs: list[ParserError] = []
    line = pat.line or fallback

    def err(msg: str) -> None:
        errs.append(ParserError(f"pattern {pat.name!r}: {msg}", p.file, line))

    if p.kind == "regex":
        if not isinstance(pat.regex, str) or not pat.regex:
            err("'regex' is required for kind regex")
        else:
            problem = regex_problem(pat.regex)
            if problem:
                err(problem)
            for g in pat.captures:
                target = group_field(g)
                if not g.startswith("_") and g != TIMESTAMP_GROUP and target not in EVENT_FIELDS:
                    err(f"group {g!r} captures unknown field {target!r}")
    for name in pat.fields:
        if name not in EVENT_FIELDS and not name.startswith(EXTRA_NAMESPACES):
            err(f"unknown field {name!r} (see secops/schema.py EVENT_FIELDS)")
    return errs


def regex_problem(regex: str) -> str | None:
    """None if RE2 (as used by Arrow) accepts `regex` with only named groups."""
    try:
        pc.extract_regex(pa.array([""], pa.string()), pattern=_ensure_group(regex))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        return f"invalid RE2 regex: {exc}"
    return None


def _ensure_group(regex: str) -> str:
    return regex if "(?P<" in regex else f"(?P<_all>{regex})"
