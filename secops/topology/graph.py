"""The asset graph and the attack-path questions asked of it.

Nodes: `zone:<name>` and `asset:<name>`. Edges, by `kind`:
- `policy`: zone -> zone, `services` the zone policy allows (intra-zone included);
- `member`: asset -> its zone (an attacker on the asset sends from that zone);
- `reach`:  zone -> asset, `services` the asset exposes that the zone may reach.
The pivot graph is the member + reach edges: asset A -> zone:Z -> asset B means an attacker
holding A can reach a service B exposes. Zone nodes are also start nodes (internet, a zone
with no assets), so every pivot path alternates asset / zone nodes.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import networkx as nx

from secops.topology.model import CRITICALITY_RANK, Service

if TYPE_CHECKING:
    from secops.topology.topology import Topology


def zone_node(name: str) -> str:
    return f"zone:{name}"


def asset_node(name: str) -> str:
    return f"asset:{name}"


def build_graph(topo: Topology) -> nx.DiGraph:
    g: nx.DiGraph[str] = nx.DiGraph()
    for z in topo.zones:
        g.add_node(zone_node(z.name), kind="zone", cidrs=z.cidrs, intra_zone=z.intra_zone)
    zones = topo.asset_zones
    for a, zone in zip(topo.assets, zones, strict=True):
        g.add_node(
            asset_node(a.name), kind="asset", criticality=a.criticality, tags=a.tags, zone=zone
        )
        if zone is not None:
            g.add_edge(asset_node(a.name), zone_node(zone), kind="member")
    for (src, dst), allowed in topo.zone_policy.items():
        g.add_edge(zone_node(src), zone_node(dst), kind="policy", services=allowed)
    reachable = functools.cache(_reachable)  # assets share a few service lists and policies
    for a, zone in zip(topo.assets, zones, strict=True):
        if zone is None or not a.services:
            continue  # services not declared (None) or none exposed: nothing to pivot onto
        for src in topo.zones_reaching(zone):
            services = reachable(a.services, topo.zone_allows(src, zone))
            if services:
                g.add_edge(zone_node(src), asset_node(a.name), kind="reach", services=services)
    return g


def _reachable(exposed: tuple[Service, ...], allowed: tuple[Service, ...]) -> tuple[Service, ...]:
    """The exposed services some allowed service overlaps."""
    return tuple(s for s in exposed if any(p.overlaps(s) for p in allowed))


def pivot_view(
    g: nx.DiGraph, dst: str | None = None, port: int | None = None, transport: str | None = "tcp"
) -> Any:
    """member + reach edges; with `port`, the last hop into `dst` must carry that service."""

    def keep(u: str, v: str) -> bool:
        data = g[u][v]
        if data["kind"] == "policy":
            return False
        if port is not None and v == dst:
            return any(s.matches(port, transport) for s in data["services"])
        return True

    return nx.subgraph_view(g, filter_edge=keep)


def strip(path: list[str]) -> list[str]:
    """Node path -> asset names; a leading zone start stays as `zone:<name>`."""
    out = [path[0]] if path and path[0].startswith("zone:") else []
    out += [n.removeprefix("asset:") for n in path if n.startswith("asset:")]
    return out


def pivot_path(
    g: nx.DiGraph, src: str, dst: str, port: int | None, transport: str | None
) -> list[str] | None:
    if src == dst:
        return strip([src])
    view = pivot_view(g, dst, port, transport)
    try:
        return strip(nx.shortest_path(view, src, dst))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None


def crown_jewel_paths(g: nx.DiGraph, jewels: list[str]) -> dict[str, list[str]]:
    """asset node -> shortest pivot path (asset names) from it to the nearest crown jewel."""
    if not jewels:
        return {}
    reverse = nx.reverse_view(pivot_view(g))
    paths = nx.multi_source_dijkstra_path(reverse, [asset_node(j) for j in jewels])
    return {
        node: strip(list(reversed(p))) for node, p in paths.items() if node.startswith("asset:")
    }


def blast_radius(g: nx.DiGraph, start: str) -> list[tuple[str, str, int]]:
    """(asset, criticality, hops) reachable from `start`, most critical first, then nearest."""
    lengths = nx.single_source_shortest_path_length(pivot_view(g), start)
    found = [
        (n.removeprefix("asset:"), g.nodes[n]["criticality"], (d + 1) // 2)
        for n, d in lengths.items()
        if n.startswith("asset:") and n != start
    ]
    return sorted(found, key=lambda t: (-CRITICALITY_RANK[t[1]], t[2], t[0]))
