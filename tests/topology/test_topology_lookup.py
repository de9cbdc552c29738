from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from secops.topology import Asset, Topology, Zone

STRING = pd.ArrowDtype(pa.string())


def values(s: pd.Series) -> list:
    """Series -> list with None for nulls."""
    return [None if v is pd.NA else v for v in s.tolist()]


def series(values, index=None) -> pd.Series:
    return pd.Series(values, dtype=STRING, index=index)


def test_longest_prefix_wins(example):
    ips = series(["10.30.0.10", "10.20.200.1", "10.10.1.1", "8.8.8.8", "10.40.0.255"])
    assert values(example.zone_of_ip(ips)) == ["servers", "corp", "internet", "internet", "mgmt"]


def test_nested_zones_and_ipv6():
    topo = Topology(
        zones=[
            Zone("all", ("0.0.0.0/0",)),
            Zone("ten", ("10.0.0.0/8",)),
            Zone("lab", ("10.1.2.0/24",)),
            Zone("host", ("10.1.2.3/32",)),
            Zone("v6", ("2001:db8::/32",)),
            Zone("v6lab", ("2001:db8:1::/48",)),
        ]
    )
    ips = series(
        [
            "10.1.2.3",
            "10.1.2.4",
            "10.9.9.9",
            "11.0.0.1",
            "2001:db8:1::5",
            "2001:db8:2::1",
            "::1",
            "::ffff:10.1.2.4",
            "garbage",
            "",
            None,
            "010.1.2.3",
            "10.1.2.3 ",
        ]
    )
    assert values(topo.zone_of_ip(ips)) == [
        "host",
        "lab",
        "ten",
        "all",
        "v6lab",
        "v6",
        None,
        "lab",
        None,
        None,
        None,
        None,
        None,
    ]
    assert topo.zone_of("10.1.2.3") == "host" and topo.zone_of("2001:db8:1::") == "v6lab"


def test_lookups_keep_index_dtype_and_nulls(example):
    ips = series(["10.10.0.10", None, "10.10.0.10", "1.1.1.1"], index=[7, 5, 3, 1])
    out = example.asset_of_ip(ips)
    assert out.dtype == STRING
    assert list(out.index) == [7, 5, 3, 1]
    assert values(out) == ["web01", None, "web01", None]
    assert example.asset_of_ip(series([])).dtype == STRING


def test_object_and_numpy_string_input(example):
    assert values(example.asset_of_ip(pd.Series(["10.30.0.10", None]))) == ["db01", None]
    assert values(example.zone_of_ip(pd.Series(["10.30.0.10"], dtype="string"))) == ["servers"]


def test_multi_ip_asset_and_first_ip_zone(example):
    ips = series(["10.40.0.1", "10.10.0.1", "10.30.0.1"])
    assert values(example.asset_of_ip(ips)) == ["fw01"] * 3
    assert example.zone_of_asset("fw01") == "mgmt"
    assert example.ips_of_asset("FW01")[0] == "10.40.0.1"
    assert example.ips_of_asset("nope") == ()


def test_host_names_case_fqdn_short(example):
    names = series(
        [
            "web01",
            "WEB01",
            "web01.example.com",
            "www.example.com.",
            "WWW.EXAMPLE.COM",
            "db01.corp.example.com",
            "db01.elsewhere.org",
            "app01",
            " fs01 ",
            "nope",
            "nope.example.com",
            None,
            "",
        ]
    )
    assert values(example.asset_of_host(names)) == [
        "web01",
        "web01",
        "web01",
        "web01",
        "web01",
        "db01",
        "db01",
        "app01",
        "fs01",
        None,
        None,
        None,
        None,
    ]
    assert example.asset("DB01.corp.example.com").name == "db01"
    assert example.asset("10.30.0.10").name == "db01"


def test_ambiguous_short_name_matches_nothing():
    topo = Topology(
        assets=[Asset("a", hostnames=("mail.one.com",)), Asset("b", hostnames=("mail.two.com",))]
    )
    out = topo.asset_of_host(series(["mail", "mail.one.com", "MAIL.two.com", "mail.three.com"]))
    assert values(out) == [None, "a", "b", None]


def _reference_zone(zones: list[Zone], ip: str | None) -> str | None:
    try:
        addr = ipaddress.ip_address(ip) if ip is not None else None
    except ValueError:
        return None
    best = None
    for z in zones:
        for c in z.cidrs:
            net = ipaddress.ip_network(c)
            if addr is not None and addr.version == net.version and addr in net:
                if best is None or net.prefixlen > best[0]:
                    best = (net.prefixlen, z.name)
    return best[1] if best else None


_networks = st.builds(
    lambda n, length: str(ipaddress.ip_network((n, length), strict=False)),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0, 1, 8, 12, 16, 20, 24, 28, 31, 32]),
)


@settings(max_examples=60, deadline=None)
@given(
    cidrs=st.lists(_networks, min_size=1, max_size=25, unique=True),
    extra=st.lists(st.integers(0, 2**32 - 1), max_size=30),
    data=st.data(),
)
def test_vectorised_agrees_with_scalar_reference(cidrs, extra, data):
    zones = [Zone(f"z{i}", (c,)) for i, c in enumerate(cidrs)]
    assets = [Asset(f"a{i}", ips=(str(ipaddress.ip_network(c)[0]),)) for i, c in enumerate(cidrs)]
    assets = list({a.ips: a for a in assets}.values())  # one asset per distinct IP
    topo = Topology(zones=zones, assets=assets)
    near = [
        str(ipaddress.ip_network(c)[0] + data.draw(st.integers(0, 3)))
        for c in cidrs
        if int(ipaddress.ip_network(c)[0]) < 2**32 - 4
    ]
    ips = near + [str(ipaddress.IPv4Address(n)) for n in extra] + [None, "x", "1.2.3"]
    got = values(topo.zone_of_ip(series(ips)))
    assert got == [_reference_zone(zones, ip) for ip in ips]
    assert got == [topo.zone_of(ip) for ip in ips]
    by_ip = {a.ips[0]: a.name for a in assets}
    assert values(topo.asset_of_ip(series(ips))) == [by_ip.get(ip) for ip in ips]


def test_10k_assets_1k_zones_1m_ips():
    n_small, n_assets = 998, 10_000
    zones = [Zone(f"z{i}", (f"10.{i // 256}.{i % 256}.0/24",)) for i in range(n_small)]
    zones += [Zone("wide", ("10.0.0.0/8",)), Zone("internet", ("0.0.0.0/0",))]
    assets = [
        Asset(
            f"a{j}",
            ips=(f"10.{(j % n_small) // 256}.{(j % n_small) % 256}.{1 + j // n_small}",),
            hostnames=(f"a{j}.corp.example.com",),
        )
        for j in range(n_assets)
    ]
    topo = Topology(zones=zones, assets=assets)
    assert len(topo.zones) == 1000 and len(topo.assets) == n_assets

    rng = np.random.default_rng(7)
    n = 1_000_000
    addrs = np.where(
        rng.random(n) < 0.8,
        (10 << 24) | rng.integers(0, 4 * 256 * 256, n),  # 10.0-3.x.x: zones + assets
        rng.integers(0, 2**32, n),
    ).astype(np.uint32)
    a, b, c, d = (addrs >> 24) & 255, (addrs >> 16) & 255, (addrs >> 8) & 255, addrs & 255
    text = [
        f"{w}.{x}.{y}.{z}"
        for w, x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), d.tolist(), strict=True)
    ]
    ips = series(text)

    idx = b * 256 + c
    in_small = (a == 10) & (idx < n_small)
    want_zone = np.where(
        in_small, np.char.add("z", idx.astype(str)), np.where(a == 10, "wide", "internet")
    )
    assert (topo.zone_of_ip(ips).to_numpy(dtype=object) == want_zone).all()

    j = (d.astype(np.int64) - 1) * n_small + idx
    is_asset = in_small & (d >= 1) & (j < n_assets)
    want_asset = np.where(is_asset, np.char.add("a", j.astype(str)), None)
    got_asset = topo.asset_of_ip(ips).to_numpy(dtype=object)
    assert (pd.isna(got_asset) == ~is_asset).all()
    assert (got_asset[is_asset] == want_asset[is_asset]).all()

    hosts = series(["A42.corp.example.com", "a9999", "a10000", "a5.other.net"])
    assert values(topo.asset_of_host(hosts)) == ["a42", "a9999", None, "a5"]
