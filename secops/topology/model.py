"""The topology content objects: frozen dataclasses with `from_dict` / `to_dict`.

`from_dict` checks values (not unknown keys; the loader does that with line numbers) and
raises `InvalidEntry` carrying every problem it found, each as (key, reason).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from secops.topology.ipindex import canonical_ip

CRITICALITY_LEVELS: tuple[str, ...] = ("low", "medium", "high", "critical")
DEFAULT_CRITICALITY = "medium"
#: what `Topology.criticality` says for something that is not a known asset.
UNKNOWN_CRITICALITY = "unknown"
#: rank for sorting / weighting; "unknown" ranks with "low" + 0.5 would be a scoring choice,
#: so it gets its own slot and the score step decides its weight.
CRITICALITY_RANK: dict[str, int] = {"unknown": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

WELL_KNOWN_TAGS: tuple[str, ...] = (
    "authorized-scanner",
    "jump-host",
    "monitoring",
    "public-facing",
    "crown-jewel",
)

_SERVICE_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?/(tcp|udp)$")


class InvalidEntry(ValueError):
    """One content entry with one or more bad values: problems are (key or None, reason)."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.problems = problems


def did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Service:
    """A port range on a transport; `any` is every port on every transport."""

    low: int
    high: int
    transport: str  # "tcp" | "udp" | "any"

    @classmethod
    def parse(cls, text: Any) -> Service:
        if isinstance(text, str) and text.strip().lower() == "any":
            return cls(0, 65535, "any")
        m = _SERVICE_RE.match(str(text).strip().lower()) if isinstance(text, str) else None
        if not m:
            hint = f" (write '{text}/tcp')" if isinstance(text, int) else ""
            raise ValueError(
                f"bad service {text!r}: expected 'any', 'PORT/tcp|udp' or 'LOW-HIGH/tcp|udp'{hint}"
            )
        low, high = int(m.group(1)), int(m.group(2) or m.group(1))
        if not (0 <= low <= high <= 65535):
            raise ValueError(f"bad service {text!r}: ports must be 0-65535, low <= high")
        return cls(low, high, m.group(3))

    def matches(self, port: int, transport: str | None = "tcp") -> bool:
        if self.transport == "any":
            return True
        t = (transport or "tcp").lower()
        return t == self.transport and self.low <= int(port) <= self.high

    def overlaps(self, other: Service) -> bool:
        """Some (port, transport) is in both."""
        if "any" in (self.transport, other.transport):
            return True
        return (
            self.transport == other.transport and self.low <= other.high and other.low <= self.high
        )

    def __str__(self) -> str:
        if self.transport == "any":
            return "any"
        ports = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{ports}/{self.transport}"


#: the same few services repeat on thousands of assets; Service is frozen, so share them
_parse_service = functools.lru_cache(maxsize=4096)(Service.parse)


def _services(values: Any, key: str, problems: list) -> tuple[Service, ...]:
    out = []
    for v in _str_list(values, key, problems, allow_int=True):
        try:
            out.append(_parse_service(v))
        except ValueError as exc:
            problems.append((key, str(exc)))
    return tuple(out)


def _str_list(values: Any, key: str, problems: list, allow_int: bool = False) -> list:
    if isinstance(values, list) and all(type(v) is str for v in values):
        return values  # the common case, checked in one pass
    if values is None:
        return []
    if isinstance(values, (str, int)) and not isinstance(values, bool):
        values = [values]  # a single value where a list was expected: be kind
    if not isinstance(values, list):
        problems.append((key, f"'{key}' must be a list, got {type(values).__name__}"))
        return []
    ok = (str, int) if allow_int else (str,)
    bad = [v for v in values if not isinstance(v, ok) or isinstance(v, bool)]
    if bad:
        problems.append((key, f"'{key}' entries must be strings, got {bad[0]!r}"))
    return [v for v in values if v not in bad]


def _name(d: Mapping, problems: list, key: str = "name") -> str:
    name = d.get(key)
    if not isinstance(name, str) or not name.strip():
        problems.append((key, f"missing or empty '{key}'"))
        return ""
    return name.strip()


def _timestamp(value: Any, key: str, problems: list) -> pd.Timestamp | None:
    if value is None:
        problems.append((key, f"missing '{key}'"))
        return None
    try:
        ts = pd.Timestamp(value if isinstance(value, datetime) else str(value))
    except (ValueError, TypeError):
        problems.append(
            (key, f"bad timestamp {value!r} for '{key}' (use ISO 8601, e.g. 2026-11-20T01:00:00Z)")
        )
        return None
    if pd.isna(ts):
        problems.append((key, f"bad timestamp {value!r} for '{key}'"))
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _check(problems: list) -> None:
    if problems:
        raise InvalidEntry(problems)


@dataclass(frozen=True)
class Zone:
    name: str
    cidrs: tuple[str, ...]
    intra_zone: str = "allow"  # "allow" | "deny"
    description: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Zone:
        problems: list[tuple[str | None, str]] = []
        name = _name(d, problems)
        cidrs = []
        raw = _str_list(d.get("cidrs"), "cidrs", problems)
        if not raw and "cidrs" not in d:
            problems.append(("cidrs", "missing 'cidrs'"))
        for c in raw:
            try:
                cidrs.append(str(ipaddress.ip_network(c.strip(), strict=True)))
            except ValueError as exc:
                hint = ""
                try:
                    hint = f" (did you mean '{ipaddress.ip_network(c.strip(), strict=False)}'?)"
                except ValueError:
                    pass
                problems.append(("cidrs", f"bad CIDR {c!r}: {exc}{hint}"))
        intra = d.get("intra_zone", "allow")
        if intra not in ("allow", "deny"):
            problems.append(("intra_zone", f"intra_zone must be 'allow' or 'deny', got {intra!r}"))
        _check(problems)
        return cls(name, tuple(cidrs), intra, d.get("description"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "cidrs": list(self.cidrs)}
        if self.intra_zone != "allow":
            out["intra_zone"] = self.intra_zone
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Asset:
    name: str
    ips: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()
    role: str | None = None
    os: str | None = None
    criticality: str = DEFAULT_CRITICALITY
    #: None = not declared (unknown), () = declared to expose nothing.
    services: tuple[Service, ...] | None = None
    tags: frozenset[str] = frozenset()
    owner: str | None = None
    description: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Asset:
        problems: list[tuple[str | None, str]] = []
        name = _name(d, problems)
        ips = []
        for ip in _str_list(d.get("ips"), "ips", problems):
            try:
                ips.append(canonical_ip(ip))
            except ValueError:
                problems.append(("ips", f"bad IP address {ip!r}"))
        hostnames = tuple(h.strip() for h in _str_list(d.get("hostnames"), "hostnames", problems))
        crit = d.get("criticality", DEFAULT_CRITICALITY)
        if crit not in CRITICALITY_LEVELS:
            problems.append(
                (
                    "criticality",
                    f"bad criticality {crit!r}: one of "
                    f"{', '.join(CRITICALITY_LEVELS)}{did_you_mean(crit, CRITICALITY_LEVELS)}",
                )
            )
        services = _services(d["services"], "services", problems) if "services" in d else None
        tags = _str_list(d.get("tags"), "tags", problems)
        for tag in tags:
            hint = did_you_mean(tag, WELL_KNOWN_TAGS) if tag not in WELL_KNOWN_TAGS else ""
            if hint:
                problems.append(("tags", f"tag {tag!r} looks like a typo{hint}"))
        for key in ("role", "os", "owner", "description"):
            if d.get(key) is not None and not isinstance(d.get(key), str):
                problems.append((key, f"'{key}' must be a string"))
        _check(problems)
        return cls(
            name,
            tuple(ips),
            hostnames,
            d.get("role"),
            d.get("os"),
            crit,
            services,
            frozenset(tags),
            d.get("owner"),
            d.get("description"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "ips": list(self.ips)}
        if self.hostnames:
            out["hostnames"] = list(self.hostnames)
        for key in ("role", "os"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        out["criticality"] = self.criticality
        if self.services is not None:
            out["services"] = [str(s) for s in self.services]
        if self.tags:
            out["tags"] = sorted(self.tags)
        for key in ("owner", "description"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Policy:
    """Allowed traffic from one zone to another; anything not allowed is denied."""

    from_zone: str
    to_zone: str
    allow: tuple[Service, ...]
    description: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Policy:
        problems: list[tuple[str | None, str]] = []
        src, dst = _name(d, problems, "from"), _name(d, problems, "to")
        if "allow" not in d:
            problems.append(("allow", "missing 'allow' (a list of services, or [any])"))
        allow = _services(d.get("allow"), "allow", problems)
        _check(problems)
        return cls(src, dst, allow, d.get("description"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": self.from_zone,
            "to": self.to_zone,
            "allow": [str(s) for s in self.allow],
        }
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class ChangeWindow:
    """Approved change (ITIL): planned work on `assets` in [start, end)."""

    assets: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    ticket: str
    description: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChangeWindow:
        problems: list[tuple[str | None, str]] = []
        assets = tuple(_str_list(d.get("assets"), "assets", problems))
        if not assets:
            problems.append(("assets", "missing or empty 'assets'"))
        start = _timestamp(d.get("start"), "start", problems)
        end = _timestamp(d.get("end"), "end", problems)
        if start is not None and end is not None and end <= start:
            problems.append(("end", f"end {end.isoformat()} is before start {start.isoformat()}"))
        ticket = d.get("ticket")
        if ticket is None or not str(ticket).strip():
            problems.append(("ticket", "missing 'ticket' (the approved change id)"))
        _check(problems)
        assert start is not None and end is not None
        return cls(assets, start, end, str(ticket), d.get("description"))

    def covers(self, when: pd.Timestamp) -> bool:
        return self.start <= when < self.end

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "assets": list(self.assets),
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "end": self.end.isoformat().replace("+00:00", "Z"),
            "ticket": self.ticket,
        }
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Answer:
    """One answer the topology gave; the engine records it on the finding.

    value: True / False, a string for non-boolean questions, or None for "unknown" (the
    topology does not know enough to say; a judge must never cut on None).
    """

    value: bool | str | None
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.value is True

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reason": self.reason, "detail": dict(self.detail)}
