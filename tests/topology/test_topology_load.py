from __future__ import annotations

import pandas as pd
import pytest

from secops.errors import ContentErrors, TopologyError
from secops.topology import (
    Asset,
    ChangeWindow,
    Policy,
    Service,
    Topology,
    Zone,
    load_topology,
)
from tests.helpers import EXAMPLE_TOPOLOGY as EXAMPLE

GOOD = """
zones:
  - {name: internet, cidrs: ["0.0.0.0/0"]}
  - {name: dmz, cidrs: ["10.10.0.0/24"]}
assets:
  - {name: web01, ips: ["10.10.0.10"], services: ["443/tcp"]}
policies:
  - {from: internet, to: dmz, allow: ["443/tcp"]}
change_windows:
  - {assets: [web01], start: "2026-11-20T01:00:00Z", end: "2026-11-20T03:00:00Z", ticket: CHG-1}
"""


def errors_of(path) -> list[TopologyError]:
    with pytest.raises(ContentErrors) as info:
        load_topology(path)
    assert info.value.exit_code == 78
    assert all(isinstance(e, TopologyError) for e in info.value.errors)
    return info.value.errors


def one_error(path) -> str:
    errors = errors_of(path)
    assert len(errors) == 1, [str(e) for e in errors]
    return str(errors[0])


def test_example_loads(example):
    assert (len(example.zones), len(example.assets)) == (5, 12)
    assert example.zone_of_asset("db01") == "servers"
    assert "crown-jewel" in example.asset("db01").tags
    assert example.change_windows[0].ticket == "CHG-4711"


def test_single_file_and_directory_merge(write, tmp_path):
    single = load_topology(write("one.yaml", GOOD))
    assert single.summary() == "2 zones, 1 assets, 1 policies, 1 change windows"
    write("dir/zones.yml", "zones:\n  - {name: dmz, cidrs: ['10.10.0.0/24']}\n")
    write("dir/sub/assets.yaml", "assets:\n  - {name: web01, ips: ['10.10.0.10']}\n")
    write("dir/empty.yaml", "")
    merged = load_topology(tmp_path / "dir")
    assert merged.zone_of_asset("web01") == "dmz"


def test_none_is_empty():
    topo = load_topology(None)
    for t in (topo, Topology.empty()):
        assert not (t.zones or t.assets or t.policies or t.change_windows)
    assert topo.exposes("web01", 22).value is None
    assert topo.can_reach("1.2.3.4", "10.0.0.1", 22).value is None
    assert topo.criticality("web01") == "unknown"
    s = pd.Series(["10.0.0.1", None], dtype="string[pyarrow]")
    assert topo.zone_of_ip(s).isna().all() and topo.asset_of_host(s).isna().all()


def test_defaults(write):
    topo = load_topology(write("t.yaml", "assets:\n  - {name: a1}\n"))
    a = topo.asset("a1")
    assert (a.criticality, a.services, a.tags, a.ips) == ("medium", None, frozenset(), ())


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            "assets:\n  - {name: web01, criticallity: high}\n",
            2,
            "assets[0] (web01): unknown key 'criticallity' (did you mean 'criticality'?)",
        ),
        (
            "zones:\n  - name: dmz\n    cidrs: ['10.10.0.5/24']\n",
            3,
            "zones[0] (dmz): bad CIDR '10.10.0.5/24'",
        ),
        ("zones:\n  - {name: dmz, cidrs: ['10.10.0.0/33']}\n", 2, "bad CIDR '10.10.0.0/33'"),
        (
            "assets:\n  - name: web01\n    ips: ['10.10.0.300']\n",
            3,
            "assets[0] (web01): bad IP address '10.10.0.300'",
        ),
        (
            "assets:\n  - name: web01\n\n    criticality: urgent\n",
            4,
            "bad criticality 'urgent': one of low, medium, high, critical",
        ),
        (
            "zones:\n  - {name: dmz, cidrs: ['10.10.0.0/24']}\npolicies:\n"
            "  - {from: internt, to: dmz, allow: [any]}\n",
            4,
            "policies[0] (internt->dmz): unknown zone 'internt'",
        ),
        (
            "assets:\n  - {name: db01}\nchange_windows:\n  - assets: [db1]\n"
            "    start: 2026-11-20T01:00:00Z\n    end: 2026-11-20T03:00:00Z\n    ticket: CHG-1\n",
            4,
            "change_windows[0] (CHG-1): unknown asset 'db1' (did you mean 'db01'?)",
        ),
        (
            "change_windows:\n  - assets: [db01]\n    start: '2026-11-20T03:00:00Z'\n"
            "    end: '2026-11-20T01:00:00Z'\n    ticket: CHG-1\n",
            4,
            "is before start",
        ),
        (
            "assets:\n  - {name: web01}\n  - just-a-string\n",
            3,
            "assets[1]: entry must be a mapping, got str 'just-a-string'",
        ),
        ("asets:\n  - {name: web01}\n", 1, "unknown section 'asets' (did you mean 'assets'?)"),
        ("assets:\n  - {name: web01, services: ['443']}\n", 2, "bad service '443'"),
        ("assets:\n  - {name: web01, services: [70000/tcp]}\n", 2, "ports must be 0-65535"),
        (
            "assets:\n  - {name: web01, tags: [authorised-scanner]}\n",
            2,
            "did you mean 'authorized-scanner'?",
        ),
        (
            "zones:\n  - {name: dmz, cidrs: ['10.10.0.0/24'], intra_zone: maybe}\n",
            2,
            "intra_zone must be 'allow' or 'deny'",
        ),
        (
            "policies:\n  - {from: a, to: a}\nzones:\n  - {name: a, cidrs: ['10.0.0.0/8']}\n",
            2,
            "missing 'allow'",
        ),
        (
            "change_windows:\n  - {assets: [x], start: soon, end: 2026-01-02, ticket: T}\n"
            "assets: [{name: x}]\n",
            2,
            "bad timestamp 'soon'",
        ),
        (
            "change_windows:\n  - {assets: [x], start: 2026-01-01, end: 2026-01-02}\n"
            "assets: [{name: x}]\n",
            2,
            "missing 'ticket'",
        ),
        ("- just\n- a list\n", 1, "top level must be a mapping"),
        ("zones: [\n", 2, "invalid YAML"),
        ("zones: !!python/object:os.system {}\n", 1, "invalid YAML"),
        ("zones: {name: dmz}\n", 1, "'zones' must be a list of entries"),
    ],
)
def test_each_error_has_file_line_entry(write, text, line, expected):
    path = write("bad.yaml", text)
    message = one_error(path)
    assert message.startswith(f"{path}:{line}"), message
    assert expected in message


def test_duplicates_point_to_first_definition(write):
    path = write(
        "dup.yaml",
        """
        zones:
          - {name: dmz, cidrs: ["10.10.0.0/24"]}
          - {name: dmz, cidrs: ["10.10.0.0/24"]}
        assets:
          - {name: web01, ips: ["10.10.0.10"], hostnames: [www.example.com]}
          - {name: WEB01, ips: ["10.10.0.10"]}
          - {name: web03, hostnames: [WWW.example.com]}
        """,
    )
    messages = [str(e) for e in errors_of(path)]
    assert (
        f"{path}:3: zones[1] (dmz): duplicate zone 'dmz', first defined at {path}:2" in messages[0]
    )
    assert any("duplicate CIDR '10.10.0.0/24'" in m for m in messages)
    assert any(
        m.startswith(f"{path}:6: assets[1] (WEB01): duplicate asset 'web01'") for m in messages
    )
    assert any("duplicate IP '10.10.0.10'" in m for m in messages)
    assert any(
        m.startswith(f"{path}:7:") and "duplicate host name 'www.example.com'" in m
        for m in messages
    )
    assert len(messages) == 5


def test_all_errors_collected_across_files(write, tmp_path):
    write("d/a.yaml", "zones:\n  - {name: dmz, cidrs: [nope]}\n")
    write("d/b.yaml", "assets:\n  - {name: x, ips: [bad], criticality: huge, colour: red}\n")
    write("d/c.yaml", "zones: [\n")
    errors = errors_of(tmp_path / "d")
    files = sorted({e.location.file.rsplit("/", 1)[-1] for e in errors})
    assert files == ["a.yaml", "b.yaml", "c.yaml"]
    assert len(errors) == 5  # CIDR, IP, criticality, unknown key, YAML syntax


def test_missing_path_and_empty_dir(tmp_path):
    assert "no such file or directory" in one_error(tmp_path / "nope.yaml")
    (tmp_path / "empty").mkdir()
    assert "no *.yaml" in one_error(tmp_path / "empty")


def test_single_values_and_ipv6_normalised(write):
    topo = load_topology(write("t.yaml", "assets:\n  - {name: a, ips: '2001:DB8::0001'}\n"))
    assert topo.asset("a").ips == ("2001:db8::1",)


def test_round_trip_dicts(example):
    for kind, items in (
        (Zone, example.zones),
        (Asset, example.assets),
        (Policy, example.policies),
        (ChangeWindow, example.change_windows),
    ):
        for item in items:
            assert kind.from_dict(item.to_dict()) == item
    assert example.to_dict()["assets"][0]["zone"] == "dmz"


@pytest.mark.parametrize(
    ("text", "port", "transport", "hit"),
    [
        ("any", 1, "udp", True),
        ("22/tcp", 22, "tcp", True),
        ("22/tcp", 22, "udp", False),
        ("8000-8100/tcp", 8050, None, True),
        ("8000-8100/tcp", 8101, "tcp", False),
        ("53/UDP", 53, "UDP", True),
    ],
)
def test_service_matches(text, port, transport, hit):
    assert Service.parse(text).matches(port, transport) is hit


def test_example_path_exists():
    assert sorted(p.name for p in EXAMPLE.iterdir()) == [
        "assets.yaml",
        "change_windows.yaml",
        "policies.yaml",
        "zones.yaml",
    ]


def test_invalid_entries_do_not_cascade(write):
    path = write(
        "t.yaml",
        """
        zones:
          - {name: dmz, cidrs: ["10.10.0.5/24"]}
        assets:
          - {name: db01, criticality: urgent}
        policies:
          - {from: dmz, to: dmz, allow: [any]}
        change_windows:
          - {assets: [db01], start: 2026-01-01, end: 2026-01-02, ticket: CHG-1}
        """,
    )
    messages = [str(e) for e in errors_of(path)]
    assert len(messages) == 2, messages
    assert "did you mean '10.10.0.0/24'?" in messages[0] and "bad criticality" in messages[1]
