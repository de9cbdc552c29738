"""Sigma logsource + field names -> our ECS stream, as pySigma processing pipelines.

`mapping.yaml` (next to this module) lists the logsources our collectors produce. For a rule,
`Mapping.entry_for(logsource)` picks the most specific entry; `Mapping.pipeline(entry)` is the
pySigma `ProcessingPipeline` (map_string, field_name_mapping, field_name_prefix,
value_placeholders) that renames the rule's fields in place.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingT
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sigma.pipelines.common import windows_logsource_mapping
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaLogSource

from secops.correlate.conditions import KNOWN_FIELDS

MAPPING_FILE = Path(__file__).with_name("mapping.yaml")
_KEYS = ("product", "service", "category")


@dataclass(frozen=True)
class LogsourceEntry:
    id: str
    match: MappingT[str, str]
    filter: MappingT[str, Any] = field(default_factory=dict)
    fields: MappingT[str, str] = field(default_factory=dict)
    values: MappingT[str, MappingT[str, str]] = field(default_factory=dict)
    prefix: str | None = None
    known: frozenset[str] = frozenset()  # with a prefix: the names our events carry

    def matches(self, ls: SigmaLogSource) -> bool:
        return all((getattr(ls, k) or "").lower() == str(v).lower() for k, v in self.match.items())

    def column(self, name: str) -> str:
        """A Sigma field name of this logsource -> our column (as the pipeline renames it); a
        name the pipeline renamed already stays as it is."""
        if name in KNOWN_FIELDS or name in self.fields.values():
            return name
        if name in self.fields:
            return self.fields[name]
        if self.prefix and not name.startswith(self.prefix):
            return self.prefix + name
        return name

    def allows(self, name: str) -> bool:
        """May a mapped field name appear in a rule of this logsource?"""
        if name in KNOWN_FIELDS or name in self.fields.values():
            return True
        if not self.prefix or not name.startswith(self.prefix):
            return False
        return not self.known or name[len(self.prefix) :] in self.known


#: rules without a (known) logsource: fields must be ECS columns already.
ECS_ENTRY = LogsourceEntry("ecs", {})


@dataclass(frozen=True)
class Mapping:
    entries: tuple[LogsourceEntry, ...]
    vars: MappingT[str, Any] = field(default_factory=dict)

    def entry_for(self, ls: SigmaLogSource) -> LogsourceEntry | None:
        """The most specific entry matching the logsource, or None."""
        hits = self.entries_for(ls)
        return hits[0] if hits else None

    def entries_for(self, ls: SigmaLogSource) -> list[LogsourceEntry]:
        """Every entry of the most specific match, in file order: a logsource several event
        sources produce (process_creation: Sysmon 1 and Security 4688) has one per source."""
        hits = [e for e in self.entries if e.matches(ls)]
        most = max((len(e.match) for e in hits), default=0)
        return [e for e in hits if len(e.match) == most]

    def with_vars(self, extra: MappingT[str, Any]) -> Mapping:
        return Mapping(self.entries, {**self.vars, **extra})

    def pipeline(self, entry: LogsourceEntry) -> ProcessingPipeline:
        return _pipeline(self, entry)

    def describe(self) -> list[str]:
        return [", ".join(f"{k}={v}" for k, v in e.match.items()) for e in self.entries]


def _pipeline(m: Mapping, entry: LogsourceEntry) -> ProcessingPipeline:
    items: list[dict[str, Any]] = [
        {
            "id": f"{entry.id}-values-{name}",
            "type": "map_string",
            "mapping": {str(k): str(v) for k, v in values.items()},
            "field_name_conditions": [{"type": "include_fields", "fields": [name]}],
        }
        for name, values in entry.values.items()
    ]
    if entry.fields:
        items.append(
            {
                "id": f"{entry.id}-fields",
                "type": "field_name_mapping",
                "mapping": dict(entry.fields),
            }
        )
    if entry.prefix:
        items.append(
            {
                "id": f"{entry.id}-prefix",
                "type": "field_name_prefix",
                "prefix": entry.prefix,
                "field_name_conditions": [
                    {"type": "processing_item_applied", "processing_item_id": f"{entry.id}-fields"}
                ],
                "field_name_cond_not": True,
            }
        )
    if m.vars:
        items.append({"id": "placeholders", "type": "value_placeholders"})
    return ProcessingPipeline.from_dict(
        {"name": f"secops {entry.id}", "priority": 10, "transformations": items, "vars": m.vars}
    )


def load_mapping(path: str | Path = MAPPING_FILE) -> Mapping:
    return _load(str(path))


@cache
def _load(path: str) -> Mapping:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = tuple(
        LogsourceEntry(
            id=str(e["id"]),
            match={k: str(v) for k, v in (e.get("match") or {}).items() if k in _KEYS},
            filter=dict(e.get("filter") or {}),
            fields={str(k): str(v) for k, v in (e.get("fields") or {}).items()},
            values={str(k): dict(v) for k, v in (e.get("values") or {}).items()},
            prefix=e.get("prefix"),
            known=frozenset(str(k) for k in e.get("known") or ()),
        )
        for e in doc.get("logsources") or []
    )
    return Mapping(entries + _windows_services(entries), dict(doc.get("vars") or {}))


def _windows_services(listed: tuple[LogsourceEntry, ...]) -> tuple[LogsourceEntry, ...]:
    """`product: windows, service: X` for every service pySigma maps to its event log channel
    (not listed in the file): the channel is the filter, event data names carry the
    winlog.event_data. prefix, the System fields are those of every Windows entry."""
    base = next((e for e in listed if e.id == "windows-process-creation"), None)
    fields = dict(base.fields) if base else {}
    taken = {
        e.match.get("service", "").lower() for e in listed if e.match.get("product") == "windows"
    }
    return tuple(
        LogsourceEntry(
            id=f"windows-{service}",
            match={"product": "windows", "service": service},
            filter={"winlog.channel": channel if isinstance(channel, list) else [channel]},
            fields=fields,
            prefix="winlog.event_data.",
        )
        for service, channel in windows_logsource_mapping.items()
        if service not in taken
    )
