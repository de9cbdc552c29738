"""Accepted exceptions: an analyst's verdict that one rule's findings for one scope are known-good.

One YAML file per exception under the exceptions folder (file name = id), reviewed like rules:

    id: fp-port-scan-vertical-ws-alice
    rule: port-scan-vertical
    scope: {source.asset: ws-alice}      # every key must hold for every entity of the finding
    reason: alice runs the quarterly inventory scan (CHG-5120)
    analyst: alice
    created: 2026-11-20T10:00:00Z
    expires: 2027-02-18T00:00:00Z

The judge cuts a finding that an active (not expired) exception matches, with the reason
`exception:<id>`. Matching is like a topology `suppress` clause: the scope must hold for every
entity the finding names, and the finding must name at least one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secops.content import load_yaml, yaml_files
from secops.errors import ContentError, ContentErrors, SecopsError

#: scope keys, narrowest first (the order a proposal tries them in).
SCOPE_KEYS = (
    "source.ip",
    "source.asset",
    "user.name",
    "target.asset",
    "source.subnet",
    "source.tag",
    "target.tag",
)
REQUIRED = ("id", "rule", "scope", "reason", "analyst", "created", "expires")
OPTIONAL = ("finding", "description")


@dataclass(frozen=True)
class Entities:
    """What a finding names: sources (ip, asset, tags), targets (asset, tags), users."""

    sources: tuple[tuple[str | None, str | None, frozenset[str]], ...] = ()
    targets: tuple[tuple[str | None, frozenset[str]], ...] = ()
    users: tuple[str, ...] = ()

    def values(self, key: str) -> list[Any]:
        """Every value the finding has for a scope key (None where an entity lacks it)."""
        if key in ("source.ip", "source.subnet"):
            return [ip for ip, _a, _t in self.sources]
        if key == "source.asset":
            return [a for _ip, a, _t in self.sources]
        if key == "source.tag":
            return [t for _ip, _a, t in self.sources]
        if key == "target.asset":
            return [a for a, _t in self.targets]
        if key == "target.tag":
            return [t for _a, t in self.targets]
        if key == "user.name":
            return list(self.users)
        raise KeyError(key)


@dataclass(frozen=True)
class FindingException:
    id: str
    rule: str
    scope: tuple[tuple[str, str], ...]
    reason: str
    analyst: str
    created: datetime
    expires: datetime
    finding: str | None = None
    description: str | None = None
    file: str | None = field(default=None, compare=False)

    def active(self, now: datetime) -> bool:
        return now < self.expires

    def matches(self, rule_id: str, entities: Entities) -> bool:
        return rule_id == self.rule and all(
            holds(key, value, entities) for key, value in self.scope
        )

    @classmethod
    def from_dict(cls, doc: dict[str, Any], file: str | None = None) -> FindingException:
        errors = _check(doc, file)
        if errors:
            raise ContentErrors(errors)
        return cls(
            id=str(doc["id"]),
            rule=str(doc["rule"]),
            scope=tuple((str(k), str(v)) for k, v in doc["scope"].items()),
            reason=str(doc["reason"]),
            analyst=str(doc["analyst"]),
            created=_time(doc["created"]),
            expires=_time(doc["expires"]),
            finding=doc.get("finding"),
            description=doc.get("description"),
            file=file,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "rule": self.rule,
            "scope": dict(self.scope),
            "reason": self.reason,
            "analyst": self.analyst,
            "created": _iso(self.created),
            "expires": _iso(self.expires),
        }
        if self.finding:
            out["finding"] = self.finding
        if self.description:
            out["description"] = self.description
        return out


def holds(key: str, value: str, entities: Entities) -> bool:
    """Does scope `key: value` hold for every entity the finding names (and is there one)?"""
    values = entities.values(key)
    if not values:
        return False
    if key == "source.subnet":
        net = ipaddress.ip_network(value, strict=False)
        return all(_in(ip, net) for ip in values)
    if key in ("source.tag", "target.tag"):
        return all(value in tags for tags in values)
    if key in ("source.asset", "target.asset"):
        return all(v is not None and v.lower() == value.lower() for v in values)
    return all(v == value for v in values)


def _in(ip: str | None, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip) in net
    except ValueError:
        return False


def _time(value: Any) -> datetime:
    t = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _check(doc: Any, file: str | None) -> list[SecopsError]:
    line = getattr(doc, "line", None)
    if not isinstance(doc, dict):
        return [ContentError("an exception file must hold a mapping", file, line)]
    errors: list[SecopsError] = []

    def err(key: str | None, message: str) -> None:
        where = doc.where(key)[1] if hasattr(doc, "where") else line
        errors.append(ContentError(message, file, where))

    for key in REQUIRED:
        if doc.get(key) in (None, "", {}):
            err(None, f"missing '{key}' (required: {', '.join(REQUIRED)})")
    for key in doc:
        if key not in REQUIRED + OPTIONAL:
            err(key, f"unknown key '{key}' (allowed: {', '.join(REQUIRED + OPTIONAL)})")
    scope = doc.get("scope")
    if scope is not None and not isinstance(scope, dict):
        err("scope", "'scope' must be a mapping, e.g. {source.asset: ws-alice}")
    for key, value in (scope or {}).items() if isinstance(scope, dict) else ():
        if key not in SCOPE_KEYS:
            err("scope", f"unknown scope key '{key}' (known: {', '.join(SCOPE_KEYS)})")
        elif key == "source.subnet":
            try:
                ipaddress.ip_network(str(value), strict=False)
            except ValueError:
                err("scope", f"bad CIDR '{value}' for source.subnet")
    for key in ("created", "expires"):
        if doc.get(key) is not None:
            try:
                _time(doc[key])
            except ValueError:
                err(key, f"'{key}' must be an ISO 8601 time, got {doc[key]!r}")
    if file and doc.get("id") and Path(file).stem != str(doc["id"]):
        err("id", f"id '{doc['id']}' must equal the file name '{Path(file).stem}'")
    return errors


def load_exceptions(path: str | Path | None) -> list[FindingException]:
    """Every exception under a folder (or one file); all errors collected, then raised."""
    if path is None or not Path(path).exists():
        return []
    out: list[FindingException] = []
    errors: list[SecopsError] = []
    seen: dict[str, str] = {}
    for file in yaml_files(path):
        try:
            exc = FindingException.from_dict(load_yaml(file), str(file))
        except ContentErrors as e:
            errors.extend(e.errors)
            continue
        except ContentError as e:
            errors.append(e)
            continue
        if exc.id in seen:
            errors.append(
                ContentError(f"duplicate id '{exc.id}' (first in {seen[exc.id]})", str(file))
            )
            continue
        seen[exc.id] = str(file)
        out.append(exc)
    if errors:
        raise ContentErrors(errors)
    return out


def first_match(
    exceptions: Iterable[FindingException], rule_id: str, entities: Entities, now: datetime
) -> FindingException | None:
    return next(
        (e for e in exceptions if e.active(now) and e.matches(rule_id, entities)),
        None,
    )


def entities_of(ctx: Any, topology: Any) -> Entities:
    """The entities of a judged candidate, as exceptions see them."""

    def tags(asset: str | None) -> frozenset[str]:
        a = topology.asset(asset) if asset else None
        return frozenset(a.tags) if a else frozenset()

    users = ctx.evidence.users
    return Entities(
        sources=tuple((ip, asset, tags(asset)) for ip, asset, _loc in ctx.sources),
        targets=tuple((t.asset, tags(t.asset)) for t in ctx.targets),
        users=tuple(users),
    )


def resolve_exceptions_path(path: str | Path | None) -> Path | None:
    """The given folder, else none. Never the working directory or the package tree: the CLI
    passes the user's folder (secops.config.Config.exceptions_path, under the data dir)."""
    return Path(path) if path is not None else None
