"""Corpus families for `make bench` (issue 14, "no cliffs"): each a seeded, vectorised
generator with its ground truth, so a tool can be timed and checked on the shapes of input
that used to fall off a cliff.

- sparse: five days of mixed traffic (few lines a second).
- dense: four hours of RFC 3164 syslog (apache 30%, Cisco ASA 26%, netfilter 20%, sshd 9.5%
  of which 1.5% accepted logins and 2% failures, sudo 2.5% of which ~15% are
  `pam_unix(sudo:auth): authentication failure` lines) from a handful of users on 8 hosts:
  the failing sudo users never succeed, so their `[host.name, user.name]` sequences stay open.
- many-keys: one day, sources drawn from 100,000 addresses.
- out-of-order: one day as a site collects it: a file per device (firewall, ASA, web), each
  spanning the whole day, and a relay interleaving the servers whose clocks are up to 2
  minutes apart (each within ±1 min of true time).
- episode: one day with one brute force of 100,000 failures (one episode, one finding).

On top of the background every family plants the bench corpus's episodes and decoys
(`bench.corpus`), placed over its span, and privilege escalations after sudo failures (with
decoys: one failure only). Background keys are drawn so that no rule fires by chance.
Lines are built column-wise with Arrow compute in blocks of `BLOCK` lines (memory bounded):
the same (family, lines, seed) gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench.corpus import (
    ASA_HOST,
    FW_HOST,
    NOISE,
    OPS,
    PATHS,
    PORTS,
    START,
    STATUS,
    USERS,
    Clock,
    Truth,
    asset_ip,
    asset_name,
    episodes,
    sshd_fail,
    truth_path,
)

BLOCK = 250_000  # lines generated at a time (~250 MB)
#: users who fail sudo and never succeed (their sequences stay open)
STUCK = ["deploy", "backup", "nagios"]
KINDS = (
    "sshd_fail", "sshd_closed", "sshd_invalid", "sshd_accept", "sudo_cmd", "sudo_pam_fail",
    "netfilter", "asa", "apache", "noise",
)  # fmt: skip
MIXED = {
    "sshd_fail": 0.15, "sshd_closed": 0.05, "sshd_invalid": 0.025, "sshd_accept": 0.025,
    "sudo_cmd": 0.045, "sudo_pam_fail": 0.005, "netfilter": 0.2, "asa": 0.2, "apache": 0.2,
    "noise": 0.1,
}  # fmt: skip
DENSE = {
    "sshd_fail": 0.02, "sshd_closed": 0.04, "sshd_invalid": 0.02, "sshd_accept": 0.015,
    "sudo_cmd": 0.02125, "sudo_pam_fail": 0.00375, "netfilter": 0.20, "asa": 0.26,
    "apache": 0.30, "noise": 0.12,
}  # fmt: skip
#: the relay's servers: seconds their clocks are ahead (server 0, the planted target, is right)
RELAY_SKEW = (0, 60, -60, 30, -30, 45, -45, 15, -15, 55)


@dataclass(frozen=True)
class Family:
    name: str
    span_s: int
    mix: dict[str, float] = field(default_factory=lambda: MIXED)
    hosts: int = 10
    pool: int = 0  # distinct external sources (0: any of ~2.8 billion)
    split: bool = False  # a file per device + a skewed relay (a folder)
    episode: int = 0  # events of the one long episode


FAMILIES = {
    f.name: f
    for f in (
        Family("sparse", 5 * 86_400),
        Family("dense", 4 * 3_600, mix=DENSE, hosts=8),
        Family("many-keys", 86_400, pool=100_000),
        Family("out-of-order", 86_400, split=True),
        Family("episode", 86_400, episode=100_000),
    )
}
FILES = ("asa.log", "fw.log", "relay.log", "web.log")  # out-of-order: where each line goes
_ASA, _FW, _RELAY, _WEB = range(4)
_DEVICES = {"netfilter": _FW, "asa": _ASA, "apache": _WEB}


# ------------------------------------------------------------------------------------------
# columns


def _s(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _pick(choices: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(choices, pa.string()).take(pa.array(idx))


def _ip(v: np.ndarray) -> pa.Array:
    return _join(*[x for s in (24, 16, 8, 0) for x in (_s((v >> s) & 255), ".")][:-1])


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


class _Stamps:
    """Syslog (`Nov 20 08:00:00`) and Apache stamps of seconds since START (Arrow strftime
    over the distinct seconds, then taken per line)."""

    def bsd(self, secs: np.ndarray) -> pa.Array:
        uniq, inverse = np.unique(secs, return_inverse=True)
        ts = _times(uniq)
        day = pc.utf8_lpad(_s(pc.day(ts).to_numpy()), width=2, padding=" ")
        text = _join(pc.strftime(ts, "%b "), day, pc.strftime(ts, " %H:%M:%S"))
        return text.take(pa.array(inverse))

    def apache(self, secs: np.ndarray) -> pa.Array:
        uniq, inverse = np.unique(secs, return_inverse=True)
        return pc.strftime(_times(uniq), "%d/%b/%Y:%H:%M:%S +0000").take(pa.array(inverse))


def _times(secs: np.ndarray) -> pa.Array:
    return pa.array(int(START.timestamp()) + secs, pa.timestamp("s", tz="UTC"))


def _sources(rng: np.random.Generator, fam: Family, n: int) -> np.ndarray:
    """External source addresses (first octet 20-189: outside 10/8 and the planted ranges)."""
    if fam.pool:
        ids = rng.integers(0, fam.pool, size=n)
        return ((20 + ids % 170) << 24) | ((ids * 2654435761) % (1 << 24))
    return (rng.integers(20, 190, size=n) << 24) | rng.integers(0, 1 << 24, size=n)


def _lines(
    kind: str, secs: np.ndarray, r: np.ndarray, src: np.ndarray, fam: Family, st: _Stamps
) -> tuple[pa.Array, np.ndarray]:
    """Background lines of one kind and the host index of each (-1: not a server)."""
    n = len(secs)
    host_i = r[:, 0] % fam.hosts
    host = _pick([asset_name(i) for i in range(fam.hosts)], host_i)
    pid, port = _s(r[:, 1] % 60000), _s(1024 + r[:, 2] % 60000)
    head = _join(st.bsd(secs), " ", host)
    if kind == "sshd_fail":
        user = _pick(USERS, r[:, 3] % len(USERS))
        body = ["sshd[", pid, "]: Failed password for ", user, " from ", _ip(src)]
        return _join(head, " ", *body, " port ", port, " ssh2"), host_i
    if kind == "sshd_closed":
        body = ["sshd[", pid, "]: Connection closed by ", _ip(src), " port ", port, " [preauth]"]
        return _join(head, " ", *body), host_i
    if kind == "sshd_invalid":
        user = _join(_pick(USERS, r[:, 3] % len(USERS)), _s(r[:, 4] % 100))
        body = ["sshd[", pid, "]: Invalid user ", user, " from ", _ip(src), " port ", port]
        return _join(head, " ", *body), host_i
    if kind == "sshd_accept":
        op, inner = _pick(OPS, r[:, 3] % len(OPS)), _s(r[:, 4] % 250)
        body = ["sshd[", pid, "]: Accepted publickey for ", op, " from 10.0.0.", inner]
        return _join(head, " ", *body, " port ", port, " ssh2"), host_i
    if kind == "sudo_cmd":
        op, tty = _pick(OPS, r[:, 3] % len(OPS)), _s(r[:, 4] % 9)
        body = [" sudo:    ", op, " : TTY=pts/", tty, " ; PWD=/home/", op, " ; USER=root ; "]
        cmd = ["COMMAND=/usr/bin/systemctl restart app", _s(r[:, 5] % 20)]
        return _join(head, *body, *cmd), host_i
    if kind == "sudo_pam_fail":
        u = _pick(STUCK, r[:, 3] % len(STUCK))
        body = [" sudo: pam_unix(sudo:auth): authentication failure; logname=", u]
        rest = [
            " uid=1001 euid=0 tty=/dev/pts/",
            _s(r[:, 4] % 9),
            " ruser=",
            u,
            " rhost=  user=",
            u,
        ]
        return _join(head, *body, *rest), host_i
    dst = _ip(np.array([_ip_int(asset_ip(0))], dtype=np.int64)[0] + r[:, 0] % fam.hosts)
    dpt = _s(PORTS[r[:, 3] % len(PORTS)])
    none = np.full(n, -1)
    if kind == "netfilter":
        return _netfilter(secs, _ip(src), dst, port, dpt, r[:, 4], st), none
    if kind == "asa":
        body = [" %ASA-4-106023: Deny tcp src outside:", _ip(src), "/", port, " dst inside:"]
        tail = ' by access-group "outside_in" [0x0, 0x0]'
        return _join(st.bsd(secs), " ", ASA_HOST, *body, dst, "/", dpt, tail), none
    if kind == "apache":
        path = _pick(PATHS, r[:, 3] % len(PATHS))
        status = _s(STATUS[r[:, 1] % len(STATUS)])
        req = [' "GET ', path, "?id=", _s(r[:, 4]), ' HTTP/1.1" ', status, " ", _s(r[:, 5] % 50000)]
        agent = [' "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/', _s(100 + r[:, 2] % 30), '.0"']
        return _join(_ip(src), " - - [", st.apache(secs), "]", *req, *agent), none
    return _noise(head, r), host_i


def _ip_int(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


def _netfilter(secs, src, dst, spt, dpt, ident, st: _Stamps) -> pa.Array:
    up = _s(secs + 1000)
    frac = _s(ident % 1_000_000)  # not zero-padded: still a kernel-like uptime
    mac = " IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC="
    return _join(
        st.bsd(secs), f" {FW_HOST} kernel: [", up, ".", frac, "] IPTABLES-DROP", mac, src,
        " DST=", dst, " LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=", _s(ident % 65536),
        " DF PROTO=TCP SPT=", spt, " DPT=", dpt, " WINDOW=1024 RES=0x00 SYN URGP=0",
    )  # fmt: skip


def _noise(head: pa.Array, r: np.ndarray) -> pa.Array:
    texts = [
        t.format(n=n, u=OPS[n % 5], p=1000 + n, ip=f"192.0.2.{n % 250}")
        for t in NOISE
        for n in range(40)
    ]
    return _join(head, " ", _pick(texts, r[:, 3] % len(texts)))


# ------------------------------------------------------------------------------------------
# planted episodes


@dataclass
class _Planted:
    secs: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    files: list[int] = field(default_factory=list)

    def add(self, s: int, line: str, file: int) -> None:
        self.secs.append(s)
        self.lines.append(line)
        self.files.append(file)


def _episodes(rng: np.random.Generator, fam: Family, truth: Truth, lines: int) -> _Planted:
    """The bench corpus's episodes and decoys with their starts scaled to the span, sudo
    escalations, and the family's long episode; in time order."""
    c, p = Clock(), _Planted()
    for s, line in episodes(rng, c, truth, fam.span_s / 86_400):
        device = line[16:].split(" ", 1)[0]  # after the 15-character stamp
        p.add(s, line, _ASA if device == ASA_HOST else _FW if device == FW_HOST else _RELAY)
    _sudo(c, p, fam, truth)
    if fam.episode:
        _long(c, p, fam, truth, min(fam.episode, lines // 2))
    order = np.argsort(np.array(p.secs), kind="stable")
    return _Planted(*([col[i] for i in order] for col in (p.secs, p.lines, p.files)))


def _sudo(c: Clock, p: _Planted, fam: Family, truth: Truth) -> None:
    """Three users fail sudo twice then become root (raised); two fail once (decoys)."""
    for i in range(5):
        host, user = asset_name(1 + i % (fam.hosts - 1)), f"mallory{i}"
        s = int((7000 + i * 13000) * fam.span_s / 86_400)
        fails = 2 if i < 3 else 1
        for j in range(fails):
            p.add(s + 20 * j, _pam_fail(c, s + 20 * j, host, user), _RELAY)
        cmd = f"{c.bsd(s + 90)} {host} sudo:    {user} : TTY=pts/3 ; PWD=/home/{user} ; "
        p.add(s + 90, cmd + "USER=root ; COMMAND=/bin/bash", _RELAY)
        key = {"rule": "privilege-escalation-after-failures", "host.name": host, "user.name": user}
        (truth.raised if i < 3 else truth.decoys).append(key)


def _pam_fail(c: Clock, s: int, host: str, user: str) -> str:
    return (
        f"{c.bsd(s)} {host} sudo: pam_unix(sudo:auth): authentication failure; logname={user} "
        f"uid=1001 euid=0 tty=/dev/pts/3 ruser={user} rhost=  user={user}"
    )


def _long(c: Clock, p: _Planted, fam: Family, truth: Truth, events: int) -> None:
    """`events` failures from one source over the span, at most 20 s apart (an episode)."""
    ip, host = "198.51.100.250", asset_name(1)
    every = min((fam.span_s - 1200) / max(events, 1), 20.0)
    secs = (600 + np.arange(events) * every).astype(np.int64)
    for j, s in enumerate(secs.tolist()):
        p.add(s, sshd_fail(c, s, host, 7000 + j % 1000, "root", ip, 1024 + j % 60000), _RELAY)
    truth.raised.append({"rule": "ssh-brute-force", "source.ip": ip})


# ------------------------------------------------------------------------------------------
# writing


def _background(
    rng: np.random.Generator, fam: Family, first: int, n: int, total: int, st: _Stamps
) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Lines `first`..`first + n` of `total`, evenly over the span: (seconds, lines, file)."""
    secs = (np.arange(first, first + n, dtype=np.int64) * fam.span_s) // max(total, 1)
    shares = np.array([fam.mix[k] for k in KINDS])
    kinds = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    r = rng.integers(0, 1 << 30, size=(n, 6))
    src = _sources(rng, fam, n)
    parts, where, files = [], [], []
    for k, kind in enumerate(KINDS):
        rows = np.flatnonzero(kinds == k)
        if not len(rows):
            continue
        stamp = secs[rows]
        if fam.split and kind not in _DEVICES:  # the relay: each server's own clock
            stamp = stamp + np.array(RELAY_SKEW)[(r[rows, 0] % fam.hosts) % len(RELAY_SKEW)]
        lines, _host = _lines(kind, stamp, r[rows], src[rows], fam, st)
        parts.append(lines)
        where.append(rows)
        f = _DEVICES.get(kind, _RELAY)
        files.append(np.full(len(rows), f))
    order = np.argsort(np.concatenate(where), kind="stable")
    lines = pa.concat_arrays(parts).take(pa.array(order))
    return secs, lines, np.concatenate(files)[order]


def _blocks(
    rng: np.random.Generator, fam: Family, total: int, planted: _Planted
) -> Iterator[tuple[pa.Array, np.ndarray]]:
    """(lines, file of each) in time order, a block of background at a time with the
    planted lines of its seconds merged in (ties: background first)."""
    st, psecs, done = _Stamps(), np.array(planted.secs, dtype=np.int64), 0
    for first in range(0, max(total, 1), BLOCK):
        n = min(BLOCK, total - first)
        secs, lines, files = _background(rng, fam, first, n, total, st)
        last = first + n >= total
        upto = len(psecs) if last else int(np.searchsorted(psecs, secs[-1], side="right"))
        plant = slice(done, upto)
        done = upto
        when = np.concatenate([secs, psecs[plant]])
        order = pa.array(np.argsort(when, kind="stable"))
        both = pa.concat_arrays([lines, pa.array(planted.lines[plant], pa.string())])
        where = np.concatenate([files, np.array(planted.files[plant], dtype=np.int64)])
        yield both.take(order), where[order.to_numpy()]


def _write_lines(fh, lines: pa.Array) -> None:
    """Each line and a newline, straight from the Arrow buffer."""
    if not len(lines):
        return
    ended = pc.binary_join_element_wise(lines, "\n", "")
    offsets = np.frombuffer(ended.buffers()[1], dtype=np.int32)[ended.offset :]
    data = ended.buffers()[2]
    fh.write(memoryview(data)[offsets[0] : offsets[len(ended)]])


def generate(out: Path, family: str, lines: int, seed: int) -> Truth:
    """Write the family's corpus at `out` (a file; a folder of FILES when split) and its
    truth beside it (`bench.corpus.truth_path`); returns the truth."""
    fam = FAMILIES[family]
    rng = np.random.default_rng(seed)
    truth = Truth()
    planted = _episodes(rng, fam, truth, lines)
    total = max(lines - len(planted.lines), 0)
    paths = [out / name for name in FILES] if fam.split else [out]
    (out if fam.split else out.parent).mkdir(parents=True, exist_ok=True)
    handles = [open(p, "wb", buffering=8 << 20) for p in paths]  # noqa: SIM115
    try:
        for block, files in _blocks(rng, fam, total, planted):
            if not fam.split:
                _write_lines(handles[0], block)
                continue
            for f, fh in enumerate(handles):
                _write_lines(fh, block.filter(pa.array(files == f)))
    finally:
        for fh in handles:
            fh.close()
    truth_path(out).write_text(json.dumps(truth.to_dict(), indent=1) + "\n")
    return truth


def inputs_of(out: Path) -> list[Path]:
    """The files of a generated corpus (one, or the split family's folder)."""
    return sorted(out.iterdir()) if out.is_dir() else [out]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.families", description=__doc__.split("\n")[0]
    )
    ap.add_argument("out", type=Path)
    ap.add_argument("--family", choices=sorted(FAMILIES), required=True)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)
    generate(args.out, args.family, args.lines, args.seed)
    print(f"wrote {args.out} ({args.family}, {args.lines} lines)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
