from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from secops.topology import Answer, Asset, Policy, Service, Topology, Zone


@pytest.mark.parametrize(
    ("asset", "port", "transport", "value"),
    [
        ("web01", 443, "tcp", True),
        ("WEB01.example.com", 80, None, True),
        ("web01", 443, "udp", False),
        ("web01", 3389, "tcp", False),
        ("10.30.0.10", 5432, "tcp", True),
        ("monitor01", 161, "udp", True),
        ("ws-alice", 445, "tcp", False),
        ("nope", 22, "tcp", None),
        (None, 22, "tcp", None),
        ("web01", None, "tcp", None),
    ],
)
def test_exposes(example, asset, port, transport, value):
    answer = example.exposes(asset, port, transport)
    assert isinstance(answer, Answer) and answer.value is value and answer.reason


def test_exposes_reasons(example):
    assert (
        example.exposes("web01", 3389).reason
        == "web01 does not expose 3389/tcp (exposes 22/tcp, 80/tcp, 443/tcp)"
    )
    assert example.exposes("nope", 22).reason == "'nope' is not a known asset"


def test_exposes_undeclared_and_ranges():
    topo = Topology(assets=[Asset("x"), Asset("y", services=(Service.parse("8000-8100/tcp"),))])
    assert topo.exposes("x", 22).value is None
    assert topo.exposes("y", 8080).value is True and topo.exposes("y", 8101).value is False
    assert topo.exposes("y", 8080).reason == "y exposes 8080/tcp (by 8000-8100/tcp)"


@pytest.mark.parametrize(
    ("src", "dst", "port", "transport", "value", "reason"),
    [
        ("8.8.8.8", "10.10.0.10", 443, "tcp", True, "policy internet -> dmz allows 443/tcp"),
        (
            "8.8.8.8",
            "10.10.0.10",
            22,
            "tcp",
            False,
            "policy internet -> dmz does not allow 22/tcp (allows 80/tcp, 443/tcp)",
        ),
        (
            "8.8.8.8",
            "10.30.0.10",
            5432,
            "tcp",
            False,
            "no policy internet -> servers: all traffic denied",
        ),
        (
            "10.10.0.10",
            "10.10.0.11",
            443,
            "tcp",
            False,
            "intra_zone: deny in dmz: all traffic denied",
        ),
        (
            "10.30.0.20",
            "10.30.0.10",
            5432,
            "tcp",
            True,
            "intra-zone traffic servers -> servers allows 5432/tcp (by any)",
        ),
        ("10.40.0.5", "10.30.0.10", 1, "udp", True, "policy mgmt -> servers allows 1/udp (by any)"),
        ("10.20.1.15", "8.8.8.8", 53, "udp", True, "policy corp -> internet allows 53/udp"),
        ("10.20.1.15", "8.8.8.8", 53, "tcp", False, None),
        ("10.20.1.15", "10.30.0.30", None, "tcp", True, None),
        ("x", "10.30.0.30", 445, "tcp", None, "source 'x' is in no known zone"),
        ("10.20.1.15", None, 445, "tcp", None, "destination None is in no known zone"),
    ],
)
def test_can_reach(example, src, dst, port, transport, value, reason):
    answer = example.can_reach(src, dst, port, transport)
    assert answer.value is value
    if reason:
        assert answer.reason == reason
    assert {"source.zone", "destination.zone"} <= set(answer.detail)


def test_explicit_policy_opens_an_intra_deny_zone():
    topo = Topology(
        zones=[Zone("dmz", ("10.0.0.0/24",), intra_zone="deny")],
        policies=[Policy("dmz", "dmz", (Service.parse("22/tcp"),))],
    )
    assert topo.can_reach("10.0.0.1", "10.0.0.2", 22).value is True
    assert topo.can_reach("10.0.0.1", "10.0.0.2", 80).value is False


def test_no_zones_means_unknown():
    topo = Topology(assets=[Asset("a", ips=("10.0.0.1",))])
    assert topo.can_reach("10.0.0.1", "10.0.0.2", 22).value is None


@pytest.mark.parametrize(
    ("when", "value"),
    [
        ("2026-11-20T01:00:00Z", True),  # start is inside
        ("2026-11-20T02:59:59.999Z", True),
        ("2026-11-20T03:00:00Z", False),  # end is outside
        ("2026-11-20T00:59:59Z", False),
        ("2026-11-20T02:00:00", True),  # naive = UTC
        ("2026-11-20T03:30:00+01:00", True),  # 02:30 UTC
        ("2026-11-20T03:30:00-01:00", False),  # 04:30 UTC
        (datetime(2026, 11, 20, 1, 30, tzinfo=timezone(timedelta(hours=-1))), True),  # 02:30 UTC
        (pd.Timestamp("2026-11-20T01:30:00Z"), True),
    ],
)
def test_change_window_boundaries(example, when, value):
    answer = example.in_change_window("db01", when)
    assert answer.value is value
    if value:
        assert answer.detail["ticket"] == "CHG-4711" and "CHG-4711" in answer.reason


def test_change_window_unknowns(example):
    assert example.in_change_window("web01", "2026-11-20T02:00:00Z").value is False
    assert example.in_change_window("nope", "2026-11-20T02:00:00Z").value is None
    assert example.in_change_window("db01", None).value is None
    assert example.in_change_window("DB01.corp.example.com", pd.NaT).value is None


def test_criticality_and_tags(example):
    assert example.criticality("db01") == "critical"
    assert example.criticality("scanner01") == "low"
    assert example.criticality("nope") == example.criticality(None) == "unknown"
    assert example.has_tag("10.40.0.5", "authorized-scanner")
    assert example.has_tag("jump01", "jump-host") and not example.has_tag("web01", "jump-host")
    assert not example.has_tag(None, "monitoring")


def test_pivot_paths(example):
    assert example.pivot_path("203.0.113.7", "db01") == ["zone:internet", "web01", "db01"]
    assert example.pivot_path("internet", "10.30.0.10", port=5432) == [
        "zone:internet",
        "web01",
        "db01",
    ]
    # dmz -> servers allows no 22, but app01 (8080) sits next to db01 in servers
    assert example.pivot_path("web01", "db01", port=22) == ["web01", "app01", "db01"]
    path = example.pivot_path("internet", "fs01", port=22)
    assert (
        path[:2] == ["zone:internet", "web01"]
        and path[2] in ("app01", "db01")
        and path[3] == "fs01"
    )
    assert example.pivot_path("ws-alice", "db01") == ["ws-alice", "app01", "db01"]
    assert example.pivot_path("web01", "web02") is None  # dmz intra deny, nothing else back in
    assert example.pivot_path("db01", "db01") == ["db01"]
    assert example.pivot_path("jump01", "fw01") == ["jump01", "fw01"]
    assert example.pivot_path("web01", "nope") is None
    assert example.pivot_path("web01", "internet") is None


def test_path_to_crown_jewel(example):
    answer = example.path_to_crown_jewel("db01")
    assert answer.value is True and answer.detail["path"] == ["db01"]
    answer = example.path_to_crown_jewel("web01")
    assert answer.value is True and answer.detail["path"] == ["web01", "db01"]
    assert "web01 -> db01" in answer.reason
    assert example.path_to_crown_jewel("ws-bob").detail["path"][-1] == "db01"
    assert example.path_to_crown_jewel("nope").value is None


def test_no_path_to_crown_jewel():
    topo = Topology(
        zones=[Zone("a", ("10.0.0.0/24",)), Zone("b", ("10.0.1.0/24",))],
        assets=[
            Asset("x", ips=("10.0.0.1",), services=()),
            Asset(
                "gem",
                ips=("10.0.1.1",),
                services=(Service.parse("22/tcp"),),
                tags=frozenset({"crown-jewel"}),
            ),
        ],
    )
    answer = topo.path_to_crown_jewel("x")
    assert answer.value is False and answer.detail["path"] == []


def test_blast_radius(example):
    radius = example.blast_radius("web01")
    assert radius == [("db01", "critical", 1), ("app01", "high", 1), ("fs01", "high", 2)]
    assert example.blast_radius("nope") == []
    from_mgmt = example.blast_radius("jump01")
    assert from_mgmt[:2] == [("db01", "critical", 1), ("fw01", "critical", 1)]
    assert {a for a, _, _ in from_mgmt} == {
        "db01",
        "fw01",
        "app01",
        "fs01",
        "web01",
        "web02",
        "monitor01",
        "ids01",
        "scanner01",
    }  # not the workstations: services: []


def test_graph_shape(example):
    g = example.graph
    assert g.edges["asset:db01", "zone:servers"]["kind"] == "member"
    assert g.edges["zone:internet", "zone:dmz"]["kind"] == "policy"
    assert [str(s) for s in g.edges["zone:internet", "asset:web01"]["services"]] == [
        "80/tcp",
        "443/tcp",
    ]
    assert not g.has_edge("zone:dmz", "zone:dmz")  # intra_zone: deny
    assert g.nodes["asset:db01"]["criticality"] == "critical"


def test_answer_shape():
    a = Answer(True, "because", {"k": 1})
    assert bool(a) and not Answer(None, "?") and not Answer(False, "no")
    assert a.to_dict() == {"value": True, "reason": "because", "detail": {"k": 1}}
