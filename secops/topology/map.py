"""The topology map: zones, assets, allowed paths, and the findings on top of them.

Drawn with networkx + matplotlib. Zones are laid out on a circle (`nx.circular_layout`), each
zone's assets on a circle around its centre; a zone box holds them. Assets are coloured by
their worst open finding, crown jewels are starred, attack paths (source -> hops -> target of
each open finding, e.g. the lateral-movement chain) are red arrows, allowed zone-to-zone
policy is grey. Readable for 5 assets and for 500: per zone only the assets that matter (in a
finding, crown jewels, critical ones) are drawn, up to `max_per_zone`; the rest collapse into
one "+N more" node.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from secops.topology.topology import Topology
from secops.triage.describe import is_open

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
COLOURS = {
    "critical": "#7f0000",
    "high": "#d62728",
    "medium": "#ff7f0e",
    "low": "#f2c14e",
    None: "#9ecae1",  # no open finding
}
COLLAPSED = "#d9d9d9"
EXTERNAL = "#bdbdbd"
CRIT_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
MAX_EXTERNAL = 8  # attacker IPs drawn outside every asset
#: the group (drawn like a zone, outside every zone) of inner addresses no asset has
UNKNOWN = "not in the inventory"


@dataclass
class MapModel:
    """What the map shows; drawn by `draw`, inspected by tests."""

    zones: list[str]
    members: dict[str, list[str]]  # zone -> drawn node ids
    collapsed: dict[str, int]  # zone -> assets folded into "+N more"
    worst: dict[str, str]  # node -> worst open finding severity
    jewels: set[str]
    policy: list[tuple[str, str, str]]  # (from zone, to zone, services)
    attacks: list[tuple[str, str, str, str]]  # (from node, to node, severity, rule)
    #: node -> worst severity of the open findings it is the source of (the attackers)
    sources: dict[str, str] = field(default_factory=dict)
    #: addresses in an inner zone's CIDR that no asset has: drawn in the UNKNOWN group, with
    #: the zone whose CIDR they fall in
    unknown: dict[str, str] = field(default_factory=dict)


def _node(entity: dict[str, Any]) -> str | None:
    return entity.get("asset") or (f"ip:{entity['ip']}" if entity.get("ip") else None)


def _path(doc: dict[str, Any], topo: Topology) -> tuple[list[tuple[str, str]], list[str]]:
    """Attack edges of one finding: source -> hops (sequence rules) -> each target; and targets.

    A sequence's hosts other than its targets are the hops (the lateral-movement chain); for
    other rules the hosts are only the sensors that logged the evidence.
    """
    t = doc["finding"].get("topology", {})
    srcs = [n for n in map(_node, t.get("sources", [])) if n][:1]
    tgts = [n for n in map(_node, t.get("targets", [])) if n][:5]
    hops: list[str] = []
    if doc["rule"].get("type") == "sequence":
        hosts = (topo.asset(h) for h in doc.get("related", {}).get("hosts", []))
        hops = [a.name for a in hosts if a is not None and a.name not in srcs + tgts]
    chain = [*srcs, *dict.fromkeys(hops)]
    edges = list(zip(chain, chain[1:], strict=False))
    if chain:
        edges += [(chain[-1], x) for x in tgts if x != chain[-1]]
    return edges, tgts or chain[1:]


def build_model(
    topo: Topology, findings: Iterable[dict[str, Any]] = (), *, max_per_zone: int = 12
) -> MapModel:
    open_docs = [d for d in findings if is_open(d)]
    worst: dict[str, str] = {}
    sources: dict[str, str] = {}
    attacks: list[tuple[str, str, str, str]] = []
    for doc in sorted(open_docs, key=lambda d: -SEVERITY_RANK[d["finding"]["severity"]]):
        sev = doc["finding"]["severity"]
        edges, hit = _path(doc, topo)
        for node in hit + [b for _a, b in edges]:
            _raise(worst, node, sev)
        if edges:
            _raise(sources, edges[0][0], sev)
        attacks += [(a, b, sev, doc["rule"]["id"]) for a, b in edges]
    attacks = list(dict.fromkeys(attacks))
    involved = {n for a, b, _s, _r in attacks for n in (a, b)} | set(worst)
    jewels = {a.name for a in topo.assets if "crown-jewel" in a.tags}
    group = _groups(topo, involved)
    members, collapsed = _members(topo, group, involved, jewels, max_per_zone)
    drawn = {n for ns in members.values() for n in ns}
    attacks = [(_fold(a, drawn, group), _fold(b, drawn, group), s, r) for a, b, s, r in attacks]
    attacks = list(dict.fromkeys(x for x in attacks if x[0] != x[1]))
    zones = [z.name for z in topo.zones]
    zones += [g for g in ("internet", UNKNOWN) if g in members and g not in zones]
    policy = [
        (s, d, ", ".join(map(str, services)))
        for (s, d), services in sorted(topo.zone_policy.items())
        if s != d
    ]
    unknown = {n: topo.zone_of(n[3:]) or "" for n in drawn if group.get(n) == UNKNOWN}
    return MapModel(
        zones, members, collapsed, worst, jewels, policy, attacks,
        sources={n: s for n, s in sources.items() if n in drawn}, unknown=unknown,
    )  # fmt: skip


def _raise(worst: dict[str, str], node: str, sev: str) -> None:
    if SEVERITY_RANK[sev] > SEVERITY_RANK.get(worst.get(node, ""), 0):
        worst[node] = sev


def _groups(topo: Topology, involved: set[str]) -> dict[str, str]:
    """Where each address node is drawn: an outside address in its (catch-all) zone, e.g.
    internet; an inner address no asset has (a sweep's target) in UNKNOWN, outside every zone."""
    out = {}
    for node in involved:
        if node.startswith("ip:"):
            zone = topo.zone_of(node[3:])
            out[node] = UNKNOWN if _inner(topo, node[3:], zone) else zone or "internet"
    return out


def _inner(topo: Topology, ip: str, zone: str | None) -> bool:
    """In a zone narrower than "anywhere" (no /0 CIDR), or in private address space."""
    z = next((z for z in topo.zones if z.name == zone), None)
    if z is not None and not any(str(c).endswith("/0") for c in z.cidrs):
        return True
    try:
        return ipaddress.ip_address(ip).is_private
    except ValueError:
        return False


def _members(
    topo: Topology, group: dict[str, str], involved: set[str], jewels: set[str], cap: int
) -> tuple[dict[str, list[str]], dict[str, int]]:
    by_zone: dict[str, list[str]] = defaultdict(list)
    for a in topo.assets:
        by_zone[topo.zone_of_asset(a.name) or "unzoned"].append(a.name)
    for ip in sorted(group):
        by_zone[group[ip]].append(ip)
    members: dict[str, list[str]] = {}
    collapsed: dict[str, int] = {}
    for zone, names in by_zone.items():

        def rank(n: str) -> tuple[int, int, int, str]:
            a = topo.asset(n) if not n.startswith("ip:") else None
            crit = CRIT_ORDER.get(a.criticality, 4) if a else 4
            return (n not in involved, n not in jewels, crit, n)

        keep = sorted(names, key=rank)
        limit = cap if len(keep) > cap + 1 else len(keep)
        ips_kept = [n for n in keep[:limit] if n.startswith("ip:")][:MAX_EXTERNAL]
        shown = [n for n in keep[:limit] if not n.startswith("ip:")] + ips_kept
        members[zone] = sorted(shown, key=lambda n: (n.startswith("ip:"), n))
        if len(names) > len(shown):
            collapsed[zone] = len(names) - len(shown)
            members[zone].append(f"more:{zone}")
    return members, collapsed


def _fold(node: str, drawn: set[str], group: dict[str, str]) -> str:
    return node if node in drawn else f"more:{group[node]}" if node in group else node


def render(
    topo: Topology,
    findings: Iterable[dict[str, Any]] = (),
    fmt: str = "svg",
    *,
    max_per_zone: int = 12,
    title: str | None = None,
) -> bytes:
    """The map as svg, png or a self-contained html page (the svg inline)."""
    from secops.topology.map_draw import draw

    model = build_model(topo, findings, max_per_zone=max_per_zone)
    if fmt != "html":
        return draw(model, fmt, title)
    svg = draw(model, "svg", title).decode()
    svg = svg[svg.index("<svg") :]
    name = escape(title or "secops topology map")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{name}</title></head><body>"
        f"<figure id='topology-map'>{svg}</figure></body></html>\n"
    ).encode()
