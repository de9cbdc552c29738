"""The questions with reasons: each returns an `Answer` the engine records on a finding.

Rule of thumb: value None = the topology does not know (unknown asset, IP in no zone, services
not declared); a judge may cut or down-rank on False / True, never on None.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from secops.topology import graph as g
from secops.topology.model import Answer, Service

if TYPE_CHECKING:
    from collections.abc import Callable

    import networkx as nx

    from secops.topology.model import Asset, ChangeWindow, Zone


def _services(services: tuple[Service, ...]) -> str:
    return ", ".join(str(s) for s in services) or "nothing"


def _svc(port: int | None, transport: str | None) -> str:
    return f"{port}/{(transport or 'tcp').lower()}"


def _via(hit: Service, port: int, transport: str | None) -> str:
    return "" if str(hit) == _svc(port, transport) else f" (by {hit})"


def as_utc(when: pd.Timestamp | datetime | str | None) -> pd.Timestamp | None:
    """A UTC timestamp, naive taken as UTC; None when missing or unparsable."""
    if when is None:
        return None
    try:
        ts = pd.Timestamp(when)
    except (ValueError, TypeError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


class Questions:
    """Mixed into Topology; relies on its lookups, declared here for the type checker."""

    if TYPE_CHECKING:
        _zone_by_name: dict[str, Zone]
        _pivot: Callable[[str, str, int | None, str | None], tuple[str, ...] | None]

        @property
        def graph(self) -> nx.DiGraph[str]: ...
        @property
        def _jewel_paths(self) -> dict[str, list[str]]: ...
        def asset(self, name: str | None) -> Asset | None: ...
        def zone_of(self, ip: str | None) -> str | None: ...
        def zone_allows(self, src_zone: str, dst_zone: str) -> tuple[Service, ...]: ...
        def windows_of(self, asset: str) -> list[ChangeWindow]: ...

    def exposes(self, asset: str | None, port: int | None, transport: str | None = "tcp") -> Answer:
        """Does the asset expose this service? None when the asset or its services are unknown."""
        a = self.asset(asset)
        if a is None:
            return Answer(None, f"{asset!r} is not a known asset", {"asset": asset})
        detail: dict[str, Any] = {"asset": a.name, "port": port, "transport": transport}
        if a.services is None:
            return Answer(None, f"{a.name} has no declared services", detail)
        if port is None or pd.isna(port):
            return Answer(None, "no port to check", detail)
        detail["services"] = [str(s) for s in a.services]
        hit = next((s for s in a.services if s.matches(int(port), transport)), None)
        if hit is not None:
            return Answer(
                True,
                f"{a.name} exposes {_svc(port, transport)}{_via(hit, port, transport)}",
                detail,
            )
        return Answer(
            False,
            f"{a.name} does not expose {_svc(port, transport)} (exposes {_services(a.services)})",
            detail,
        )

    def can_reach(
        self,
        src_ip: str | None,
        dst_ip: str | None,
        port: int | None,
        transport: str | None = "tcp",
    ) -> Answer:
        """Direct reachability by zone policy (same zone allowed unless intra_zone: deny)."""
        src, dst = self.zone_of(src_ip), self.zone_of(dst_ip)
        detail: dict[str, Any] = {
            "source.zone": src,
            "destination.zone": dst,
            "port": port,
            "transport": transport,
        }
        for ip, zone, side in ((src_ip, src, "source"), (dst_ip, dst, "destination")):
            if zone is None:
                return Answer(None, f"{side} {ip!r} is in no known zone", detail)
        assert src is not None and dst is not None
        allowed = self.zone_allows(src, dst)
        detail["allowed"] = [str(s) for s in allowed]
        rule = (
            "intra-zone traffic"
            if src == dst and self._zone_by_name[src].intra_zone == "allow"
            else "policy"
        )
        if not allowed:
            why = f"intra_zone: deny in {src}" if src == dst else f"no policy {src} -> {dst}"
            return Answer(False, f"{why}: all traffic denied", detail)
        if port is None or pd.isna(port):
            return Answer(
                True,
                f"{rule} {src} -> {dst} allows {_services(allowed)} (no port to check)",
                detail,
            )
        hit = next((s for s in allowed if s.matches(int(port), transport)), None)
        if hit is None:
            return Answer(
                False,
                f"policy {src} -> {dst} does not allow "
                f"{_svc(port, transport)} (allows {_services(allowed)})",
                detail,
            )
        return Answer(
            True,
            f"{rule} {src} -> {dst} allows {_svc(port, transport)}{_via(hit, port, transport)}",
            detail,
        )

    def _node(self, ref: str | None) -> str | None:
        """Asset name / alias / IP -> asset node; zone name or IP in a zone -> zone node."""
        if not isinstance(ref, str):
            return None
        a = self.asset(ref)
        if a is not None:
            return g.asset_node(a.name)
        name = ref.removeprefix("zone:")
        if name in self._zone_by_name:
            return g.zone_node(name)
        zone = self.zone_of(ref)
        return g.zone_node(zone) if zone else None

    def pivot_path(
        self, src: str, dst: str, port: int | None = None, transport: str | None = "tcp"
    ) -> list[str] | None:
        """Shortest takeover path src -> ... -> dst (asset names; a zone start as `zone:<z>`).

        Each hop: the holder's zone may reach the next asset on a service it exposes; with
        `port`, the last hop is on that service. None when there is no path or dst is no asset.
        """
        s, d = self._node(src), self._node(dst)
        if s is None or d is None or not d.startswith("asset:"):
            return None
        path = self._pivot(s, d, port, (transport or "tcp").lower())
        return list(path) if path is not None else None

    def explain_path(
        self, src: str, dst: str, port: int | None = None, transport: str | None = "tcp"
    ) -> dict[str, Any]:
        """Everything `secops topology path` shows: direct reach, exposure, pivot path."""
        src_ip, dst_ip = _first_ip(self, src), _first_ip(self, dst)
        return {
            "source": {
                "ref": src,
                "ip": src_ip,
                "asset": _name(self, src),
                "zone": self.zone_of(src_ip),
            },
            "destination": {
                "ref": dst,
                "ip": dst_ip,
                "asset": _name(self, dst),
                "zone": self.zone_of(dst_ip),
            },
            "can_reach": self.can_reach(src_ip, dst_ip, port, transport).to_dict(),
            "exposes": self.exposes(dst, port, transport).to_dict(),
            "pivot_path": self.pivot_path(src, dst, port, transport),
        }

    def path_to_crown_jewel(self, asset: str | None) -> Answer:
        """Is the asset a crown jewel, or can an attacker holding it pivot to one?"""
        a = self.asset(asset)
        if a is None:
            return Answer(None, f"{asset!r} is not a known asset", {"asset": asset})
        if "crown-jewel" in a.tags:
            return Answer(True, f"{a.name} is a crown jewel", {"asset": a.name, "path": [a.name]})
        path = self._jewel_paths.get(g.asset_node(a.name))
        if path is None:
            return Answer(
                False,
                f"no pivot path from {a.name} to a crown jewel",
                {"asset": a.name, "path": []},
            )
        return Answer(
            True,
            f"{a.name} can pivot to crown jewel {path[-1]} via {' -> '.join(path)}",
            {"asset": a.name, "path": path, "crown_jewel": path[-1]},
        )

    def in_change_window(self, asset: str | None, when: pd.Timestamp | datetime | None) -> Answer:
        """Is there an approved change on the asset at `when` (start <= when < end, UTC)?"""
        a = self.asset(asset)
        if a is None:
            return Answer(None, f"{asset!r} is not a known asset", {"asset": asset})
        ts = as_utc(when)
        if ts is None:
            return Answer(None, f"no usable time {when!r}", {"asset": a.name})
        for w in self.windows_of(a.name):
            if w.covers(ts):
                return Answer(
                    True,
                    f"{a.name} is in approved change window {w.ticket}",
                    {"asset": a.name, "ticket": w.ticket, **_span(w)},
                )
        return Answer(
            False,
            f"no approved change window on {a.name} at {ts.isoformat()}",
            {"asset": a.name, "time": ts.isoformat()},
        )

    def blast_radius(self, asset: str) -> list[tuple[str, str, int]]:
        """(asset, criticality, hops) an attacker holding `asset` could reach, worst first."""
        node = self._node(asset)
        if node is None:
            return []
        return g.blast_radius(self.graph, node)


def _first_ip(topo: Questions, ref: str) -> str | None:
    a = topo.asset(ref)
    return a.ips[0] if a is not None and a.ips else ref


def _name(topo: Questions, ref: str) -> str | None:
    a = topo.asset(ref)
    return a.name if a is not None else None


def _span(w: Any) -> dict[str, str]:
    return {"start": w.start.isoformat(), "end": w.end.isoformat()}
