"""Windows event records in the `{"Event": {"System": ..., "EventData": ...}}` shape -> the
flat Winlogbeat / Elastic Agent document that `collectors/winevent.yaml` maps.

That shape is what `.evtx` files read into (`collect/evtx.py`) and what Windows export tools
write as JSON. Field names follow Elastic's Windows integrations: `winlog.channel`,
`winlog.event_id`, `winlog.provider_name`, `winlog.computer_name`, `winlog.record_id`,
`winlog.process.pid`, `winlog.user.identifier`, `winlog.event_data.<Name>` (EventData's named
`<Data>`; unnamed ones as `param1`, `param2`, ... as Winlogbeat does, and all of them joined in
`Data`, the field Sigma's classic PowerShell rules search; names without their spaces, as
Sigma's Defender rules spell them: `Threat Name` -> `ThreatName`) and `winlog.user_data.<Name>` (the
children of UserData's one element); the ECS who/what/where (`process.*`, `user.*`,
`source.*`, `destination.*`) is filled from the event data as their ingest pipelines do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_EVENT_SHAPE = r'^\s*\{\s*"Event"\s*:'
_TEXT = "#text"
_ATTRS = "#attributes"


def rewrite(lines: pa.Array) -> pa.Array:
    """`lines` with every `{"Event": ...}` record replaced by its flat document (others as
    they are; a record without a System element stays as it is and is dead-lettered)."""
    shaped = pc.fill_null(pc.match_substring_regex(lines, _EVENT_SHAPE), False)
    if not pc.any(shaped).as_py():
        return lines
    texts = lines.to_pylist()
    for i in pc.indices_nonzero(shaped).to_pylist():
        doc = _flat_or_none(texts[i])
        if doc is not None:
            texts[i] = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return pa.array(texts, pa.string())


def _flat_or_none(text: str) -> dict[str, str] | None:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    event = doc.get("Event") if isinstance(doc, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("System"), dict):
        return None
    return flatten_event(event)


def flatten_event(event: Mapping[str, Any]) -> dict[str, str]:
    """One `Event` element (System + EventData/UserData) as a flat Winlogbeat-style document."""
    system = event["System"]
    out: dict[str, str | None] = {
        "@timestamp": _attr(system.get("TimeCreated"), "SystemTime"),
        "winlog.channel": _text(system.get("Channel")),
        "winlog.event_id": _text(system.get("EventID")),
        "winlog.provider_name": _attr(system.get("Provider"), "Name"),
        "winlog.computer_name": _text(system.get("Computer")),
        "winlog.record_id": _text(system.get("EventRecordID")),
        "winlog.process.pid": _attr(system.get("Execution"), "ProcessID"),
        "winlog.user.identifier": _attr(system.get("Security"), "UserID"),
    }
    out["event.code"] = out["winlog.event_id"]
    out["host.name"] = out["winlog.computer_name"]
    data = event_data(event.get("EventData"))
    out.update({f"winlog.event_data.{k}": v for k, v in data.items()})
    out.update({f"winlog.user_data.{k}": v for k, v in user_data(event.get("UserData")).items()})
    out.update(ecs_fields(out["winlog.channel"] or "", out["winlog.event_id"] or "", data))
    return {k: v for k, v in out.items() if v not in (None, "")}


def event_data(node: Any) -> dict[str, str]:
    """Named `<Data>` by name; unnamed ones as param1.. and, joined, as `Data`."""
    if not isinstance(node, dict):
        return {}
    out: dict[str, str] = {}
    for key, value in node.items():
        if key == _ATTRS:
            continue
        if key == "Data":
            texts = _texts(value)
            out.update({f"param{i}": t for i, t in enumerate(texts, 1)})
            out[key] = "\n".join(texts)
        else:
            text = _text(value)
            if text is not None:
                out[key.replace(" ", "")] = text  # Defender's "Threat Name": ThreatName, as
    return out  # Sigma names it


def user_data(node: Any) -> dict[str, str]:
    """The fields of UserData's element (`<Operation_ClientFailure><Id>..`), by name."""
    if not isinstance(node, dict):
        return {}
    out: dict[str, str] = {}
    for key, child in node.items():
        if key == _ATTRS:
            continue
        fields = child.items() if isinstance(child, dict) else [(key, child)]
        for name, value in fields:
            text = _text(value)
            if name != _ATTRS and text is not None:
                out[name] = text
    return out


def _texts(value: Any) -> list[str]:
    value = value.get(_TEXT) if isinstance(value, dict) else value
    values = value if isinstance(value, list) else [value]
    return [t for t in (_text(v) for v in values) if t is not None]


def _text(value: Any) -> str | None:
    """An element's text: scalars as text, `{"#text": ...}` unwrapped, lists joined."""
    if isinstance(value, dict):
        value = value.get(_TEXT)
    if isinstance(value, list):
        texts = [t for t in (_text(v) for v in value) if t is not None]
        return "\n".join(texts) if texts else None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _attr(node: Any, name: str) -> str | None:
    attrs = node.get(_ATTRS) if isinstance(node, dict) else None
    return _text(attrs.get(name)) if isinstance(attrs, dict) else None


# -- ECS, as Elastic's Windows integrations (sysmon_operational, security, powershell) do --

SYSMON = "microsoft-windows-sysmon/operational"
#: Sysmon event data -> ECS (every Sysmon event carries the acting process)
_SYSMON = {
    "Image": "process.executable",
    "ProcessId": "process.pid",
    "CommandLine": "process.command_line",
    "User": "user.name",
    "SourceIp": "source.ip",
    "SourcePort": "source.port",
    "SourceHostname": "source.domain",
    "DestinationIp": "destination.ip",
    "DestinationPort": "destination.port",
    "Protocol": "network.transport",
}
#: Security (and other channels') event data -> ECS; the first name present wins
_GENERIC = {
    "process.executable": ("NewProcessName", "ProcessName", "Application", "CallerProcessName"),
    "process.pid": ("NewProcessId", "ProcessId", "ProcessID"),
    "process.command_line": ("CommandLine",),
    "user.name": ("TargetUserName", "SubjectUserName", "AccountName", "UserName"),
    "source.ip": ("IpAddress", "SourceAddress", "ClientAddress"),
    "source.port": ("IpPort", "SourcePort"),
    "destination.ip": ("DestAddress",),
    "destination.port": ("DestPort",),
}
#: logons and logon failures are about the target account, the rest about the subject
_TARGET_FIRST = {"4624", "4625", "4634", "4647", "4648", "4768", "4769", "4771", "4776"}
_NO_VALUE = {"-", "::", "0.0.0.0", "::1"}
_USER = re.compile(r"^(?:(?P<domain>[^\\]+)\\)?(?P<name>.+)$")


def ecs_fields(channel: str, event_id: str, data: Mapping[str, str]) -> dict[str, str]:
    """process.*, user.*, source.*, destination.*, network.transport from the event data."""
    out: dict[str, str] = {}
    if channel.lower() == SYSMON:
        for name, ecs in _SYSMON.items():
            if data.get(name) not in (None, *_NO_VALUE):
                out.setdefault(ecs, data[name])
    else:
        for ecs, names in _GENERIC.items():
            if ecs == "user.name" and event_id not in _TARGET_FIRST:
                names = names[1:] + names[:1]
            found = next((data[n] for n in names if data.get(n) not in (None, *_NO_VALUE)), None)
            if found is not None:
                out[ecs] = found
    _split_user(out)
    if "process.executable" in out:
        out["process.name"] = re.split(r"[\\/]", out["process.executable"])[-1]
    for ecs in ("process.pid", "source.port", "destination.port"):
        if ecs in out:
            out[ecs] = _number(out[ecs])
    return {k: v for k, v in out.items() if v}


def _split_user(out: dict[str, str]) -> None:
    m = _USER.match(out.get("user.name", ""))
    if m and m.group("domain"):
        out["user.domain"], out["user.name"] = m.group("domain"), m.group("name")


def _number(text: str) -> str:
    """Decimal text of a decimal or 0x-hex number (4688 gives its pids in hex); "" if neither."""
    try:
        return str(int(text, 16) if text.lower().startswith("0x") else int(text))
    except ValueError:
        return ""
