"""Enrich: add the topology's answers per event as columns (asset, zone, locality).

Vectorised: each lookup runs on the distinct values of a column, not per event.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from secops.schema import dtype
from secops.topology.ipindex import PrefixTable


def enrich(events: pd.DataFrame, topology: Any) -> pd.DataFrame:
    """Return `events` with source/destination/host asset and zone, and source/destination locality."""
    out = events.copy(deep=False)
    catch_all = _catch_all(topology)
    for side in ("source", "destination"):
        ips = out[f"{side}.ip"]
        out[f"{side}.asset"] = _string(topology.asset_of_ip(ips), out.index)
        out[f"{side}.zone"] = _string(topology.zone_of_ip(ips), out.index)
        out[f"{side}.locality"] = _locality(
            ips, out[f"{side}.asset"], out[f"{side}.zone"], catch_all
        )
    host_asset = _string(topology.asset_of_host(out["host.name"]), out.index)
    out["host.asset"] = host_asset
    out["host.zone"] = _host_zone(topology, host_asset, out.index)
    return out


def _string(series: pd.Series, index: pd.Index) -> pd.Series:
    s = series.reset_index(drop=True)
    s.index = index
    return s if s.dtype == dtype("source.asset") else s.astype(dtype("source.asset"))


def _catch_all(topology: Any) -> frozenset[str]:
    """Zones that only say "anywhere" (a /0 CIDR): being in one says nothing about locality."""
    return frozenset(z.name for z in topology.zones if any(str(c).endswith("/0") for c in z.cidrs))


def _host_zone(topology: Any, host_asset: pd.Series, index: pd.Index) -> pd.Series:
    uniques = host_asset.dropna().unique()
    first_ip = {a: (topology.ips_of_asset(a) or (None,))[0] for a in uniques}
    ips = host_asset.map(first_ip).astype(dtype("source.ip"))
    return _string(topology.zone_of_ip(ips), index)


def _locality(
    ips: pd.Series, assets: pd.Series, zones: pd.Series, catch_all: frozenset[str]
) -> pd.Series:
    """'internal' for private/reserved addresses, known assets and IPs in a specific zone;
    'external' for other valid IPs; null where there is no IP."""
    codes, uniques = pd.factorize(ips)
    if len(uniques) == 0:
        return pd.Series(
            pa.nulls(len(ips), pa.string()), dtype=dtype("source.zone"), index=ips.index
        )
    private = _internal_addresses(uniques)
    internal = private[np.maximum(codes, 0)]
    internal |= assets.notna().to_numpy()
    internal |= (zones.notna() & ~zones.isin(catch_all)).to_numpy(dtype=bool, na_value=False)
    values = np.where(internal, "internal", "external").astype(object)
    values[codes < 0] = None
    return pd.Series(values, index=ips.index).astype(dtype("source.zone"))


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


def _internal_addresses(uniques: Any) -> np.ndarray:
    """Per distinct value: inside INTERNAL_NETWORKS? (IPv4 in numpy, the rest per value)."""
    texts = pa.array(np.asarray(uniques, dtype=object), pa.string())
    return _INTERNAL.lookup_many(texts) >= 0
