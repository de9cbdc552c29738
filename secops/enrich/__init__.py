"""Enrich: add the topology's answers per event as columns (asset, zone, locality).

Vectorised: each lookup runs on the distinct values of a column, not per event.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from secops.topology.ipindex import Distinct, PrefixTable


def enrich(events: pd.DataFrame, topology: Any) -> pd.DataFrame:
    """Return `events` with source/destination/host asset and zone, and source/destination locality."""
    out = events.copy(deep=False)
    catch_all = _catch_all(topology)
    for side in ("source", "destination"):
        ips = Distinct(out[f"{side}.ip"])
        assets, zones = topology.assets_of_ips(ips), topology.zones_of_ips(ips)
        out[f"{side}.asset"] = ips.expand(topology.asset_names(assets))
        out[f"{side}.zone"] = ips.expand(topology.zone_names(zones))
        out[f"{side}.locality"] = ips.expand(_locality(ips, assets, zones, catch_all))
    hosts = Distinct(out["host.name"])
    assets = topology.assets_of_hosts(hosts)
    out["host.asset"] = hosts.expand(topology.asset_names(assets))
    out["host.zone"] = hosts.expand(topology.zone_names(topology.zones_of_assets(assets)))
    return out


def _catch_all(topology: Any) -> np.ndarray:
    """Per zone: does it only say "anywhere" (a /0 CIDR)? Being in one says nothing about
    locality."""
    return np.array(
        [any(str(c).endswith("/0") for c in z.cidrs) for z in topology.zones], dtype=bool
    )


def _locality(
    ips: Distinct, assets: np.ndarray, zones: np.ndarray, catch_all: np.ndarray
) -> pa.StringArray:
    """Per distinct value: 'internal' for private/reserved addresses, known assets and IPs in
    a specific zone; 'external' for other values (null rows stay null: no IP)."""
    in_zone = zones >= 0
    in_zone[in_zone] = ~catch_all[zones[in_zone]]
    internal = (_INTERNAL.lookup_many(ips.texts, ips.v4) >= 0) | (assets >= 0) | in_zone
    return pa.array(np.where(internal, "internal", "external"), type=pa.string())


#: address space that never routes on the internet (RFC 1918, 6598, 4193, loopback, link-local).
#: Documentation ranges (TEST-NET, RFC 5737) count as external: test data uses them as "internet".
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


_INTERNAL = PrefixTable((str(n), 0) for n in INTERNAL_NETWORKS)
