"""False positive -> the narrowest exception that explains it -> accepted as a YAML file.

The proposal keeps the finding's rule and tries one scope key at a time, narrowest first
(`SCOPE_KEYS`: one source IP, one source asset, one user, one target asset, the source's /24,
a tag the sources share); the first key for which the finding has exactly one value wins. The
wider candidates are offered as alternatives. Every candidate matches the finding it came from,
checked with the same matcher the judge uses.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from secops.errors import SecopsError
from secops.judge.exceptions import SCOPE_KEYS, Entities, FindingException, holds
from secops.topology import WELL_KNOWN_TAGS

DEFAULT_EXPIRY = timedelta(days=90)


@dataclass(frozen=True)
class Proposal:
    exception: FindingException
    alternatives: list[tuple[str, str]] = field(default_factory=list)

    def with_scope(self, scope: dict[str, str], entities: Entities) -> Proposal:
        """The analyst's edit; refused unless it still matches the finding."""
        for key, value in scope.items():
            if key not in SCOPE_KEYS:
                raise SecopsError(f"unknown scope key '{key}' (known: {', '.join(SCOPE_KEYS)})")
            if not holds(key, value, entities):
                raise SecopsError(
                    f"scope {key}={value} does not match this finding "
                    f"(it has {key}: {entities.values(key) or 'nothing'})"
                )
        exc = replace(self.exception, scope=tuple(scope.items()))
        return replace(self, exception=replace(exc, id=exception_id(exc.rule, exc.scope)))


def entities_of_doc(doc: dict[str, Any]) -> Entities:
    """A stored finding's entities, as the judge saw them (finding.topology, user.name)."""
    topo = doc["finding"].get("topology", {})
    user = doc.get("user", {}).get("name")
    return Entities(
        sources=tuple(
            (s.get("ip"), s.get("asset"), frozenset(s.get("tags") or ()))
            for s in topo.get("sources", [])
        ),
        targets=tuple(
            (t.get("asset"), frozenset(t.get("tags") or ())) for t in topo.get("targets", [])
        ),
        users=(user,) if user else (),
    )


def _candidates(ent: Entities) -> list[tuple[str, str]]:
    """Single-key scopes that match the finding, narrowest first."""
    out: list[tuple[str, str]] = []
    for key in SCOPE_KEYS:
        for value in _values_for(key, ent):
            if holds(key, value, ent):
                out.append((key, value))
    return out


def _values_for(key: str, ent: Entities) -> list[str]:
    vals = ent.values(key)
    if key == "source.subnet":
        nets = {_net24(ip) for ip in vals}
        return [n for n in nets if n] if len(nets) == 1 else []
    if key in ("source.tag", "target.tag"):
        shared = frozenset.intersection(*vals) if vals else frozenset()
        return sorted(shared, key=lambda t: (t in WELL_KNOWN_TAGS, t))  # own tags first
    distinct = {v for v in vals if v is not None}
    return [distinct.pop()] if len(distinct) == 1 else []


def _net24(ip: str | None) -> str | None:
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 64
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def exception_id(rule: str, scope: tuple[tuple[str, str], ...]) -> str:
    tail = "-".join(re.sub(r"[^a-z0-9]+", "-", str(v).lower()).strip("-") for _k, v in scope)
    return f"fp-{rule}-{tail}"[:120].strip("-")


def propose(
    doc: dict[str, Any],
    *,
    analyst: str,
    reason: str | None = None,
    expires_in: timedelta = DEFAULT_EXPIRY,
    now: datetime | None = None,
) -> Proposal | None:
    """The narrowest exception for a false positive, or None when the finding names nothing."""
    candidates = _candidates(entities_of_doc(doc))
    keys = [k for k, _v in candidates]
    if keys[:2] == ["source.ip", "source.asset"]:  # a known asset: its name outlives its IP
        candidates[0], candidates[1] = candidates[1], candidates[0]
    if not candidates:
        return None
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    scope = (candidates[0],)
    rule = doc["rule"]["id"]
    exc = FindingException(
        id=exception_id(rule, scope),
        rule=rule,
        scope=scope,
        reason=reason or _fp_note(doc) or f"false positive: {doc.get('message', '')}".strip(),
        analyst=analyst,
        created=now,
        expires=now + expires_in,
        finding=doc["finding"]["id"],
    )
    return Proposal(exc, candidates[1:])


def _fp_note(doc: dict[str, Any]) -> str | None:
    history = (doc["finding"].get("triage") or {}).get("history", [])
    notes = [h.get("note") for h in history if h.get("action") == "false-positive"]
    return next((n for n in reversed(notes) if n), None)


def accept(proposal: Proposal, folder: str | Path) -> Path:
    """Write the exception as `<folder>/<id>.yaml`; refuses to overwrite a different one."""
    exc = proposal.exception
    path = Path(folder) / f"{exc.id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise SecopsError(
            f"an exception with id '{exc.id}' already exists (edit it, or pick another --scope)",
            str(path),
        )
    head = (
        f"# Accepted exception (secops findings false-positive --accept), {exc.analyst}.\n"
        "# Review like a rule; the judge cuts matching findings with reason exception:<id>.\n"
    )
    path.write_text(head + yaml.safe_dump(exc.to_dict(), sort_keys=False), encoding="utf-8")
    return path
