"""The generator's state and its line writers: one `random.Random`, the topology, the output.

`World` draws IPs, ports, pids and times from the scenario's one random stream and renders
device lines (sshd, sudo, netfilter, ASA, Suricata, Apache) into per-file buffers.
"""

from __future__ import annotations

import base64
import ipaddress
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import formats as F
from .content import EMPLOYEES, PUBLIC_FIRST_OCTETS, TEST_NETS, ZONE_IFACE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from secops.topology import Topology

# ------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Expectation:
    """One line of ground truth: `rule` must come out `outcome` (raised | cut | none) for this entity."""

    story: str
    rule: str
    outcome: str
    technique: str | None = None
    entity: dict[str, Any] = field(default_factory=dict)
    reason_contains: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"story": self.story, "rule": self.rule, "outcome": self.outcome}
        if self.technique:
            out["technique"] = self.technique
        out.update(self.entity)
        if self.reason_contains:
            out["reason_contains"] = self.reason_contains
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Scenario:
    seed: int
    start: datetime
    end: datetime
    expected: list[Expectation]
    files: list[Path]
    lines: int
    cast: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# helpers


class _Out:
    """Collects (time, seq, line) per file; written sorted by time (stable)."""

    def __init__(self) -> None:
        self.files: dict[str, list[tuple[datetime, int, str]]] = {}
        self.seq = 0

    def add(self, rel: str, ts: datetime, line: str) -> None:
        self.seq += 1
        self.files.setdefault(rel, []).append((ts, self.seq, line))

    def count(self) -> int:
        return sum(len(v) for v in self.files.values())


def overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1


class World:
    def __init__(
        self, topo: Topology, rng: random.Random, start: datetime, hours: float, rfc3164: bool
    ) -> None:
        self.t = topo
        self.rng = rng
        self.start = start
        self.end = start + timedelta(hours=hours)
        self.rfc = rfc3164
        self.out = _Out()
        self.used_ips: set[str] = set()
        self.pid = rng.randint(1200, 9000)
        self.conn_id = rng.randint(100000, 900000)
        self.flow_id = rng.randint(10**14, 10**15)
        self.assets = {a.name: a for a in topo.assets}
        self.zone = {a.name: topo.zone_of_asset(a.name) for a in topo.assets}
        self.boot = {
            a.name: start - timedelta(seconds=rng.randint(200000, 9000000)) for a in topo.assets
        }
        self.mac = {a.name: self._mac() for a in topo.assets}
        self.gw_mac = self._mac()
        self.fw = next(
            (
                a.name
                for a in topo.assets
                if a.role == "firewall" or (a.os or "").startswith("cisco")
            ),
            "fw01",
        )
        self.ids = next((a.name for a in topo.assets if a.role == "ids-sensor"), "ids01")
        self.fw_public = self.public_ip()
        self.expected: list[Expectation] = []
        self.cast: dict[str, Any] = {}

    # -- primitive draws --------------------------------------------------------------------

    def _mac(self) -> str:
        return "00:16:3e:" + ":".join(f"{self.rng.randint(0, 255):02x}" for _ in range(3))

    def public_ip(self) -> str:
        while True:
            if self.rng.random() < 0.3:
                ip = f"{self.rng.choice(TEST_NETS)}.{self.rng.randint(2, 254)}"
            else:
                ip = (
                    f"{self.rng.choice(PUBLIC_FIRST_OCTETS)}.{self.rng.randint(0, 255)}."
                    f"{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
                )
                a = ipaddress.ip_address(ip)
                if not a.is_global:
                    continue
            if ip not in self.used_ips:
                self.used_ips.add(ip)
                return ip

    def zone_ip(self, zone: str, avoid: set[str] | None = None) -> str:
        """An unused IP in one of the zone's IPv4 CIDRs (not an asset's, not network/broadcast)."""
        z = next(z for z in self.t.zones if z.name == zone)
        nets = [ipaddress.ip_network(c) for c in z.cidrs if ipaddress.ip_network(c).version == 4]
        known = {ip for a in self.t.assets for ip in a.ips}
        while True:
            net = self.rng.choice(nets)
            ip = str(net.network_address + self.rng.randint(2, min(net.num_addresses - 2, 250)))
            if ip not in known and ip not in self.used_ips and not (avoid and ip in avoid):
                self.used_ips.add(ip)
                return ip

    def nextpid(self) -> int:
        self.pid += self.rng.randint(1, 40)
        if self.pid > 32000:
            self.pid = 1200 + self.pid % 1000
        return self.pid

    def port(self) -> int:
        return self.rng.randint(32768, 60999)

    def when(self, lo_min: float = 5, hi_tail_min: float = 5, span_min: float = 0) -> datetime:
        lo = self.start + timedelta(minutes=lo_min)
        hi = self.end - timedelta(minutes=hi_tail_min + span_min)
        if hi <= lo:
            hi = lo + timedelta(minutes=1)
        return lo + timedelta(seconds=self.rng.uniform(0, (hi - lo).total_seconds()))

    def free_time(
        self, span_min: float, hosts: list[str], busy: Sequence[tuple[datetime, datetime]] = ()
    ) -> datetime:
        """A start time for an episode of `span_min` minutes on `hosts`, outside their change windows."""
        for _ in range(2000):
            t0 = self.when(10, 5, span_min)
            t1 = t0 + timedelta(minutes=span_min)
            if any(self.in_window(h, t0, t1) for h in hosts):
                continue
            if any(overlaps(t0, t1, b0, b1) for b0, b1 in busy):
                continue
            return t0
        # the span is too short to dodge every window: go after the last one
        last = max(
            (w.end.to_pydatetime() for h in hosts for w in self.t.windows_of(h)), default=self.start
        )
        return max(last, self.start) + timedelta(minutes=5)

    def in_window(self, host: str, t0: datetime, t1: datetime) -> bool:
        return any(
            overlaps(t0, t1, w.start.to_pydatetime(), w.end.to_pydatetime())
            for w in self.t.windows_of(host)
        )

    def ip(self, host: str) -> str:
        return self.assets[host].ips[0]

    def exposes(self, host: str, port: int, transport: str = "tcp") -> bool:
        svcs = self.assets[host].services or ()
        return any(s.matches(port, transport) for s in svcs)

    def zone_allows(self, src_zone: str | None, dst_zone: str | None, port: int) -> bool:
        if not src_zone or not dst_zone:
            return False
        return any(s.matches(port, "tcp") for s in self.t.zone_allows(src_zone, dst_zone))

    def linux(self, host: str) -> bool:
        return (self.assets[host].os or "linux").lower() == "linux"

    # -- line writers -----------------------------------------------------------------------

    def auth(self, ts: datetime, host: str, tag: str, pid: int | None, msg: str) -> None:
        self.out.add(f"logs/{host}/auth.log", ts, F.syslog(ts, host, tag, pid, msg, self.rfc))

    def kern(
        self,
        ts: datetime,
        host: str,
        prefix: str,
        src: str,
        dst: str,
        dpt: int,
        spt: int | None = None,
        proto: str = "TCP",
        syn: bool = True,
    ) -> None:
        uptime = (ts - self.boot[host]).total_seconds()
        msg = F.netfilter_msg(
            uptime,
            prefix,
            in_if="eth0",
            mac=f"{self.mac[host]}:{self.gw_mac}:08:00",
            src=src,
            dst=dst,
            proto=proto,
            spt=spt or self.port(),
            dpt=dpt,
            ttl=self.rng.choice((48, 52, 54, 57, 63, 64, 118, 128)),
            ip_id=self.rng.randint(1, 65535),
            window=self.rng.choice((1024, 29200, 64240, 65535)),
            syn=syn,
        )
        self.out.add(f"logs/{host}/kern.log", ts, F.syslog(ts, host, "kernel", None, msg, self.rfc))

    def asa(self, ts: datetime, code: str, msg: str) -> None:
        self.out.add(f"logs/{self.fw}/asa.log", ts, F.asa(ts, self.fw, code, msg, self.rfc))

    def iface(self, ip: str) -> str:
        z = self.t.zone_of(ip) or "internet"
        return ZONE_IFACE.get(z, z)

    def asa_deny(self, ts: datetime, src: str, spt: int, dst: str, dpt: int) -> None:
        self.asa(
            ts,
            "106023",
            f"Deny tcp src {self.iface(src)}:{src}/{spt} dst {self.iface(dst)}:{dst}/{dpt} "
            f'by access-group "{self.iface(src)}_access_in" [0x0, 0x0]',
        )

    def asa_acl_deny(self, ts: datetime, src: str, spt: int, dst: str, dpt: int) -> None:
        self.asa(
            ts,
            "106100",
            f"access-list {self.iface(src)}_in denied tcp {self.iface(src)}/{src}({spt}) -> "
            f"{self.iface(dst)}/{dst}({dpt}) hit-cnt 1 first hit [0x0, 0x0]",
        )

    def asa_conn(
        self,
        ts: datetime,
        src: str,
        spt: int,
        dst: str,
        dpt: int,
        dur: float,
        nbytes: int,
        reason: str = "TCP FINs",
    ) -> None:
        self.conn_id += self.rng.randint(1, 9)
        cid = self.conn_id
        si, di = self.iface(src), self.iface(dst)
        self.asa(
            ts,
            "302013",
            f"Built inbound TCP connection {cid} for {si}:{src}/{spt} ({src}/{spt}) "
            f"to {di}:{dst}/{dpt} ({dst}/{dpt})",
        )
        end = ts + timedelta(seconds=dur)
        d = int(dur)
        self.asa(
            end,
            "302014",
            f"Teardown TCP connection {cid} for {si}:{src}/{spt} to {di}:{dst}/{dpt} "
            f"duration {d // 3600}:{d % 3600 // 60:02d}:{d % 60:02d} bytes {nbytes} {reason}",
        )

    def eve(self, ts: datetime, obj: dict) -> None:
        self.flow_id += self.rng.randint(1000, 10**9)
        head = {"timestamp": F.eve_ts(ts), "flow_id": self.flow_id, "in_iface": "eth1"}
        head.update(obj)
        head["host"] = self.ids
        self.out.add(f"logs/{self.ids}/eve.json", ts, F.eve(head))

    def eve_alert(
        self,
        ts: datetime,
        src: str,
        spt: int,
        dst: str,
        dpt: int,
        sig: tuple,
        severity: int,
        app_proto: str | None = "http",
    ) -> None:
        sid, rev, name, cat = sig
        obj: dict[str, Any] = {
            "event_type": "alert",
            "src_ip": src,
            "src_port": spt,
            "dest_ip": dst,
            "dest_port": dpt,
            "proto": "TCP",
        }
        if app_proto:
            obj["app_proto"] = app_proto
        obj["alert"] = {
            "action": "allowed",
            "gid": 1,
            "signature_id": sid,
            "rev": rev,
            "signature": name,
            "category": cat,
            "severity": severity,
        }
        self.eve(ts, obj)

    def eve_flow(
        self,
        ts: datetime,
        src: str,
        spt: int,
        dst: str,
        dpt: int,
        app_proto: str,
        dur: float,
        proto: str = "TCP",
    ) -> None:
        t0 = ts - timedelta(seconds=dur)
        pts, ptc = self.rng.randint(3, 40), self.rng.randint(3, 60)
        obj = {
            "event_type": "flow",
            "src_ip": src,
            "src_port": spt,
            "dest_ip": dst,
            "dest_port": dpt,
            "proto": proto,
            "app_proto": app_proto,
            "flow": {
                "pkts_toserver": pts,
                "pkts_toclient": ptc,
                "bytes_toserver": pts * self.rng.randint(60, 400),
                "bytes_toclient": ptc * self.rng.randint(60, 1400),
                "start": F.eve_ts(t0),
                "end": F.eve_ts(ts),
                "age": int(dur),
                "state": "closed" if proto == "TCP" else "established",
                "reason": "timeout",
                "alerted": False,
            },
        }
        self.eve(ts, obj)

    def web(
        self,
        ts: datetime,
        host: str,
        client: str,
        method: str,
        path: str,
        status: int,
        agent: str,
        referer: str = "-",
    ) -> None:
        size = 0 if status in (304, 204) else self.rng.randint(180, 48000)
        self.out.add(
            f"logs/{host}/access.log",
            ts,
            F.access(ts, client, method, path, status, size, referer, agent),
        )

    def fingerprint(self) -> str:
        raw = bytes(self.rng.randint(0, 255) for _ in range(32))
        return base64.b64encode(raw).decode().rstrip("=")

    def uid(self, user: str) -> int:
        if user == "root":
            return 0
        if user in EMPLOYEES:
            return 1000 + EMPLOYEES.index(user)
        return 900 + (sum(map(ord, user)) % 90)

    # -- sshd episodes -----------------------------------------------------------------------

    def ssh_accept(
        self,
        ts: datetime,
        host: str,
        user: str,
        src: str,
        method: str = "publickey",
        close_after: float | None = None,
    ) -> tuple[int, int]:
        pid, p = self.nextpid(), self.port()
        if method == "publickey":
            kind = self.rng.choice(("RSA", "ED25519", "ECDSA"))
            self.auth(
                ts,
                host,
                "sshd",
                pid,
                f"Accepted publickey for {user} from {src} port {p} ssh2: {kind} SHA256:{self.fingerprint()}",
            )
        else:
            self.auth(
                ts, host, "sshd", pid, f"Accepted password for {user} from {src} port {p} ssh2"
            )
        t = ts + timedelta(milliseconds=self.rng.randint(5, 60))
        self.auth(
            t,
            host,
            "sshd",
            pid,
            f"pam_unix(sshd:session): session opened for user {user}(uid={self.uid(user)}) by (uid=0)",
        )
        if close_after is not None:
            e = ts + timedelta(seconds=close_after)
            self.auth(
                e,
                host,
                "sshd",
                pid,
                f"Received disconnect from {src} port {p}:11: disconnected by user",
            )
            self.auth(e, host, "sshd", pid, f"Disconnected from user {user} {src} port {p}")
            self.auth(
                e + timedelta(milliseconds=3),
                host,
                "sshd",
                pid,
                f"pam_unix(sshd:session): session closed for user {user}",
            )
        return pid, p

    def ssh_fail_password(
        self, ts: datetime, host: str, user: str, src: str, valid: bool, pid: int, p: int, pam: bool
    ) -> None:
        if not valid and pam:
            self.auth(ts, host, "sshd", pid, f"Invalid user {user} from {src} port {p}")
        t = ts + timedelta(milliseconds=self.rng.randint(2, 30))
        if pam:
            ustr = f"  user={user}" if valid else ""
            self.auth(
                t,
                host,
                "sshd",
                pid,
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                f"tty=ssh ruser= rhost={src}{ustr}",
            )
        t2 = t + timedelta(milliseconds=self.rng.randint(1500, 2600))
        inv = "" if valid else "invalid user "
        self.auth(
            t2, host, "sshd", pid, f"Failed password for {inv}{user} from {src} port {p} ssh2"
        )

    def ssh_close_preauth(
        self,
        ts: datetime,
        host: str,
        user: str | None,
        src: str,
        pid: int,
        p: int,
        valid: bool = True,
    ) -> None:
        if user is None:
            self.auth(ts, host, "sshd", pid, f"Connection closed by {src} port {p} [preauth]")
        else:
            who = "authenticating user" if valid else "invalid user"
            self.auth(
                ts, host, "sshd", pid, f"Connection closed by {who} {user} {src} port {p} [preauth]"
            )

    def sudo_cmd(
        self, ts: datetime, host: str, user: str, cmd: str, tty: str = "pts/0", session: bool = True
    ) -> None:
        pid = self.nextpid()
        home = "/root" if user == "root" else f"/home/{user}"
        self.auth(
            ts, host, "sudo", None, f"{user} : TTY={tty} ; PWD={home} ; USER=root ; COMMAND={cmd}"
        )
        if session:
            t = ts + timedelta(milliseconds=self.rng.randint(1, 20))
            self.auth(
                t,
                host,
                "sudo",
                None,
                f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={self.uid(user)})",
            )
            self.auth(
                t + timedelta(seconds=self.rng.uniform(0.2, 30)),
                host,
                "sudo",
                None,
                "pam_unix(sudo:session): session closed for user root",
            )
        del pid

    def sudo_fail(
        self, ts: datetime, host: str, user: str, tty: str, cmd: str, three: bool
    ) -> None:
        self.auth(
            ts,
            host,
            "sudo",
            None,
            f"pam_unix(sudo:auth): authentication failure; logname={user} uid={self.uid(user)} euid=0 "
            f"tty=/dev/{tty} ruser={user} rhost=  user={user}",
        )
        if three:
            self.auth(
                ts + timedelta(seconds=self.rng.uniform(6, 14)),
                host,
                "sudo",
                None,
                f"{user} : 3 incorrect password attempts ; TTY={tty} ; PWD=/home/{user} ; USER=root ; COMMAND={cmd}",
            )
