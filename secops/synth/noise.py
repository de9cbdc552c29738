"""Background noise: everyday traffic and logins that must not look like any episode."""

from __future__ import annotations

from datetime import datetime, timedelta

from .content import ADMIN_COMMANDS, AGENTS, ATTACK_USERS, MISSING_PATHS, NOISE_ALERTS, WEB_PATHS
from .story import Cast
from .world import World

# ------------------------------------------------------------------------------------------
# noise


def add_noise(g: World, cast: Cast, noise_per_hour: int) -> int:
    rng = g.rng
    hours = (g.end - g.start).total_seconds() / 3600
    target = int(noise_per_hour * hours)
    names = [a.name for a in g.t.assets]
    linux = [n for n in names if g.linux(n) and g.assets[n].role != "firewall"]
    ssh_hosts = [n for n in linux if g.exposes(n, 22)]
    public = [n for n in names if "public-facing" in g.assets[n].tags and g.linux(n)]
    servers = [n for n in linux if g.zone[n] in ("servers",)]
    dmz = [n for n in linux if g.zone[n] == "dmz"]
    jump = g.cast["jump"]
    jump_ip = g.ip(jump)
    staff = [e for e in g.cast["employees"] if e not in cast.busy_users]
    admins = [a for a in g.cast["admins"] if a not in cast.busy_users] or staff[:2]
    clients = [g.public_ip() for _ in range(400)]
    corp_clients = sorted(set(cast.ws_ip.values()))
    dns_ip = g.public_ip()

    def span() -> datetime:
        return g.start + timedelta(seconds=rng.uniform(0, (g.end - g.start).total_seconds()))

    def web_visit() -> None:
        host = rng.choice(public)
        c = rng.choice(clients)
        ts = span()
        ag = rng.choice(AGENTS)
        port = 443 if rng.random() < 0.8 else 80
        spt = g.port()
        n = rng.randint(1, 8)
        g.asa_conn(
            ts - timedelta(milliseconds=50),
            c,
            spt,
            g.ip(host),
            port,
            rng.uniform(1, 30),
            rng.randint(800, 90000),
        )
        for _ in range(n):
            ts += timedelta(seconds=rng.uniform(0.1, 12))
            if rng.random() < 0.03:
                g.web(ts, host, c, "GET", rng.choice(MISSING_PATHS), 404, ag)
            else:
                g.web(
                    ts,
                    host,
                    c,
                    rng.choice(("GET",) * 9 + ("POST",)),
                    rng.choice(WEB_PATHS),
                    rng.choice((200,) * 8 + (304, 301)),
                    ag,
                )
        if rng.random() < 0.3:
            g.eve_flow(
                ts + timedelta(seconds=rng.uniform(30, 120)),
                c,
                spt,
                g.ip(host),
                port,
                "tls" if port == 443 else "http",
                rng.uniform(1, 60),
            )

    def employee_login() -> None:
        u = rng.choice(staff + admins)
        if rng.random() < 0.6 and dmz:
            host, src = rng.choice(dmz), cast.ws_ip[u]
        else:
            host, src = rng.choice([h for h in ssh_hosts if h != jump] or ssh_hosts), jump_ip
            if rng.random() < 0.5:
                g.ssh_accept(span(), jump, u, cast.ws_ip[u], close_after=rng.uniform(300, 3000))
        ts = span()
        if rng.random() < 0.5:
            g.kern(ts - timedelta(milliseconds=20), host, "IPTABLES-ACCEPT:", src, g.ip(host), 22)
        g.ssh_accept(ts, host, u, src, close_after=rng.uniform(30, 2400))
        if u in admins and host not in (jump,) and rng.random() < 0.5:
            g.sudo_cmd(
                ts + timedelta(seconds=rng.uniform(10, 300)), host, u, rng.choice(ADMIN_COMMANDS)
            )
        elif u in admins and rng.random() < 0.2:
            t2 = ts + timedelta(seconds=rng.uniform(10, 300))
            g.auth(
                t2,
                host,
                "su",
                g.nextpid(),
                f"pam_unix(su:session): session opened for user root(uid=0) by {u}(uid={g.uid(u)})",
            )
            g.auth(
                t2 + timedelta(seconds=rng.uniform(5, 200)),
                host,
                "su",
                g.pid,
                "pam_unix(su:session): session closed for user root",
            )

    def cron() -> None:
        host = rng.choice(linux)
        ts = span().replace(second=1, microsecond=rng.randint(0, 999999))
        pid = g.nextpid()
        user = rng.choice(("root", "root", "www-data", "postgres"))
        g.auth(
            ts,
            host,
            "CRON",
            pid,
            f"pam_unix(cron:session): session opened for user {user}(uid={g.uid(user)}) by (uid=0)",
        )
        g.auth(
            ts + timedelta(seconds=rng.uniform(0.1, 40)),
            host,
            "CRON",
            pid,
            f"pam_unix(cron:session): session closed for user {user}",
        )

    def app_traffic() -> None:
        if not dmz or not servers:
            return
        src, dst = rng.choice(dmz), rng.choice(servers)
        port = next(
            (
                p
                for p in (5432, 8080)
                if g.exposes(dst, p) and g.zone_allows(g.zone[src], g.zone[dst], p)
            ),
            None,
        )
        if port is None:
            return
        g.asa_conn(
            span(),
            g.ip(src),
            g.port(),
            g.ip(dst),
            port,
            rng.uniform(0.1, 300),
            rng.randint(300, 200000),
        )

    def internet_background() -> None:
        src = g.public_ip()
        host = rng.choice(dmz or linux)
        ts = span()
        for _ in range(rng.randint(1, 2)):
            dpt = rng.choice(
                (23, 445, 1433, 3389, 5900, 6379, 2375, 8088, 9200, 5555, 37215, 52869)
            )
            spt = g.port()
            if rng.random() < 0.5:
                g.asa_deny(ts, src, spt, g.ip(host), dpt)
            else:
                g.kern(ts, host, rng.choice(("FW-DROP", "[UFW BLOCK]")), src, g.ip(host), dpt, spt)
            ts += timedelta(seconds=rng.uniform(0.5, 60))

    def asa_self() -> None:
        g.asa(
            span(),
            "710003",
            f"TCP access denied by ACL from {g.public_ip()}/{g.port()} to outside:{g.fw_public}/"
            f"{rng.choice((22, 23, 443, 8443))}",
        )

    def ids_noise() -> None:
        ts = span()
        sig = rng.choice(NOISE_ALERTS)
        if rng.random() < 0.5:
            src, dst, dpt = rng.choice(corp_clients), g.public_ip(), rng.choice((80, 443))
        else:
            host = rng.choice(public)
            src, dst, dpt = rng.choice(clients), g.ip(host), rng.choice((80, 443))
        g.eve_alert(ts, src, g.port(), dst, dpt, sig, 3, "http" if dpt == 80 else "tls")

    def dns_flow() -> None:
        src = rng.choice(servers or linux)
        g.eve_flow(span(), g.ip(src), g.port(), dns_ip, 53, "dns", rng.uniform(0, 1), proto="UDP")

    def stray_failure() -> None:
        src, host = g.public_ip(), rng.choice(public)
        ts, pid, p = span(), g.nextpid(), g.port()
        u = rng.choice(ATTACK_USERS)
        if rng.random() < 0.5:
            g.ssh_fail_password(ts, host, u, src, u == "root", pid, p, pam=True)
            g.ssh_close_preauth(ts + timedelta(seconds=3), host, u, src, pid, p, u == "root")
        else:
            g.auth(ts, host, "sshd", pid, f"Connection closed by {src} port {p} [preauth]")

    actions = (
        (web_visit, 40),
        (employee_login, 10),
        (cron, 14),
        (app_traffic, 10),
        (internet_background, 8),
        (asa_self, 3),
        (ids_noise, 8),
        (dns_flow, 6),
        (stray_failure, 1),
    )
    funcs = [a for a, _ in actions]
    weights = [w for _, w in actions]
    base = g.out.count()
    while g.out.count() - base < target:
        rng.choices(funcs, weights)[0]()
    return g.out.count() - base
