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

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

import networkx as nx

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
    labels: dict[str, str] = field(default_factory=dict)


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
    attacks: list[tuple[str, str, str, str]] = []
    for doc in sorted(open_docs, key=lambda d: -SEVERITY_RANK[d["finding"]["severity"]]):
        sev = doc["finding"]["severity"]
        edges, hit = _path(doc, topo)
        for node in hit + [b for _a, b in edges]:
            if SEVERITY_RANK[sev] > SEVERITY_RANK.get(worst.get(node, ""), 0):
                worst[node] = sev
        attacks += [(a, b, sev, doc["rule"]["id"]) for a, b in edges]
    attacks = list(dict.fromkeys(attacks))
    involved = {n for a, b, _s, _r in attacks for n in (a, b)} | set(worst)
    jewels = {a.name for a in topo.assets if "crown-jewel" in a.tags}
    members, collapsed = _members(topo, involved, jewels, max_per_zone)
    drawn = {n for ns in members.values() for n in ns}
    attacks = [(_fold(a, drawn), _fold(b, drawn), s, r) for a, b, s, r in attacks]
    attacks = list(dict.fromkeys(x for x in attacks if x[0] != x[1]))
    zones = [z.name for z in topo.zones]
    if any(n.startswith("ip:") for n in drawn) and "internet" not in zones:
        zones.append("internet")
    policy = [
        (s, d, ", ".join(map(str, services)))
        for (s, d), services in sorted(topo.zone_policy.items())
        if s != d
    ]
    return MapModel(zones, members, collapsed, worst, jewels, policy, attacks)


def _members(
    topo: Topology, involved: set[str], jewels: set[str], cap: int
) -> tuple[dict[str, list[str]], dict[str, int]]:
    by_zone: dict[str, list[str]] = defaultdict(list)
    for a in topo.assets:
        by_zone[topo.zone_of_asset(a.name) or "unzoned"].append(a.name)
    externals = sorted(n for n in involved if n.startswith("ip:"))
    for ip in externals:
        by_zone[topo.zone_of(ip[3:]) or "internet"].append(ip)
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


def _fold(node: str, drawn: set[str]) -> str:
    return node if node in drawn else "more:internet" if node.startswith("ip:") else node


# -- drawing ------------------------------------------------------------------------------


def _positions(model: MapModel) -> tuple[dict[str, Any], dict[str, tuple[float, float, float]]]:
    zones = [z for z in model.zones if model.members.get(z)]
    size = max((len(model.members[z]) for z in zones), default=1)
    radius = 0.9 + 0.18 * size  # a zone's asset ring
    spread = max(2.6 * radius, 1.2 * radius * len(zones) / 3.14)
    centres = (
        nx.circular_layout(zones, scale=spread) if len(zones) > 1 else {z: (0, 0) for z in zones}
    )
    pos: dict[str, Any] = {}
    boxes: dict[str, tuple[float, float, float]] = {}
    for z in zones:
        nodes = model.members[z]
        cx, cy = centres[z]
        ring = radius * min(1.0, 0.35 + 0.12 * len(nodes))
        if len(nodes) == 1:
            pos[nodes[0]] = (cx, cy)
        else:
            pos.update(nx.circular_layout(nodes, scale=ring, center=(cx, cy)))
        boxes[z] = (cx, cy, ring + 0.75)
    return pos, boxes


def draw(model: MapModel, fmt: str = "svg", title: str | None = None) -> bytes:
    """Render the map to SVG or PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch, Patch

    pos, boxes = _positions(model)
    extent = max((abs(c) + r for cx, cy, r in boxes.values() for c in (cx, cy)), default=2.0)
    inches = min(28.0, max(9.0, extent * 1.7))
    fig = Figure(figsize=(inches, inches * 0.82), dpi=100)
    ax = fig.add_subplot()
    ax.set_axis_off()
    for z, (cx, cy, r) in boxes.items():
        ax.add_patch(
            FancyBboxPatch(
                (cx - r, cy - r), 2 * r, 2 * r, boxstyle="round,pad=0.05,rounding_size=0.4",
                facecolor="#f7f7f7", edgecolor="#888888", linewidth=1.2, zorder=0,
            )
        )  # fmt: skip
        ax.text(
            cx, cy + r + 0.12, f"zone {z}", ha="center", va="bottom", fontsize=12, weight="bold"
        )
    zone_graph = nx.DiGraph()
    zone_pos = {z: (cx, cy) for z, (cx, cy, _r) in boxes.items()}
    for s, d, services in model.policy:
        if s in zone_pos and d in zone_pos:
            zone_graph.add_edge(s, d, label=services if len(services) < 28 else "many")
    nx.draw_networkx_edges(
        zone_graph, zone_pos, ax=ax, edge_color="#9e9e9e", style="dashed", width=1.0,
        arrows=True, arrowsize=12, connectionstyle="arc3,rad=0.08", node_size=9000, alpha=0.7,
    )  # fmt: skip
    nx.draw_networkx_edge_labels(
        zone_graph, zone_pos, ax=ax, edge_labels=nx.get_edge_attributes(zone_graph, "label"),
        font_size=7, font_color="#616161", connectionstyle="arc3,rad=0.08", alpha=0.9,
    )  # fmt: skip
    g = nx.DiGraph()
    g.add_nodes_from(pos)
    colours = [_colour(n, model) for n in g.nodes]
    edges = ["#b8860b" if n in model.jewels else "#424242" for n in g.nodes]
    widths = [3.5 if n in model.jewels else 1.0 for n in g.nodes]
    shapes = {n: ("s" if n.startswith("more:") else "o") for n in g.nodes}
    for shape in ("o", "s"):
        nodes = [n for n in g.nodes if shapes[n] == shape]
        idx = [list(g.nodes).index(n) for n in nodes]
        nx.draw_networkx_nodes(
            g, pos, nodelist=nodes, ax=ax, node_shape=shape, node_size=900,
            node_color=[colours[i] for i in idx], edgecolors=[edges[i] for i in idx],
            linewidths=[widths[i] for i in idx],
        )  # fmt: skip
    nx.draw_networkx_labels(
        g, {n: (x, y - 0.38) for n, (x, y) in pos.items()}, ax=ax, verticalalignment="top",
        labels={n: _label(n, model) for n in g.nodes}, font_size=8,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5},
    )  # fmt: skip
    attack = nx.MultiDiGraph()
    for a, b, sev, rule in model.attacks:
        if a in pos and b in pos:
            attack.add_edge(a, b, colour=COLOURS[sev], rule=rule)
    if attack.number_of_edges():
        nx.draw_networkx_edges(
            attack, pos, ax=ax, arrows=True, arrowsize=22, width=2.6,
            edge_color=[d["colour"] for _a, _b, d in attack.edges(data=True)],
            connectionstyle="arc3,rad=0.18", node_size=900,
        )  # fmt: skip
    handles: list[Any] = [
        Patch(color=COLOURS[s], label=f"worst open finding: {s}") for s in SEVERITY_RANK
    ]
    handles += [
        Patch(color=COLOURS[None], label="no open finding"),
        Patch(facecolor="white", edgecolor="#b8860b", linewidth=3, label="★ crown jewel"),
        Line2D([], [], color=COLOURS["high"], linewidth=2.6, label="attack path (open finding)"),
        Line2D([], [], color="#9e9e9e", linestyle="dashed", label="allowed by zone policy"),
        Patch(color=COLLAPSED, label="+N more (collapsed)"),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    ax.set_title(title or "secops topology map", fontsize=14)
    ax.margins(0.06)
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "secops"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=_metadata(fmt))
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    return {"Date": None} if fmt == "svg" else {}


def _colour(node: str, model: MapModel) -> str:
    if node.startswith("more:"):
        return COLLAPSED
    if node.startswith("ip:") and node not in model.worst:
        return EXTERNAL
    return COLOURS[model.worst.get(node)]


def _label(node: str, model: MapModel) -> str:
    if node.startswith("more:"):
        return f"+{model.collapsed.get(node[5:], 0)} more"
    if node.startswith("ip:"):
        return node[3:]
    return f"★ {node}" if node in model.jewels else node


def render(
    topo: Topology,
    findings: Iterable[dict[str, Any]] = (),
    fmt: str = "svg",
    *,
    max_per_zone: int = 12,
    title: str | None = None,
) -> bytes:
    """The map as svg, png or a self-contained html page (the svg inline)."""
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
