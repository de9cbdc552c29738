"""How a finding reads in one line: who it is about, a target endpoint, a history entry."""

from __future__ import annotations

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
