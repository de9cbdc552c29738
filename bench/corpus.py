"""Deterministic bulk corpus for `make bench`: one mixed syslog file, its ground truth, and a
matching topology of configurable size.

Line types (the six of issue 5): sshd, sudo, netfilter (kernel), Cisco ASA, Apache access
(no syslog header, as a central collector receives it) and noise (systemd / cron / postfix).
Background traffic comes from large address pools, so no window rule can fire by chance;
planted episodes and decoys come from their own ranges (198.51.100.0/24, 203.0.113.0/24):

- brute force: 12 failed SSH logins from one source in 110 s (ssh-brute-force: 10 in 5m);
- vertical scan: 20 distinct ports of one target in 57 s (port-scan-vertical: 15 in 5m);
- decoys: the same counts spread over hours (only an arrival-time window flags them), 9
  failures in a burst (under the threshold), 60 hits on one port (a count is not a distinct
  count), and a scan by the asset tagged `authorized-scanner` (the topology cuts it).

Everything random comes from `numpy.random.default_rng(seed)` in a fixed order: the same
arguments give byte-identical files (tests/bench checks it).
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2026, 11, 20, tzinfo=UTC)
SPAN_S = 86_400
#: share of background lines per type (the episodes come on top)
MIX = {"sshd": 0.25, "sudo": 0.05, "netfilter": 0.2, "asa": 0.2, "apache": 0.2, "noise": 0.1}
PORTS = np.array([22, 23, 25, 53, 80, 110, 143, 443, 445, 993, 1433, 3306, 3389, 8080])
USERS = ["root", "admin", "test", "oracle", "postgres", "ubuntu", "guest", "user", "pi", "git"]
OPS = ["alice", "bob", "carol", "dave", "erin"]
PATHS = ["/", "/index.html", "/login", "/api/v1/items", "/static/app.js", "/favicon.ico"]
STATUS = np.array([200, 200, 200, 200, 301, 304, 404, 403, 500])
NOISE = [
    "systemd[1]: Started Session {n} of user {u}.",
    "CRON[{p}]: (root) CMD (run-parts /etc/cron.hourly)",
    "postfix/smtpd[{p}]: connect from unknown[{ip}]",
    "systemd-logind[{p}]: New session {n} of user {u}.",
    "ntpd[{p}]: adjusting local clock by 0.00{n}s",
]
FW_HOST, ASA_HOST = "fw01", "asa01"


@dataclass
class Truth:
    """What a correct correlator raises (`raised`) and must not (`decoys`), by rule and key."""

    raised: list[dict[str, str]] = field(default_factory=list)
    decoys: list[dict[str, str]] = field(default_factory=list)
    cut: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"raised": self.raised, "decoys": self.decoys, "cut": self.cut}


# ------------------------------------------------------------------------------------------
# topology


def asset_ip(i: int) -> str:
    zone = i // 10
    return f"10.{zone // 256}.{zone % 256}.{10 + i % 10}"


def asset_name(i: int) -> str:
    return f"srv{i:05d}"


SCANNER = 9  # asset 9 is the authorized scanner


def write_topology(out: Path, assets: int, zones: int, seed: int) -> Path:
    """`assets` assets, 10 per zone, in `zones` inner zones (at least enough for the assets)
    plus the internet; assets 0-9 are the same whatever the size, so findings do not change."""
    rng = np.random.default_rng(seed + 1)
    zones = max(zones, (assets + 9) // 10)
    out.mkdir(parents=True, exist_ok=True)
    zlines = ["zones:", '  - {name: internet, cidrs: ["0.0.0.0/0"]}']
    zlines += [
        f'  - {{name: z{z:04d}, cidrs: ["10.{z // 256}.{z % 256}.0/24"]}}' for z in range(zones)
    ]
    alines = ["assets:"]
    for i in range(assets):
        tags = "[authorized-scanner]" if i == SCANNER else "[]"
        crit = ["low", "medium", "high", "critical"][int(rng.integers(4))]
        alines.append(
            f'  - {{name: {asset_name(i)}, ips: ["{asset_ip(i)}"], role: server, os: linux, '
            f'criticality: {crit}, services: ["22/tcp", "80/tcp", "443/tcp"], tags: {tags}}}'
        )
    plines = [
        "policies:",
        '  - {from: internet, to: z0000, allow: ["22/tcp", "80/tcp", "443/tcp"]}',
    ]
    for _ in range(min(2 * zones, 5000) if zones > 1 else 0):
        a, b = rng.integers(zones, size=2)
        if a != b:
            port = int(PORTS[rng.integers(len(PORTS))])
            plines.append(f'  - {{from: z{a:04d}, to: z{b:04d}, allow: ["{port}/tcp"]}}')
    (out / "zones.yaml").write_text("\n".join(zlines) + "\n")
    (out / "assets.yaml").write_text("\n".join(alines) + "\n")
    (out / "policies.yaml").write_text("\n".join(plines) + "\n")
    (out / "change_windows.yaml").write_text("change_windows: []\n")
    return out


# ------------------------------------------------------------------------------------------
# lines


class Clock:
    """Timestamp texts per second, formatted once (many lines share a second)."""

    def __init__(self) -> None:
        self._bsd: dict[int, str] = {}
        self._apache: dict[int, str] = {}

    def bsd(self, s: int) -> str:
        text = self._bsd.get(s)
        if text is None:
            t = START + timedelta(seconds=s)
            text = self._bsd[s] = f"{t:%b} {t.day:>2} {t:%H:%M:%S}"
        return text

    def apache(self, s: int) -> str:
        text = self._apache.get(s)
        if text is None:
            t = START + timedelta(seconds=s)
            text = self._apache[s] = f"{t:%d/%b/%Y:%H:%M:%S} +0000"
        return text


def _ip(v: int) -> str:
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


def _pool(rng: np.random.Generator, n: int) -> list[str]:
    """External addresses outside the episode ranges (first octet 20-190, not 10/127)."""
    first = rng.integers(20, 190, size=n)
    rest = rng.integers(0, 1 << 24, size=n)
    return [_ip(int(a) << 24 | int(b)) for a, b in zip(first, rest, strict=True)]


def sshd_fail(c: Clock, s: int, host: str, pid: int, user: str, ip: str, port: int) -> str:
    return f"{c.bsd(s)} {host} sshd[{pid}]: Failed password for {user} from {ip} port {port} ssh2"


def netfilter(c: Clock, s: int, src: str, dst: str, spt: int, dpt: int, ident: int) -> str:
    return (
        f"{c.bsd(s)} {FW_HOST} kernel: [{s + 1000:>7}.{ident % 1000000:06d}] IPTABLES-DROP "
        f"IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC={src} DST={dst} "
        f"LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID={ident % 65536} DF PROTO=TCP SPT={spt} DPT={dpt} "
        "WINDOW=1024 RES=0x00 SYN URGP=0"
    )


def asa_deny(c: Clock, s: int, src: str, dst: str, spt: int, dpt: int) -> str:
    return (
        f"{c.bsd(s)} {ASA_HOST} %ASA-4-106023: Deny tcp src outside:{src}/{spt} "
        f'dst inside:{dst}/{dpt} by access-group "outside_in" [0x0, 0x0]'
    )


def _background(
    rng: np.random.Generator, c: Clock, n: int, first: int, total: int, hosts: int
) -> list[tuple[int, str]]:
    """Lines `first`..`first+n` of `total` background lines, spread evenly over the day."""
    secs = ((np.arange(first, first + n) * SPAN_S) // max(total, 1)).tolist()
    kinds = rng.choice(len(MIX), size=n, p=list(MIX.values())).tolist()
    a = rng.integers(0, 1 << 30, size=(n, 6)).tolist()
    pool = _pool(rng, 4096)
    big = rng.integers(0, 1 << 24, size=n).tolist()  # which external source (from 16M)
    out = []
    for s, k, r, b in zip(secs, kinds, a, big, strict=True):
        src = pool[b % 4096] if k == 4 else _ip((20 + b % 170) << 24 | (b * 2654435761) % (1 << 24))
        dst = asset_ip(r[0] % hosts)
        host = asset_name(r[1] % hosts)
        if k == 0:
            sub = r[2] % 10
            if sub < 6:
                line = sshd_fail(
                    c, s, host, r[3] % 60000, USERS[r[4] % 10], src, 1024 + r[5] % 60000
                )
            elif sub < 8:
                line = f"{c.bsd(s)} {host} sshd[{r[3] % 60000}]: Connection closed by {src} port {1024 + r[5] % 60000} [preauth]"
            elif sub < 9:
                line = f"{c.bsd(s)} {host} sshd[{r[3] % 60000}]: Invalid user {USERS[r[4] % 10]}{r[5] % 100} from {src} port {1024 + r[5] % 60000}"
            else:
                line = f"{c.bsd(s)} {host} sshd[{r[3] % 60000}]: Accepted publickey for {OPS[r[4] % 5]} from 10.0.0.{r[5] % 250} port {1024 + r[2] % 60000} ssh2"
        elif k == 1:
            u = OPS[r[2] % 5]
            line = f"{c.bsd(s)} {host} sudo:    {u} : TTY=pts/{r[3] % 9} ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/systemctl restart app{r[4] % 20}"
        elif k == 2:
            line = netfilter(c, s, src, dst, 1024 + r[2] % 60000, int(PORTS[r[3] % 14]), r[4])
        elif k == 3:
            line = asa_deny(c, s, src, dst, 1024 + r[2] % 60000, int(PORTS[r[3] % 14]))
        elif k == 4:
            status = int(STATUS[r[2] % 9])
            line = (
                f'{src} - - [{c.apache(s)}] "GET {PATHS[r[3] % 6]}?id={r[4]} HTTP/1.1" {status} '
                f'{r[5] % 50000} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/{100 + r[2] % 30}.0"'
            )
        else:
            tmpl = NOISE[r[2] % len(NOISE)]
            msg = tmpl.format(n=r[3] % 9999, u=OPS[r[4] % 5], p=r[5] % 60000, ip=src)
            line = f"{c.bsd(s)} {host} {msg}"
        out.append((s, line))
    return out


# ------------------------------------------------------------------------------------------
# episodes


def episodes(
    rng: np.random.Generator, c: Clock, truth: Truth, scale: float = 1.0
) -> list[tuple[int, str]]:
    """Planted episodes and decoys, at fixed places in the day (their starts times `scale`
    for a longer or shorter span)."""
    lines: list[tuple[int, str]] = []
    target, host = asset_ip(0), asset_name(0)

    def ssh(base: int, ip: str, count: int, every: int) -> None:
        base = int(base * scale)
        for j in range(count):
            lines.append(
                (
                    base + j * every,
                    sshd_fail(c, base + j * every, host, 4000 + j, "root", ip, 40000 + j),
                )
            )

    def scan(base: int, src: str, count: int, every: int, ports: list[int], asa: bool) -> None:
        base = int(base * scale)
        for j in range(count):
            s = base + j * every
            dpt = ports[j % len(ports)]
            lines.append(
                (
                    s,
                    asa_deny(c, s, src, target, 50000 + j, dpt)
                    if asa
                    else netfilter(c, s, src, target, 50000 + j, dpt, j),
                )
            )

    ports = sorted(set(range(1, 1024, 37)))[:20]
    for i in range(20):  # brute force: 12 in 110 s
        ip = f"198.51.100.{10 + i}"
        ssh(1800 + i * 4000 + int(rng.integers(600)), ip, 12, 10)
        truth.raised.append({"rule": "ssh-brute-force", "source.ip": ip})
    for i in range(10):  # decoy: 12 over 2 hours
        ip = f"198.51.100.{100 + i}"
        ssh(3000 + i * 7000, ip, 12, 600)
        truth.decoys.append({"rule": "ssh-brute-force", "source.ip": ip})
    for i in range(5):  # decoy: 9 in a burst
        ip = f"198.51.100.{150 + i}"
        ssh(5000 + i * 15000, ip, 9, 5)
        truth.decoys.append({"rule": "ssh-brute-force", "source.ip": ip})
    for i in range(10):  # vertical scans: 20 ports in 57 s
        ip = f"203.0.113.{10 + i}"
        scan(2500 + i * 8000 + int(rng.integers(600)), ip, 20, 3, ports, asa=i % 2 == 1)
        truth.raised.append(
            {"rule": "port-scan-vertical", "source.ip": ip, "destination.ip": target}
        )
    for i in range(5):  # decoy: 20 ports over 3 hours
        ip = f"203.0.113.{100 + i}"
        scan(4000 + i * 15000, ip, 20, 540, ports, asa=False)
        truth.decoys.append(
            {"rule": "port-scan-vertical", "source.ip": ip, "destination.ip": target}
        )
    for i in range(3):  # decoy: 60 hits on one port in a minute
        ip = f"203.0.113.{150 + i}"
        scan(6000 + i * 20000, ip, 60, 1, [443], asa=True)
        truth.decoys.append(
            {"rule": "port-scan-vertical", "source.ip": ip, "destination.ip": target}
        )
    scanner = asset_ip(SCANNER)  # the authorized scanner: cut by the topology
    scan(50000, scanner, 20, 3, ports, asa=False)
    truth.cut.append({"rule": "port-scan-vertical", "source.ip": scanner, "destination.ip": target})
    return sorted(lines)


def generate(out: Path, lines: int, seed: int, hosts: int = 10) -> Truth:
    """Write `out` (the corpus) and `out`.truth.json; returns the truth."""
    rng = np.random.default_rng(seed)
    c = Clock()
    truth = Truth()
    planted = episodes(rng, c, truth)
    total = max(lines - len(planted), 0)
    step = 200_000

    def background() -> Iterator[tuple[int, str]]:
        for first in range(0, total, step):
            yield from _background(rng, c, min(step, total - first), first, total, hosts)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", buffering=8 << 20) as fh:
        buf: list[str] = []
        for _, line in heapq.merge(background(), planted, key=lambda e: e[0]):
            buf.append(line)
            if len(buf) >= 100_000:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            fh.write("\n".join(buf) + "\n")
    tmp.replace(out)
    truth_path(out).write_text(json.dumps(truth.to_dict(), indent=1) + "\n")
    return truth


def truth_path(corpus: Path) -> Path:
    return corpus.with_name(corpus.name + ".truth.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--topology", type=Path, help="also write a topology here")
    ap.add_argument("--assets", type=int, default=10)
    ap.add_argument("--zones", type=int, default=1)
    args = ap.parse_args(argv)
    generate(args.out, args.lines, args.seed)
    if args.topology:
        write_topology(args.topology, args.assets, args.zones, args.seed)
    print(f"wrote {args.out} ({args.lines} lines)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
