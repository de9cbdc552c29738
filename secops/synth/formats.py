"""Line renderers: each returns one raw log line exactly as the device (or rsyslog) writes it.

Formats: RFC 3164 syslog as rsyslog writes it to files (`Nov 20 06:55:46 web01 sshd[24200]: ...`),
or its high-precision RFC 3339 variant (`RSYSLOG_FileFormat`); Cisco ASA through syslog; Linux
netfilter through the kernel log; Suricata EVE JSON; Apache combined access log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

ASA_LEVELS = {"106023": 4, "106100": 4, "302013": 6, "302014": 6, "710003": 3}


def syslog_ts(ts: datetime, rfc3164: bool = True) -> str:
    if rfc3164:
        return f"{ts:%b} {ts.day:>2} {ts:%H:%M:%S}"
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def syslog(
    ts: datetime, host: str, tag: str, pid: int | None, msg: str, rfc3164: bool = True
) -> str:
    prog = f"{tag}[{pid}]" if pid is not None else tag
    return f"{syslog_ts(ts, rfc3164)} {host} {prog}: {msg}"


def asa(ts: datetime, host: str, code: str, msg: str, rfc3164: bool = True) -> str:
    return f"{syslog_ts(ts, rfc3164)} {host} %ASA-{ASA_LEVELS[code]}-{code}: {msg}"


def netfilter_msg(
    uptime: float,
    prefix: str,
    *,
    in_if: str,
    mac: str,
    src: str,
    dst: str,
    proto: str,
    spt: int,
    dpt: int,
    ttl: int,
    ip_id: int,
    window: int = 1024,
    syn: bool = True,
) -> str:
    flags = "SYN " if syn else "ACK "
    length = 60 if proto == "TCP" else 76
    body = (
        f"IN={in_if} OUT= MAC={mac} SRC={src} DST={dst} LEN={length} TOS=0x00 PREC=0x00 "
        f"TTL={ttl} ID={ip_id} {'DF ' if proto == 'TCP' else ''}PROTO={proto} SPT={spt} DPT={dpt}"
    )
    if proto == "TCP":
        body += f" WINDOW={window} RES=0x00 {flags}URGP=0"
    else:
        body += f" LEN={length - 20}"
    return f"[{uptime:12.6f}] {prefix} {body}"


def eve(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def eve_ts(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


def access(
    ts: datetime,
    client: str,
    method: str,
    path: str,
    status: int,
    size: int,
    referer: str,
    agent: str,
) -> str:
    size_s = str(size) if size > 0 else "-"
    return (
        f'{client} - - [{ts:%d/%b/%Y:%H:%M:%S} +0000] "{method} {path} HTTP/1.1" {status} {size_s} '
        f'"{referer}" "{agent}"'
    )
