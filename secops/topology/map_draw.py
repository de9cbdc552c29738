"""Drawing the map model (secops.topology.map) with matplotlib: zone boxes, policy arrows
between box borders with their ports beside them, assets, attackers, unknown addresses and
attack paths. Text sits on a white ground above the lines, so no label is crossed out."""

from __future__ import annotations

import io
import math
from typing import Any

import networkx as nx

from secops.topology.map import (
    COLLAPSED,
    COLOURS,
    EXTERNAL,
    SEVERITY_RANK,
    UNKNOWN,
    MapModel,
)

NODE_SIZE = 900
#: drawing order: boxes, policy, attack paths, nodes, then text on a white ground
Z_BOX, Z_POLICY, Z_ATTACK, Z_NODE, Z_TEXT = 0, 1, 2, 3, 5
TEXT_GROUND = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0}
ATTACKER_EDGE = "#000000"


def positions(model: MapModel) -> tuple[dict[str, Any], dict[str, tuple[float, float, float]]]:
    """Node positions and zone boxes (centre x, centre y, half size)."""
    zones = [z for z in model.zones if model.members.get(z)]
    size = max((len(model.members[z]) for z in zones), default=1)
    radius = 0.9 + 0.18 * size  # a zone's asset ring
    # neighbours on the circle of zones are a chord apart: room for two boxes (their
    # diagonal, when the chord is slanted) and a gap for the policy labels between them
    chord = 1.42 * 2 * (radius + 0.75) + 1.0
    spread = max(2.6 * radius, chord / (2 * math.sin(math.pi / max(len(zones), 2))))
    centres: dict[str, Any] = nx.circular_layout(zones, scale=spread)  # type: ignore[arg-type]  # nodes, as documented if len(zones) > 1 else {z: (0, 0) for z in zones}
    pos: dict[str, Any] = {}
    boxes: dict[str, tuple[float, float, float]] = {}
    for z in zones:
        nodes = model.members[z]
        cx, cy = centres[z]
        ring = radius * min(1.0, 0.35 + 0.12 * len(nodes))
        if len(nodes) == 1:
            pos[nodes[0]] = (cx, cy - 0.15)
        else:  # a little below the centre: the zone title sits inside the box's top
            pos.update(nx.circular_layout(nodes, scale=ring, center=(cx, cy - 0.15)))  # type: ignore[arg-type]
        boxes[z] = (cx, cy, ring + 0.75)
    return pos, boxes


def policy_label_at(
    a: tuple[float, float, float], b: tuple[float, float, float], offset: float = 0.3
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(arrow start, arrow end, label point) for the policy a -> b: from border to border of
    the two boxes, the label beside the middle, on the side the arrow bends to (the arrow
    b -> a bends to the other side, so the two labels never sit on each other)."""
    (ax_, ay, ar), (bx, by, br) = a, b
    dx, dy = bx - ax_, by - ay
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    out_a = ar / max(abs(ux), abs(uy), 1e-9)  # a square box: distance to its border along u
    out_b = br / max(abs(ux), abs(uy), 1e-9)
    start = (ax_ + ux * out_a, ay + uy * out_a)
    end = (bx - ux * out_b, by - uy * out_b)
    nx_, ny = uy, -ux  # the side arc3 with a positive rad bends to
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    return start, end, (mid[0] + nx_ * offset, mid[1] + ny * offset)


def draw(model: MapModel, fmt: str = "svg", title: str | None = None) -> bytes:
    """Render the map to SVG or PNG bytes."""
    import matplotlib

    fig = figure(model, title)
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "secops"}):
        fig.savefig(buf, format=fmt, bbox_inches="tight", metadata=_metadata(fmt))
    return buf.getvalue()


def figure(model: MapModel, title: str | None = None) -> Any:
    """The map as a matplotlib Figure; its texts carry a gid: zone-title, policy-label,
    node-label."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    pos, boxes = positions(model)
    extent = max((abs(c) + r for cx, cy, r in boxes.values() for c in (cx, cy)), default=2.0)
    inches = min(28.0, max(9.0, extent * 1.7))
    fig = Figure(figsize=(inches, inches * 0.82), dpi=100)
    ax = fig.add_subplot()
    ax.set_axis_off()
    _zones(ax, boxes)
    _policy(ax, model, boxes)
    _attacks(ax, model, pos)
    _nodes(ax, model, pos)
    ax.legend(handles=_legend(), loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    ax.set_title(title or "secops topology map", fontsize=14)
    ax.margins(0.06)
    return fig


def _zones(ax: Any, boxes: dict[str, tuple[float, float, float]]) -> None:
    from matplotlib.patches import FancyBboxPatch

    for z, (cx, cy, r) in boxes.items():
        unknown = z == UNKNOWN
        ax.add_patch(
            FancyBboxPatch(
                (cx - r, cy - r), 2 * r, 2 * r, boxstyle="round,pad=0.05,rounding_size=0.4",
                facecolor="#ffffff" if unknown else "#f7f7f7", edgecolor="#888888",
                linewidth=1.2, linestyle="dashed" if unknown else "solid", zorder=Z_BOX,
            )
        )  # fmt: skip
        ax.text(
            cx, cy + r - 0.08, z if unknown else f"zone {z}", ha="center", va="top",
            fontsize=12, weight="bold", zorder=Z_TEXT + 1, bbox=TEXT_GROUND, gid="zone-title",
        )  # fmt: skip


def _policy(ax: Any, model: MapModel, boxes: dict[str, tuple[float, float, float]]) -> None:
    from matplotlib.patches import FancyArrowPatch

    for s, d, services in model.policy:
        if s not in boxes or d not in boxes:
            continue
        start, end, at = policy_label_at(boxes[s], boxes[d])
        ax.add_patch(
            FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=12, connectionstyle="arc3,rad=0.08",
                color="#9e9e9e", linestyle="dashed", linewidth=1.0, alpha=0.8, zorder=Z_POLICY,
            )
        )  # fmt: skip
        ax.text(
            at[0], at[1], services if len(services) < 28 else "many", ha="center",
            va="center", fontsize=7, color="#616161", zorder=Z_TEXT, bbox=TEXT_GROUND,
            gid="policy-label",
        )  # fmt: skip


def _attacks(ax: Any, model: MapModel, pos: dict[str, Any]) -> None:
    """One arrow per attack edge; the arrows leaving one node fan out (each its own bend),
    so an arrow to a far target never seems to start at a near one it passes."""
    from matplotlib.patches import FancyArrowPatch

    edges = [(a, b, sev) for a, b, sev, _rule in model.attacks if a in pos and b in pos]
    for a, b, sev, rad in _fanned(edges, pos):
        ax.add_patch(
            FancyArrowPatch(
                pos[a], pos[b], arrowstyle="-|>", mutation_scale=22, linewidth=2.6,
                color=COLOURS[sev], connectionstyle=f"arc3,rad={rad:.3f}", shrinkA=17,
                shrinkB=17, zorder=Z_ATTACK,
            )
        )  # fmt: skip


def _fanned(
    edges: list[tuple[str, str, str]], pos: dict[str, Any]
) -> list[tuple[str, str, str, float]]:
    """Each edge with its bend: 0.18 alone; from 0.35 to -0.35 over the edges of one source,
    in the order of their direction (so that they do not cross)."""
    by_source: dict[str, list[tuple[str, str, str]]] = {}
    for edge in dict.fromkeys(edges):
        by_source.setdefault(edge[0], []).append(edge)
    out = []
    for a, group in by_source.items():
        ax_, ay = pos[a]
        group.sort(key=lambda e: math.atan2(pos[e[1]][1] - ay, pos[e[1]][0] - ax_))
        k = len(group)
        for i, (_a, b, sev) in enumerate(group):
            out.append((a, b, sev, 0.18 if k == 1 else 0.35 - 0.7 * i / (k - 1)))
    return out


def _nodes(ax: Any, model: MapModel, pos: dict[str, Any]) -> None:
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(pos)
    for (shape, style), nodes in _by_shape(model, list(g.nodes)).items():
        drawn = nx.draw_networkx_nodes(
            g, pos, nodelist=nodes, ax=ax, node_shape=shape, node_size=NODE_SIZE,
            node_color=[_colour(n, model) for n in nodes],
            edgecolors=[_edge(n, model) for n in nodes],
            linewidths=[_width(n, model) for n in nodes],
        )  # fmt: skip
        drawn.set_zorder(Z_NODE)
        drawn.set_linestyle(style)  # type: ignore[arg-type]  # a matplotlib line style name
    for n, (x, y) in pos.items():
        ax.text(
            x, y - 0.38, _label(n, model), ha="center", va="top", fontsize=8,
            zorder=Z_TEXT, bbox=TEXT_GROUND, weight="bold" if n in model.sources else "normal",
            gid="node-label",
        )  # fmt: skip


def _by_shape(model: MapModel, nodes: list[str]) -> dict[tuple[str, str], list[str]]:
    """Nodes by (marker, outline): a diamond for attackers, a square for "+N more", a dashed
    circle for an address no asset has, a circle for the rest."""
    out: dict[tuple[str, str], list[str]] = {}
    for n in nodes:
        style = "dashed" if n in model.unknown else "solid"
        shape = "s" if n.startswith("more:") else "D" if n in model.sources else "o"
        out.setdefault((shape, style), []).append(n)
    return out


def _colour(node: str, model: MapModel) -> str:
    if node.startswith("more:"):
        return COLLAPSED
    if node in model.unknown:
        return "#ffffff"  # no asset: nothing to colour by criticality or finding
    if node.startswith("ip:") and node not in model.worst:
        return EXTERNAL
    return COLOURS[model.worst.get(node)]


def _edge(node: str, model: MapModel) -> str:
    if node in model.sources:
        return ATTACKER_EDGE
    return "#b8860b" if node in model.jewels else "#424242"


def _width(node: str, model: MapModel) -> float:
    return 3.0 if node in model.sources else 3.5 if node in model.jewels else 1.0


def _label(node: str, model: MapModel) -> str:
    if node.startswith("more:"):
        return f"+{model.collapsed.get(node[5:], 0)} more"
    name = node[3:] if node.startswith("ip:") else node
    if node in model.jewels:
        name = f"★ {name}"
    if node in model.unknown:
        zone = model.unknown[node]
        name = f"? {name}" + (f"\n(in {zone}, no asset)" if zone else "\n(no asset)")
    if node in model.sources:
        name += f"\nattacker ({model.sources[node]})"
    return name


def _legend() -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Patch(color=COLOURS[s], label=f"worst open finding: {s}") for s in SEVERITY_RANK
    ]
    return handles + [
        Patch(color=COLOURS[None], label="no open finding"),
        Patch(facecolor="white", edgecolor="#b8860b", linewidth=3, label="★ crown jewel"),
        Line2D([], [], marker="D", color="white", markeredgecolor=ATTACKER_EDGE,
               markeredgewidth=2.5, markersize=10, label="attacker: source of an open finding"),
        Line2D([], [], marker="o", color="white", markeredgecolor="#424242", linestyle="none",
               markersize=10, label="? address no asset has (not in the inventory)"),
        Line2D([], [], color=COLOURS["high"], linewidth=2.6, label="attack path (open finding)"),
        Line2D([], [], color="#9e9e9e", linestyle="dashed", label="allowed by zone policy"),
        Patch(color=COLLAPSED, label="+N more (collapsed)"),
    ]  # fmt: skip


def _metadata(fmt: str) -> dict[str, Any]:
    return {"Date": None} if fmt == "svg" else {}
