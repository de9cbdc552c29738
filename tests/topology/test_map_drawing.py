"""The map on the bundled sample: the attackers are marked as such (ws-bob's sweep, the
internet sources), the addresses of a sweep that no asset has are drawn outside every zone,
and no text overlaps another (port labels, zone titles, node labels) or hides under a line."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import FancyArrowPatch

from secops.sink import LocalStore
from secops.topology import load_topology
from secops.topology.map import UNKNOWN, build_model, render
from secops.topology.map_draw import figure
from tests.helpers import EXAMPLE_TOPOLOGY
from tests.report.conftest import store  # noqa: F401  (the sample in a store)

#: hand-copied from the sample's port-sweep-horizontal finding (ws-bob = 10.20.1.16) and the
#: example topology's zone CIDRs (servers 10.30.0.0/24, mgmt 10.40.0.0/24)
SWEPT = {
    "ip:10.30.0.71": "servers",
    "ip:10.30.0.73": "servers",
    "ip:10.40.0.177": "mgmt",
    "ip:10.40.0.194": "mgmt",
}


def model(data: Path):  # type: ignore[no-untyped-def]
    return build_model(load_topology(EXAMPLE_TOPOLOGY), LocalStore(data).query())


def test_attackers_are_marked_and_unknown_addresses_stay_outside_zones(store: Path) -> None:  # noqa: F811
    m = model(store)
    assert m.sources["ws-bob"] == "high"  # the sweep's source, an asset of corp
    assert m.sources["ip:178.11.236.91"] == "critical"  # brute force then login
    assert "web02" not in m.sources and "db01" not in m.sources  # targets, not attackers
    assert m.unknown == SWEPT
    assert sorted(m.members[UNKNOWN]) == sorted(SWEPT)
    for zone in ("servers", "mgmt"):
        assert not set(SWEPT) & set(m.members[zone])
    assert "ip:178.11.236.91" in m.members["internet"]  # an outside address stays outside


def test_the_svg_says_attacker_and_no_asset(store: Path) -> None:  # noqa: F811
    svg = render(load_topology(EXAMPLE_TOPOLOGY), LocalStore(store).query(), "svg").decode()
    assert "attacker (high)" in svg and "ws-bob" in svg
    assert "not in the inventory" in svg and "(in servers, no asset)" in svg


def test_no_text_overlaps_another_or_sits_under_a_line(store: Path) -> None:  # noqa: F811
    fig = figure(model(store))
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_gid()]
    kinds = {t.get_gid() for t in texts}
    assert kinds == {"zone-title", "policy-label", "node-label"}
    boxes = [(t, t.get_bbox_patch().get_window_extent(renderer)) for t in texts]
    clashes = [
        (a.get_text(), b.get_text())
        for i, (a, box_a) in enumerate(boxes)
        for b, box_b in boxes[i + 1 :]
        if box_a.overlaps(box_b)
    ]
    assert clashes == []
    lines = [p.get_zorder() for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert lines and min(t.get_zorder() for t in texts) > max(lines)  # text on top, on white
