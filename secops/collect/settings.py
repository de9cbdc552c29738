"""The collector daemon's settings, and their check before anything is bound (ConfigError)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secops import validate
from secops.errors import ConfigError

__all__ = ["KINDS", "ListenerSettings", "check", "pending_dir"]

KINDS = ("udp", "tcp", "tls")


@dataclass
class ListenerSettings:
    spool_dir: Path
    udp: str | None = "127.0.0.1:5514"
    tcp: str | None = "127.0.0.1:5514"
    tls: str | None = None
    cert: Path | None = None
    key: Path | None = None
    flush_lines: int = 5000
    flush_seconds: float = 1.0
    max_frame: int = 65536
    max_buffer: int = 32 << 20
    idle_timeout: float = 60.0
    max_connections: int = 1024
    stats_seconds: float = 60.0
    year: int | None = None
    tz: str = "UTC"
    dead_letter: str | Path | None = None
    log_file: Path | None = None
    pending_dir: Path | None = None  # default: <spool_dir>/../pending


def check(s: ListenerSettings) -> dict[str, tuple[str, int] | None]:
    """Every setting checked (ConfigError naming the option); the addresses to bind."""
    where = {kind: validate.listen_address(getattr(s, kind), f"--{kind}") for kind in KINDS}
    if not any(where.values()):
        raise ConfigError("nothing to listen on: --udp, --tcp and --tls are all off")
    validate.tz_name(s.tz, "--tz")
    validate.year(s.year, "--year")
    for option, value, kind in (
        ("--flush-lines", s.flush_lines, int),
        ("--flush-seconds", s.flush_seconds, float),
        ("--max-frame", s.max_frame, int),
        ("--idle-timeout", s.idle_timeout, float),
        ("max_buffer", s.max_buffer, int),
        ("max_connections", s.max_connections, int),
        ("stats_seconds", s.stats_seconds, float),
    ):
        validate.positive(value, option, kind)
    validate.writable_dir(s.spool_dir, "--spool-dir")
    validate.writable_dir(pending_dir(s), "pending directory")
    validate.writable_file(s.dead_letter or s.spool_dir / "dead-letter.jsonl", "--dead-letter")
    if s.log_file:
        validate.writable_file(s.log_file, "--log-file")
    return where


def pending_dir(s: ListenerSettings) -> Path:
    return Path(s.pending_dir or Path(s.spool_dir).parent / "pending")
