"""Load a topology from one YAML file or a directory of them; collect every error, then fail."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secops.content import Located as LDict
from secops.content import LocatedList as LList
from secops.content import no_gc, parse_yaml
from secops.errors import ContentErrors, SecopsError, TopologyError
from secops.topology.model import (
    Asset,
    ChangeWindow,
    InvalidEntry,
    Policy,
    Zone,
    did_you_mean,
)
from secops.topology.topology import Topology

#: section name -> (class, allowed keys). One entry per kind of content object.
SECTIONS: dict[str, tuple[Callable[[Any], Any], tuple[str, ...]]] = {
    "zones": (Zone.from_dict, ("name", "cidrs", "intra_zone", "description")),
    "assets": (
        Asset.from_dict,
        (
            "name",
            "ips",
            "hostnames",
            "role",
            "os",
            "criticality",
            "services",
            "tags",
            "owner",
            "description",
        ),
    ),
    "policies": (Policy.from_dict, ("from", "to", "allow", "description")),
    "change_windows": (ChangeWindow.from_dict, ("assets", "start", "end", "ticket", "description")),
}


@dataclass
class _Entry:
    obj: Any
    file: str
    line: int | None
    label: str
    key_lines: dict[str, int]
    name: str | None = None  # the raw `name`, known even when the entry is invalid

    def error(self, reason: str, key: str | None = None) -> TopologyError:
        line = self.key_lines.get(key, self.line) if key else self.line
        return TopologyError(f"{self.label}: {reason}", self.file, line)


def load_topology(path: str | Path | None) -> Topology:
    """One YAML file or a directory of *.yaml / *.yml files (merged). None -> empty topology.

    Raises ContentErrors (exit 78) listing every TopologyError with file, line and entry.
    """
    if path is None:
        return Topology.empty()
    with no_gc():  # tens of thousands of small objects, no cycles (see content.no_gc)
        return _load(path)


def _load(path: str | Path) -> Topology:
    errors: list[SecopsError] = []
    entries: dict[str, list[_Entry]] = {name: [] for name in SECTIONS}
    files = _files(Path(path), errors)
    for file in files:
        try:
            doc = parse_yaml(file.read_text(encoding="utf-8"), str(file), TopologyError)
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(TopologyError(f"cannot read: {exc}", str(file)))
            continue
        except TopologyError as exc:
            errors.append(exc)
            continue
        _read_document(doc, str(file), entries, errors)
    _cross_check(entries, errors)
    if errors:
        raise ContentErrors(errors)
    return Topology(
        zones=[e.obj for e in entries["zones"]],
        assets=[e.obj for e in entries["assets"]],
        policies=[e.obj for e in entries["policies"]],
        change_windows=[e.obj for e in entries["change_windows"]],
        source=str(path),
    )


def _files(path: Path, errors: list[SecopsError]) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        if not found:
            errors.append(TopologyError("no *.yaml or *.yml files in directory", str(path)))
        return found
    errors.append(TopologyError("no such file or directory", str(path)))
    return []


def _read_document(
    doc: Any, file: str, entries: dict[str, list[_Entry]], errors: list[SecopsError]
) -> None:
    if doc is None:
        return
    if not isinstance(doc, LDict):
        errors.append(
            TopologyError(f"top level must be a mapping with keys {', '.join(SECTIONS)}", file, 1)
        )
        return
    for section, items in doc.items():
        line = doc.key_lines[section]
        if section not in SECTIONS:
            errors.append(
                TopologyError(
                    f"unknown section '{section}'{did_you_mean(section, SECTIONS)}; "
                    f"expected one of {', '.join(SECTIONS)}",
                    file,
                    line,
                )
            )
        elif items is None:
            continue
        elif not isinstance(items, LList):
            errors.append(TopologyError(f"'{section}' must be a list of entries", file, line))
        else:
            for index, item in enumerate(items):
                entry = _read_entry(section, index, item, file, items.item_lines[index], errors)
                if entry is not None:
                    entries[section].append(entry)


def _read_entry(
    section: str, index: int, item: Any, file: str, line: int, errors: list[SecopsError]
) -> _Entry | None:
    label = f"{section}[{index}]"
    if not isinstance(item, LDict):
        errors.append(
            TopologyError(
                f"{label}: entry must be a mapping, got {type(item).__name__} {item!r}", file, line
            )
        )
        return None
    name = item.get("name") or (
        f"{item.get('from')}->{item.get('to')}" if section == "policies" else item.get("ticket")
    )
    if name:
        label += f" ({name})"
    raw_name = item.get("name") if isinstance(item.get("name"), str) else None
    entry = _Entry(None, file, item.line, label, item.key_lines, raw_name)
    build, keys = SECTIONS[section]
    for key in item:
        if key not in keys:
            errors.append(
                entry.error(
                    f"unknown key '{key}'{did_you_mean(key, keys)}; allowed: {', '.join(keys)}", key
                )
            )
    try:
        entry.obj = build(item)
    except InvalidEntry as exc:
        errors.extend(entry.error(reason, key) for key, reason in exc.problems)
    # kept even when invalid (obj None): its name still exists, so cross-checks do not cascade
    return entry


def _cross_check(all_entries: dict[str, list[_Entry]], errors: list[SecopsError]) -> None:
    entries = {k: [e for e in v if e.obj is not None] for k, v in all_entries.items()}
    zone_names = [e.name for e in all_entries["zones"] if e.name]
    asset_names = [e.name for e in all_entries["assets"] if e.name]
    _unique(entries["zones"], lambda z: [z.name], "zone", errors)
    _unique(entries["zones"], lambda z: z.cidrs, "CIDR", errors)
    assets = _unique(entries["assets"], lambda a: [a.name.lower()], "asset", errors)
    _unique(
        entries["assets"],
        lambda a: [h.lower() for h in a.hostnames if h.lower() != a.name.lower()],
        "host name",
        errors,
        assets,
    )
    _unique(entries["assets"], lambda a: a.ips, "IP", errors)
    for e in entries["policies"]:
        for key, zone in (("from", e.obj.from_zone), ("to", e.obj.to_zone)):
            if zone not in zone_names:
                hint = did_you_mean(zone, zone_names)
                errors.append(e.error(f"unknown zone '{zone}'{hint}", key))
    known = {n.lower() for n in asset_names}
    for e in entries["change_windows"]:
        for name in e.obj.assets:
            if name.lower() not in known:
                hint = did_you_mean(name, asset_names)
                errors.append(e.error(f"unknown asset '{name}'{hint}", "assets"))


def _unique(
    entries: Iterable[_Entry],
    keys: Callable[[Any], Iterable[str]],
    what: str,
    errors: list[SecopsError],
    seen: dict[str, _Entry] | None = None,
) -> dict[str, _Entry]:
    """Report a key used twice (with where it was first defined); return key -> entry."""
    seen = dict(seen or {})
    for e in entries:
        for key in keys(e.obj):
            first = seen.get(key)
            if first is not None and first is not e:
                errors.append(
                    e.error(
                        f"duplicate {what} '{key}', first defined at "
                        f"{first.file}:{first.line} ({first.label})"
                    )
                )
            elif first is None:
                seen[key] = e
    return seen
