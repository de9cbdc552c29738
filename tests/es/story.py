"""A small attack story as raw logs, for the Elasticsearch tests (until samples/ lands).

web01 is brute-forced from the internet, the attacker gets in as `deploy` and runs sudo;
db01 (crown jewel) is brute-forced too; the firewall sees a vertical scan of web02 from the
internet and one from the authorized scanner (cut); the monitoring host's stale key (cut).
"""

from __future__ import annotations

from pathlib import Path

YEAR = 2026
PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389]


def _ts(minute: int, second: int) -> str:
    minute += second // 60
    return f"Nov 20 10:{minute:02d}:{second % 60:02d}"


def _failures(host: str, src: str, user: str, n: int, minute: int) -> list[str]:
    return [
        f"{_ts(minute, i * 5)} {host} sshd[{200 + i}]: Failed password for {user} from {src} "
        f"port {40000 + i} ssh2"
        for i in range(n)
    ]


def _scan(src: str, dst: str, minute: int) -> list[str]:
    return [
        f"{_ts(minute, i * 2)} fw01 kernel: [1234.{i:06d}] FW-DROP IN=eth0 OUT= SRC={src} "
        f"DST={dst} LEN=60 PROTO=TCP SPT={50000 + i} DPT={port} WINDOW=1 SYN URGP=0"
        for i, port in enumerate(PORTS)
    ]


def auth_web01() -> list[str]:
    return [
        *_failures("web01", "198.51.100.7", "root", 12, 0),
        f"{_ts(1, 10)} web01 sshd[300]: Accepted password for deploy from 198.51.100.7 port 41000 ssh2",
        f"{_ts(3, 0)} web01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; "
        "COMMAND=/bin/bash",
        *_failures("web01", "10.40.0.6", "nagios", 15, 5),
        f"{_ts(9, 0)} web01 sshd[1]: \x00 garbage that no parser knows",
    ]


def auth_db01() -> list[str]:
    return _failures("db01", "203.0.113.9", "postgres", 11, 2)


def firewall() -> list[str]:
    return [*_scan("203.0.113.50", "10.10.0.11", 4), *_scan("10.40.0.5", "10.10.0.11", 6)]


def write_story(root: Path, *, extra_failures: int = 0) -> Path:
    """Write the story under root/logs; `extra_failures` grows the web01 brute force."""
    logs = root / "logs"
    files = {
        "web01/auth.log": auth_web01(),
        "db01/auth.log": auth_db01(),
        "fw01/kern.log": firewall(),
    }
    if extra_failures:
        more = _failures("web01", "198.51.100.7", "admin", extra_failures, 0)
        files["web01/auth.log"] = sorted(files["web01/auth.log"] + more)
    for name, lines in files.items():
        path = logs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    return logs
