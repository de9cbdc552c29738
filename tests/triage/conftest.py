"""Small real log files for the triage tests: a known-good look-alike and a real attack."""

from __future__ import annotations

from pathlib import Path

import pytest

PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389]
LINE = (
    "Nov 20 {hh:02d}:{mm:02d}:{ss:02d} web01 kernel: [1415876.263648] FW-DROP IN=eth0 OUT= "
    "SRC={src} DST=10.10.0.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP "
    "SPT={spt} DPT={dpt} WINDOW=1024 RES=0x00 SYN URGP=0\n"
)
AUTH = "Nov 20 05:00:{s:02d} web02 sshd[{pid}]: Failed password for root from 198.51.100.7 port {port} ssh2\n"


def scan(src: str, hh: int, mm: int) -> str:
    return "".join(
        LINE.format(hh=hh, mm=mm, ss=i * 3, src=src, spt=40000 + i, dpt=p)
        for i, p in enumerate(PORTS)
    )


@pytest.fixture
def story(tmp_path: Path) -> Path:
    """logs/: ws-alice's inventory scan of web01 (known-good, untagged), an external scan of
    web01 and an SSH brute force on web02 (both real)."""
    logs = tmp_path / "logs"
    (logs / "web01").mkdir(parents=True)
    (logs / "web02").mkdir()
    (logs / "web01" / "kern.log").write_text(
        scan("10.20.1.15", 2, 30) + scan("203.0.113.50", 3, 10)
    )
    (logs / "web02" / "auth.log").write_text(
        "".join(AUTH.format(s=i * 4, pid=100 + i, port=40000 + i) for i in range(12))
    )
    return logs


# the real-Elasticsearch fixtures (SECOPS_TEST_ES_URL, started by `make test`)
from tests.es.conftest import es_client, es_url  # noqa: E402, F401
