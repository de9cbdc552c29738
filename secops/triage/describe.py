"""How a finding reads in one line: who it is about, a target endpoint, a history entry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def entity(doc: dict[str, Any]) -> str:
    """`source -> target` where the evidence has one of each; else the user; else the values
    of the finding's key (a lateral movement: `foothold -> hop source`); else its hosts."""
    src = doc.get("source", {}).get("ip")
    dst = doc.get("destination", {}).get("ip") or doc.get("host", {}).get("name")
    text = " -> ".join(str(x) for x in (src, dst) if x)
    if text:
        return text
    if doc.get("user", {}).get("name"):
        return str(doc["user"]["name"])
    key = [str(v) for v in (doc["finding"].get("key") or {}).values() if v not in (None, "")]
    if key:
        return " -> ".join(dict.fromkeys(key))
    hosts = doc.get("related", {}).get("hosts", [])
    return ", ".join(hosts[:3]) + (f" (+{len(hosts) - 3})" if len(hosts) > 3 else "")


def endpoint(ip: Any, port: Any) -> str:
    """`10.10.0.11:22`, or the address alone when no port is known."""
    return f"{ip}:{port}" if port not in (None, "") else str(ip)


def history_line(h: dict[str, Any]) -> str:
    """One triage history entry: when, who, what, the status change, to whom, and why."""
    detail = ""
    if h.get("assignee"):
        detail += f" to {h['assignee']}"
    if h.get("of"):
        detail += f" of {h['of'][:10]}"
    note = f": {h['note']}" if h.get("note") else ""
    return f"{h['at'][:19]} {h['analyst']} {h['action']}{detail} ({h['from']} -> {h['to']}){note}"


def is_open(doc: dict[str, Any]) -> bool:
    """Raised (not cut) and not closed: what a queue or the map shows as open."""
    fi = doc["finding"]
    return not fi.get("suppressed") and fi.get("status", "open") in ("open", "acknowledged")


def outside_period(docs: list[dict[str, Any]], since: str | None) -> str | None:
    """For a view of the findings that ended after `since` (ISO): how many open ones of
    `docs` ended before it, and when the newest of them did (None when there are none)."""
    if not since:
        return None
    cut = _utc(since)
    older = [d for d in docs if is_open(d) and _utc(d["event"]["end"]) < cut]
    if not older:
        return None
    newest = max(d["event"]["end"] for d in older)
    return (
        f"{len(older)} open finding{'s' if len(older) > 1 else ''} ended before {since[:19]}Z "
        f"(outside --since), the newest at {newest}: widen --since to include them"
    )


def _utc(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)
