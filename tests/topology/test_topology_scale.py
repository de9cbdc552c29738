"""Big topologies: the vectorised lookups and enrich columns against a brute-force reference,
and loading 10,000 assets / 1,000 zones from YAML with file:line errors intact."""

from __future__ import annotations

import ipaddress
import random

import pandas as pd
import pyarrow as pa
import pytest

from secops.enrich import INTERNAL_NETWORKS, enrich
from secops.errors import ContentErrors
from secops.topology import Asset, Topology, Zone, load_topology
from secops.topology.ipindex import PrefixTable, canonical_ip

STRING = pd.ArrowDtype(pa.string())
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str | None) -> IP | None:
    """What the lookups treat as an address: IPv4-mapped IPv6 is its IPv4 address."""
    try:
        ip = ipaddress.ip_address(text) if text is not None else None
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class Reference:
    """The answers one address at a time, with `ipaddress` networks and plain dicts."""

    def __init__(self, zones: list[Zone], assets: list[Asset]) -> None:
        self.zones = {ipaddress.ip_network(c): z.name for z in zones for c in z.cidrs}
        self.lengths = sorted({n.prefixlen for n in self.zones}, reverse=True)
        self.catch_all = {z.name for z in zones if any(c.endswith("/0") for c in z.cidrs)}
        self.by_ip = {ipaddress.ip_address(ip): a.name for a in assets for ip in a.ips}
        self.first_ip = {a.name: a.ips[0] for a in assets if a.ips}

    def zone(self, text: str | None) -> str | None:
        ip = _address(text)
        for length in self.lengths if ip is not None else ():
            if length <= ip.max_prefixlen:
                name = self.zones.get(ipaddress.ip_network((ip, length), strict=False))
                if name is not None:
                    return name
        return None

    def asset(self, text: str | None) -> str | None:
        ip = _address(text)
        return self.by_ip.get(ip) if ip is not None else None

    def locality(self, text: str | None) -> str | None:
        if text is None:
            return None
        ip, zone = _address(text), self.zone(text)
        private = ip is not None and any(
            ip.version == n.version and ip in n for n in INTERNAL_NETWORKS
        )
        specific = zone is not None and zone not in self.catch_all
        return "internal" if private or self.asset(text) or specific else "external"


def _world(seed: int, n_zones: int = 1000, n_assets: int = 10_000):
    """Nested zones of many prefix lengths (IPv4 and IPv6, a catch-all) and assets in them."""
    rng = random.Random(seed)
    cidrs = {"0.0.0.0/0", "10.0.0.0/8", "2001:db8::/32", "2001:db8:1::/48", "203.0.113.0/24"}
    while len(cidrs) < n_zones:
        length = rng.choice([12, 16, 20, 24, 24, 24, 28, 30, 31, 32])
        base = rng.choice([10 << 24, (172 << 24) | (16 << 16), rng.getrandbits(32)])
        addr = (base | rng.getrandbits(32 - 8)) & 0xFFFFFFFF if base == 10 << 24 else base
        cidrs.add(str(ipaddress.ip_network((addr, length), strict=False)))
    zones = [Zone(f"z{i}", (c,)) for i, c in enumerate(sorted(cidrs))]
    networks = [ipaddress.ip_network(c) for c in sorted(cidrs) if not c.startswith("0.")]
    ips: set[str] = set()
    while len(ips) < n_assets:
        net = rng.choice(networks)
        ips.add(str(net[rng.randrange(min(net.num_addresses, 1 << 16))]))
    assets = [
        Asset(f"a{i}", ips=(ip,), hostnames=(f"a{i}.corp.example.com",))
        for i, ip in enumerate(sorted(ips))
    ]
    return zones, assets, networks, rng


def _queries(networks, assets, rng: random.Random) -> list[str | None]:
    """Edges of every network (first, last, one outside each side), asset IPs, random
    addresses, IPv6, IPv4-mapped IPv6 and things that are not addresses."""
    out: list[str | None] = []
    for net in networks:
        first, last = int(net.network_address), int(net.broadcast_address)
        cls = type(net.network_address)
        for n in (first - 1, first, last, last + 1):
            if 0 <= n < 2**net.max_prefixlen:
                out.append(str(cls(n)))
    out += [a.ips[0] for a in rng.sample(assets, 2000)]
    out += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(2000)]
    out += [
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(2000)
    ]
    out += ["::ffff:" + a.ips[0] for a in assets[:50] if ":" not in a.ips[0]]
    out += ["2001:db8:1::5", "2001:db8:2::1", "fd00::1", "::1", "2a00::1"]
    out += [None, "", "x", "1.2.3", "256.1.1.1", "010.0.0.1", "10.0.0.1/24", "::ffff:zz"]
    rng.shuffle(out)
    return out


@pytest.fixture(scope="module")
def world():
    zones, assets, networks, rng = _world(seed=11)
    topo = Topology(zones=zones, assets=assets)
    return topo, Reference(zones, assets), _queries(networks, assets, rng)


def test_column_lookups_agree_with_brute_force(world):
    topo, ref, queries = world
    ips = pd.Series(queries, dtype=STRING)
    assert topo.zone_of_ip(ips).tolist() == [ref.zone(q) or pd.NA for q in queries]
    assert topo.asset_of_ip(ips).tolist() == [ref.asset(q) or pd.NA for q in queries]
    assert [topo.zone_of(q) for q in queries] == [ref.zone(q) for q in queries]


def test_enrich_columns_agree_with_brute_force(world):
    topo, ref, queries = world
    rng = random.Random(5)
    dst = queries[:]
    rng.shuffle(dst)
    names = [a.name for a in rng.sample(topo.assets, 300)]
    hosts = names + [n.upper() + ".corp.example.com." for n in names] + [None, "nope", "x.y"]
    hosts = (hosts * (len(queries) // len(hosts) + 1))[: len(queries)]
    frame = pd.DataFrame(
        {"source.ip": queries, "destination.ip": dst, "host.name": hosts}, dtype=STRING
    )
    out = enrich(frame, topo)
    for side, col in (("source", queries), ("destination", dst)):
        assert out[f"{side}.asset"].tolist() == [ref.asset(q) or pd.NA for q in col]
        assert out[f"{side}.zone"].tolist() == [ref.zone(q) or pd.NA for q in col]
        assert out[f"{side}.locality"].tolist() == [ref.locality(q) or pd.NA for q in col]
    want_asset = [
        h.lower().split(".")[0] if h and h.lower().startswith("a") else None for h in hosts
    ]
    assert out["host.asset"].tolist() == [a or pd.NA for a in want_asset]
    want_zone = [ref.zone(ref.first_ip[a]) if a else None for a in want_asset]
    assert out["host.zone"].tolist() == [z or pd.NA for z in want_zone]
    assert all(out[c].dtype == STRING for c in out.columns)


def test_enrich_on_an_empty_topology_and_empty_frame():
    frame = pd.DataFrame(
        {"source.ip": ["10.0.0.1", None, "8.8.8.8"], "destination.ip": [None] * 3}, dtype=STRING
    )
    frame["host.name"] = pd.Series(["h", None, "h"], dtype=STRING)
    out = enrich(frame, Topology.empty())
    assert out["source.locality"].tolist() == ["internal", pd.NA, "external"]
    assert out["source.zone"].isna().all() and out["host.asset"].isna().all()
    empty = enrich(frame.iloc[:0], Topology.empty())
    assert len(empty) == 0 and empty["host.zone"].dtype == STRING


@pytest.mark.parametrize(
    "network",
    ["10.1.2.3", "10.1.2.3/24", "10.0.0.0/255.255.0.0", "2001:DB8::/32", "10.9.8.7/31"],
)
def test_prefix_table_spellings(network):
    """Host bits, netmask and IPv6 spellings mean what `ipaddress` says they mean."""
    table = PrefixTable([(network, 7)])
    net = ipaddress.ip_network(network, strict=False)
    inside, outside = net[0], net[-1] + 1
    assert table.lookup_one(str(inside)) == 7 and table.lookup_one(str(outside)) == -1
    texts = pa.array([str(inside), str(outside)])
    assert table.lookup_many(texts).tolist() == [7, -1]


@pytest.mark.parametrize(
    "text, want",
    [
        ("10.0.0.1", "10.0.0.1"),
        (" 192.168.1.254 ", "192.168.1.254"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("::ffff:10.0.0.1", "::ffff:a00:1"),
    ],
)
def test_canonical_ip(text, want):
    assert canonical_ip(text) == want == str(ipaddress.ip_address(text.strip()))


@pytest.mark.parametrize("text", ["010.0.0.1", "256.0.0.1", "10.0.0", "x", ""])
def test_canonical_ip_rejects(text):
    with pytest.raises(ValueError):
        canonical_ip(text)


def _yaml(zones: list[Zone], assets: list[Asset]) -> str:
    lines = ["zones:"]
    lines += [f'  - {{name: {z.name}, cidrs: ["{z.cidrs[0]}"]}}' for z in zones]
    lines += ["assets:"]
    lines += [
        f'  - {{name: {a.name}, ips: ["{a.ips[0]}"], services: ["22/tcp", "443/tcp"], '
        f"criticality: high, tags: []}}"
        for a in assets
    ]
    return "\n".join(lines) + "\n"


def test_load_10k_assets_1k_zones_from_yaml(tmp_path, world):
    topo, _ref, queries = world
    path = tmp_path / "big.yaml"
    path.write_text(_yaml(list(topo.zones), list(topo.assets)), encoding="utf-8")
    loaded = load_topology(path)
    assert len(loaded.zones) == 1000 and len(loaded.assets) == 10_000
    assert loaded.assets[123].to_dict() == {
        "name": topo.assets[123].name,
        "ips": list(topo.assets[123].ips),
        "criticality": "high",
        "services": ["22/tcp", "443/tcp"],
    }
    ips = pd.Series(queries, dtype=STRING)
    assert loaded.zone_of_ip(ips).equals(topo.zone_of_ip(ips))
    assert loaded.asset_of_ip(ips).equals(topo.asset_of_ip(ips))


def test_errors_deep_in_a_big_file_keep_their_line(tmp_path, world):
    topo, _ref, _queries = world
    lines = _yaml(list(topo.zones[:50]), list(topo.assets[:5000])).splitlines()
    row = 53 + 4000  # "zones:", 50 zones, "assets:", then asset 4000 (lines count from 1)
    lines[row - 1] = lines[row - 1].replace('ips: ["', 'ips: ["999.')
    lines[row + 9] = lines[row + 9].replace("22/tcp", "22/tpc")
    lines.append(lines[60])  # asset 8 (line 61) again
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContentErrors) as info:
        load_topology(path)
    got = sorted((e.location.line, e.message) for e in info.value.errors)
    name, ip = topo.assets[8].name, topo.assets[8].ips[0]
    want = [
        (row, f"assets[4000] ({topo.assets[4000].name}): bad IP address '999."),
        (row + 10, f"assets[4010] ({topo.assets[4010].name}): bad service '22/tpc'"),
        (
            len(lines),
            f"assets[5000] ({name}): duplicate asset '{name}', first defined at {path}:61",
        ),
        (len(lines), f"assets[5000] ({name}): duplicate IP '{ip}', first defined at {path}:61"),
    ]
    assert len(got) == len(want)
    for (line, message), (want_line, start) in zip(got, sorted(want), strict=True):
        assert line == want_line and message.startswith(start), (line, message)
    assert all(e.location.file == str(path) for e in info.value.errors)


def test_crown_jewel_question_without_jewels_builds_no_graph(world):
    topo = Topology(zones=world[0].zones, assets=world[0].assets)
    answer = topo.path_to_crown_jewel(topo.assets[0].name)
    assert answer.value is False
    assert "graph" not in vars(topo)  # the cached graph was never built
