"""`secops report` and `secops topology map` on the bundled sample, checked in headless Chromium."""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

from secops.topology import load_topology
from secops.topology.map import build_model, render
from tests.helpers import EXAMPLE_TOPOLOGY
from tests.report.conftest import Browser, invoke

UNTIL = "2026-11-27T00:00:00"  # a week that covers the sample's events (2026-11-20)


def report(store: Path, out: Path, *extra: str) -> Path:
    invoke(
        "report", "--period", "week", "--until", UNTIL, "--out", str(out),
        "--topology", str(EXAMPLE_TOPOLOGY), "--data-dir", str(store), *extra,
    )  # fmt: skip
    return out


def test_html_report_is_self_contained_and_complete(store: Path, tmp_path: Path) -> None:
    html = report(store, tmp_path / "report.html").read_text()
    for section in ("summary", "charts", "map", "open", "cut", "targets", "health", "response"):
        assert f"<section id='{section}'>" in html
    for figure in ("chart-timeline", "chart-severity", "chart-rules", "topology-map"):
        assert f"<figure id='{figure}'><img" in html
    assert not re.search(r"(src|href)=['\"]?https?:", html)  # no network needed
    assert "lateral-movement" in html and "authorized scanner" in html  # raised and cut reasons
    assert "web02" in html  # the most targeted asset


def test_markdown_report_writes_its_pictures(store: Path, tmp_path: Path) -> None:
    md = report(store, tmp_path / "weekly.md").read_text()
    assert md.startswith("# secops report: the last week")
    for name in ("timeline", "rules", "map"):
        png = tmp_path / f"weekly-{name}.png"
        assert f"]({png.name})" in md and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| rule | raised | cut |" in md and "## Rule health (noisiest first)" in md


def test_report_renders_in_chromium(store: Path, tmp_path: Path, browser: Browser) -> None:
    page = report(store, tmp_path / "report.html")
    dom, console = browser.dom(page)
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None
    assert 'data-ready="1"' in body.group(0), body.group(0)
    assert 'data-images-ok="4"' in body.group(0) and 'data-images-bad=""' in body.group(0)
    assert console == []  # no script errors, nothing logged
    shot = browser.screenshot(page, tmp_path / "report.png")
    assert shot.stat().st_size > 50_000  # charts and map drawn, not a blank page


def test_map_html_renders_in_chromium(store: Path, tmp_path: Path, browser: Browser) -> None:
    out = tmp_path / "map.html"
    invoke(
        "topology", "map", "--topology", str(EXAMPLE_TOPOLOGY), "--findings",
        "--data-dir", str(store), "--out", str(out),
    )  # fmt: skip
    dom, console = browser.dom(out)
    assert '<figure id="topology-map"><svg' in dom and console == []
    for text in ("zone dmz", "★ db01", "178.11.236.91", "web02"):  # zones, jewel, attacker
        assert text in dom
    assert browser.screenshot(out, tmp_path / "map.png", "1400,1100").stat().st_size > 30_000


def test_chromium_check_sees_a_broken_page(tmp_path: Path, browser: Browser) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>throw new Error('boom')</script></body></html>")
    _dom, console = browser.dom(page)
    assert any("Uncaught Error: boom" in line for line in console)


def test_map_lateral_movement_chain_and_colours(store: Path) -> None:
    from secops.sink import LocalStore

    docs = LocalStore(store).query()
    model = build_model(load_topology(EXAMPLE_TOPOLOGY), docs)
    assert ("web02", "db01", "critical", "lateral-movement") in model.attacks
    assert any(a == "ip:178.11.236.91" and b == "web02" for a, b, _s, _r in model.attacks)
    assert model.worst["db01"] == "critical" and model.jewels == {"db01"}


def test_map_of_500_assets_collapses_per_zone(tmp_path: Path) -> None:
    zones = [{"name": f"z{i}", "cidrs": [f"10.{i}.0.0/16"]} for i in range(1, 6)]
    assets = [
        {"name": f"host{i:03d}", "ips": [f"10.{1 + i % 5}.{i // 250}.{i % 250 + 1}"]}
        for i in range(500)
    ]
    assets[7]["tags"] = ["crown-jewel"]
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"zones": zones, "assets": assets}))
    topo = load_topology(tmp_path / "t.yaml")
    model = build_model(topo, [], max_per_zone=12)
    assert all(len(nodes) == 13 for nodes in model.members.values())  # 12 + "+88 more"
    assert model.collapsed == {f"z{i}": 88 for i in range(1, 6)}
    assert "host007" in model.members["z3"]  # the crown jewel is never collapsed
    t0 = time.perf_counter()
    png = render(topo, [], "png")
    assert png[:4] == b"\x89PNG" and time.perf_counter() - t0 < 30
