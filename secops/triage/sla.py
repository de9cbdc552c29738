"""Response-time commitments per severity: time to acknowledge and to resolve, overdue.

Clocks start when secops first raised the finding (`finding.first_seen`), not at the time of
its events: replaying last month's logs does not make everything overdue. Configurable in
secops.yaml:

    sla:
      critical: {ack: 15m, resolve: 4h}
      high: {ack: 1h, resolve: 1d}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from secops import validate
from secops.errors import ConfigError


@dataclass(frozen=True)
class Sla:
    ack: timedelta
    resolve: timedelta


DEFAULT_SLA: dict[str, Sla] = {
    "critical": Sla(timedelta(minutes=15), timedelta(hours=4)),
    "high": Sla(timedelta(hours=1), timedelta(days=1)),
    "medium": Sla(timedelta(hours=4), timedelta(days=3)),
    "low": Sla(timedelta(days=1), timedelta(days=7)),
}


def parse_duration(value: str | int, option: str = "sla") -> timedelta:
    """`15m`, `4h`, `2d`, `1w`, `30s`, `0s` (the one grammar: validate.duration_ms). A bare
    number, which meant minutes here and means seconds everywhere else, is refused."""
    if validate.BARE_NUMBER.match(str(value)):
        raise ConfigError(
            f"{option} {value!r} has no unit: an SLA's bare number was minutes and would now be "
            f"seconds, so write the unit ({value}m as before, or {value}s)"
        )
    return validate.duration(value, option, zero=True)


def load_sla(config: dict[str, Any] | None) -> dict[str, Sla]:
    """The defaults, overridden per severity by the `sla:` section of secops.yaml."""
    out = dict(DEFAULT_SLA)
    for sev, spec in (config or {}).items():
        if sev not in DEFAULT_SLA or not isinstance(spec, dict):
            raise ConfigError(
                f"sla: '{sev}' must be one of {', '.join(DEFAULT_SLA)} with {{ack: .., resolve: ..}}"
            )
        base = out[sev]
        out[sev] = Sla(
            parse_duration(spec["ack"], f"sla.{sev}.ack") if "ack" in spec else base.ack,
            parse_duration(spec["resolve"], f"sla.{sev}.resolve")
            if "resolve" in spec
            else base.resolve,
        )
    return out


def _t(value: str | None) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def timings(doc: dict[str, Any]) -> dict[str, float | None]:
    """Seconds from first seen to acknowledged and to closed (None while not done)."""
    fi = doc["finding"]
    seen, tri = _t(fi.get("first_seen")), fi.get("triage") or {}
    ack, closed = _t(tri.get("acknowledged_at")), _t(tri.get("closed_at"))
    return {
        "time_to_ack": (ack - seen).total_seconds() if seen and ack else None,
        "time_to_resolve": (closed - seen).total_seconds() if seen and closed else None,
    }


def due(doc: dict[str, Any], sla: dict[str, Sla]) -> datetime | None:
    """When the next commitment falls due: ack while open, resolve while acknowledged."""
    fi = doc["finding"]
    seen, status = _t(fi.get("first_seen")), fi.get("status", "open")
    if seen is None or fi.get("suppressed") or status not in ("open", "acknowledged"):
        return None
    commitment = sla.get(fi["severity"], DEFAULT_SLA["medium"])
    return seen + (commitment.ack if status == "open" else commitment.resolve)


def is_overdue(doc: dict[str, Any], sla: dict[str, Sla], now: datetime | None = None) -> bool:
    when = due(doc, sla)
    return when is not None and (now or datetime.now(UTC)) > when
