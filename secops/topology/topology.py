"""`Topology`: the questions rules and the judge ask about zones, assets, policy and changes.

Column lookups (`asset_of_ip`, `zone_of_ip`, `asset_of_host`) are vectorised over whole
Series. Scalar questions return an `Answer` (value, reason, detail) the engine records on
the finding; value None means "unknown", which must never be a reason to cut a finding.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa

from secops.topology import graph as g
from secops.topology.ipindex import Distinct, HostIndex, PrefixTable, take, take_index
from secops.topology.model import (
    UNKNOWN_CRITICALITY,
    Asset,
    ChangeWindow,
    Policy,
    Service,
    Zone,
)
from secops.topology.questions import Questions

ANY = (Service.parse("any"),)
_CACHE = 65536


class Topology(Questions):
    """Zones, assets, policies and change windows, indexed for fast questions.

    Build with `load_topology(path)`; the questions with reasons live in `Questions`.
    """

    def __init__(
        self,
        zones: Iterable[Zone] = (),
        assets: Iterable[Asset] = (),
        policies: Iterable[Policy] = (),
        change_windows: Iterable[ChangeWindow] = (),
        source: str | None = None,
    ) -> None:
        self.zones: tuple[Zone, ...] = tuple(zones)
        self.assets: tuple[Asset, ...] = tuple(assets)
        self.policies: tuple[Policy, ...] = tuple(policies)
        self.change_windows: tuple[ChangeWindow, ...] = tuple(change_windows)
        self.source = source
        self._zone_names = pa.array([z.name for z in self.zones], type=pa.string())
        self._asset_names = pa.array([a.name for a in self.assets], type=pa.string())
        self._zones = PrefixTable((c, i) for i, z in enumerate(self.zones) for c in z.cidrs)
        self._ips = PrefixTable((ip, i) for i, a in enumerate(self.assets) for ip in a.ips)
        self._hosts = HostIndex(
            (alias, i) for i, a in enumerate(self.assets) for alias in (a.name, *a.hostnames)
        )
        self._by_name = {a.name: a for a in self.assets}
        self._zone_by_name = {z.name: z for z in self.zones}
        self.zone_policy = self._build_policy()
        self._reaching: dict[str, list[str]] = defaultdict(list)
        for src, dst in self.zone_policy:
            self._reaching[dst].append(src)
        self._windows: dict[str, list[ChangeWindow]] = defaultdict(list)
        for w in self.change_windows:
            for name in w.assets:
                self._windows[name.lower()].append(w)
        self._zone_of_ip = functools.lru_cache(_CACHE)(self._zone_of_ip_uncached)
        self._resolve = functools.lru_cache(_CACHE)(self._resolve_uncached)
        self._pivot = functools.lru_cache(_CACHE)(self._pivot_uncached)

    @classmethod
    def empty(cls) -> Topology:
        """Knows nothing, cuts nothing: every question answers None (unknown)."""
        return cls()

    def __repr__(self) -> str:
        return (
            f"Topology({len(self.zones)} zones, {len(self.assets)} assets, "
            f"{len(self.policies)} policies, {len(self.change_windows)} change windows)"
        )

    def summary(self) -> str:
        """ "5 zones, 12 assets, 11 policies, 1 change windows"."""
        return (
            f"{len(self.zones)} zones, {len(self.assets)} assets, "
            f"{len(self.policies)} policies, {len(self.change_windows)} change windows"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "zones": [z.to_dict() for z in self.zones],
            "assets": [a.to_dict() | {"zone": self.zone_of_asset(a.name)} for a in self.assets],
            "policies": [p.to_dict() for p in self.policies],
            "change_windows": [w.to_dict() for w in self.change_windows],
        }

    # -- the graph ---------------------------------------------------------------------------

    @functools.cached_property
    def graph(self) -> nx.DiGraph:
        """zone/asset nodes; policy, member and reach edges (see secops.topology.graph)."""
        return g.build_graph(self)

    @functools.cached_property
    def _jewel_paths(self) -> dict[str, list[str]]:
        jewels = [a.name for a in self.assets if "crown-jewel" in a.tags]
        return g.crown_jewel_paths(self.graph, jewels) if jewels else {}

    def _build_policy(self) -> dict[tuple[str, str], tuple[Service, ...]]:
        out: dict[tuple[str, str], tuple[Service, ...]] = {}
        for z in self.zones:
            if z.intra_zone == "allow":
                out[(z.name, z.name)] = ANY
        for p in self.policies:
            key = (p.from_zone, p.to_zone)
            out[key] = tuple(dict.fromkeys(out.get(key, ()) + p.allow))
        return {k: v for k, v in out.items() if v}

    def zone_allows(self, src_zone: str, dst_zone: str) -> tuple[Service, ...]:
        """Services zone policy allows from one zone to another (empty: denied)."""
        return self.zone_policy.get((src_zone, dst_zone), ())

    def zones_reaching(self, zone: str) -> list[str]:
        return self._reaching.get(zone, [])

    # -- vectorised column lookups ----------------------------------------------------------

    def asset_of_ip(self, ips: pd.Series) -> pd.Series:
        col = Distinct(ips)
        return col.expand(self.asset_names(self.assets_of_ips(col)))

    def zone_of_ip(self, ips: pd.Series) -> pd.Series:
        """Longest-prefix match; an IP in no zone (or not an IP) -> null."""
        col = Distinct(ips)
        return col.expand(self.zone_names(self.zones_of_ips(col)))

    def asset_of_host(self, names: pd.Series) -> pd.Series:
        """Host name -> asset: case-insensitive, FQDN or short name, asset name or alias."""
        col = Distinct(names)
        return col.expand(self.asset_names(self.assets_of_hosts(col)))

    # -- the same, per distinct value of a column: indexes into assets / zones, -1 for none ---

    def assets_of_ips(self, col: Distinct) -> np.ndarray:
        return self._ips.lookup_many(col.texts, col.v4)

    def zones_of_ips(self, col: Distinct) -> np.ndarray:
        return self._zones.lookup_many(col.texts, col.v4)

    def assets_of_hosts(self, col: Distinct) -> np.ndarray:
        return self._hosts.lookup_many(col.texts)

    def zones_of_assets(self, assets: np.ndarray) -> np.ndarray:
        """The zone of each asset (by index): the longest-prefix zone of its first IP."""
        return take_index(self._asset_zones, assets)

    def asset_names(self, assets: np.ndarray) -> pa.StringArray:
        return take(self._asset_names, assets)

    def zone_names(self, zones: np.ndarray) -> pa.StringArray:
        return take(self._zone_names, zones)

    @functools.cached_property
    def _asset_zones(self) -> np.ndarray:
        first = pa.array([a.ips[0] if a.ips else None for a in self.assets], type=pa.string())
        return self._zones.lookup_many(first)

    @functools.cached_property
    def asset_zones(self) -> list[str | None]:
        """`zone_of_asset` for every asset at once, in the order of `assets`."""
        return self.zone_names(self._asset_zones).to_pylist()

    # -- scalar lookups -----------------------------------------------------------------------

    def _resolve_uncached(self, ref: str) -> Asset | None:
        if ref in self._by_name:
            return self._by_name[ref]
        i = self._hosts.lookup_one(ref)
        if i < 0:
            i = self._ips.lookup_one(ref)
        return self.assets[i] if i >= 0 else None

    def asset(self, name: str | None) -> Asset | None:
        """The asset by name, host name alias (case-insensitive, FQDN/short) or IP."""
        return self._resolve(name) if isinstance(name, str) else None

    def ips_of_asset(self, name: str) -> tuple[str, ...]:
        a = self.asset(name)
        return a.ips if a else ()

    def _zone_of_ip_uncached(self, ip: str) -> str | None:
        i = self._zones.lookup_one(ip)
        return self.zones[i].name if i >= 0 else None

    def zone_of(self, ip: str | None) -> str | None:
        return self._zone_of_ip(ip) if isinstance(ip, str) else None

    def zone_of_asset(self, name: str | None) -> str | None:
        """An asset's zone: the longest-prefix zone of its first IP."""
        a = self.asset(name)
        return self.zone_of(a.ips[0]) if a and a.ips else None

    def criticality(self, asset: str | None) -> str:
        """low|medium|high|critical for a known asset (default medium); "unknown" otherwise."""
        a = self.asset(asset)
        return a.criticality if a else UNKNOWN_CRITICALITY

    def has_tag(self, asset: str | None, tag: str) -> bool:
        a = self.asset(asset)
        return bool(a and tag in a.tags)

    def _pivot_uncached(
        self, src: str, dst: str, port: int | None, transport: str | None
    ) -> tuple[str, ...] | None:
        path = g.pivot_path(self.graph, src, dst, port, transport)
        return tuple(path) if path is not None else None

    def windows_of(self, asset: str) -> list[ChangeWindow]:
        return self._windows.get(asset.lower(), [])
