"""Configuration values checked at the edge, before anything is read, bound or written.

Plain functions, no click: each takes the value (from a flag, the environment or secops.yaml)
and the name of the option it came from, returns the value in its checked type, or raises
`ConfigError` (exit 78) with one line that names the option and the value:

    --tz 'Nowhere': unknown time zone (use an IANA name such as UTC or Europe/Berlin)
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from secops.errors import ConfigError

__all__ = [
    "duration",
    "duration_ms",
    "listen_address",
    "port",
    "positive",
    "tz_name",
    "writable_dir",
    "writable_file",
    "year",
]

#: whole years a nanosecond timestamp holds (1677-09-21 .. 2262-04-11, both cut)
YEARS = (1678, 2261)


#: the one duration grammar (rule windows, SLAs, options, settings, Elasticsearch look-backs):
#: a whole count and a unit; a bare number (a YAML integer, or digits alone) is seconds
DURATION_UNITS_MS = {
    "ms": 1,
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
DURATION_HELP = (
    "use a whole count and a unit: 250ms, 30s, 10m, 2h, 7d, 1w; a bare number is seconds"
)
#: 100 years
MAX_DURATION_MS = 36_500 * DURATION_UNITS_MS["d"]
_DURATION = re.compile(r"^\s*(\d{1,15})\s*(ms|s|m|h|d|w)?\s*$")
#: a duration without its unit (seconds)
BARE_NUMBER = re.compile(r"^\s*\d+\s*$")


def _bad(option: str, value: Any, why: str) -> ConfigError:
    return ConfigError(f"{option} {str(value)!r}: {why}" if option else f"{str(value)!r}: {why}")


def tz_name(value: Any, option: str = "--tz") -> str:
    """A time zone the parsers can localise to (IANA name such as UTC, Europe/Berlin)."""
    import pandas as pd

    text = str(value).strip() if value is not None else ""
    try:
        if not text:
            raise ValueError(text)
        pd.Timestamp(2026, 1, 1).tz_localize(text)
    except Exception:  # noqa: BLE001 - zoneinfo, pytz and dateutil each raise their own
        raise _bad(
            option, value, "unknown time zone (use an IANA name such as UTC or Europe/Berlin)"
        ) from None
    return text


def year(value: Any, option: str = "--year") -> int | None:
    """None (infer it) or a whole year a timestamp can hold."""
    if value is None:
        return None
    number = _integer(value, option)
    lo, hi = YEARS
    if not lo <= number <= hi:
        raise _bad(option, value, f"year out of range (use {lo} .. {hi})")
    return number


def port(value: Any, option: str) -> int:
    """A TCP/UDP port, 0 (any free port) to 65535."""
    try:
        number = _integer(value, option)
    except ConfigError:
        raise _bad(option, value, "not a port number (use 0 .. 65535)") from None
    if not 0 <= number <= 65535:
        raise _bad(option, value, "port out of range (use 0 .. 65535)")
    return number


def listen_address(value: Any, option: str) -> tuple[str, int] | None:
    """HOST:PORT (IPv6 as [::1]:PORT; an empty host is every interface), or None for 'off'."""
    if value is None or str(value).strip().lower() == "off":
        return None
    host, colon, number = str(value).strip().rpartition(":")
    if not colon or not number:
        raise _bad(option, value, "not an address (use HOST:PORT, or 'off')")
    host = host.strip("[]") or "0.0.0.0"
    try:
        return host, port(number, option)
    except ConfigError as exc:
        raise _bad(option, value, exc.message.split(": ", 1)[1]) from None


def duration_ms(value: Any, option: str = "", zero: bool = False) -> int:
    """A duration in milliseconds: '250ms', '90s', '10m', '2h', '7d', '1w', or a bare number of
    seconds (60, '60'); above zero (or zero when `zero`) and at most 100 years."""
    m = None if isinstance(value, bool) else _DURATION.match(str(value))
    ms = int(m.group(1)) * DURATION_UNITS_MS[m.group(2) or "s"] if m else -1
    if not (0 if zero else 1) <= ms <= MAX_DURATION_MS:
        where = f"{option} " if option else ""
        raise ConfigError(f"{where}bad duration {str(value)!r} ({DURATION_HELP})")
    return ms


def duration(value: Any, option: str = "", zero: bool = False) -> timedelta:
    """`duration_ms` as a timedelta."""
    return timedelta(milliseconds=duration_ms(value, option, zero))


def positive(value: Any, option: str, kind: type[int] | type[float] = float) -> Any:
    """A number above zero (`kind` int or float)."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise _bad(option, value, f"not {'an integer' if kind is int else 'a number'}") from None
    if kind is int and isinstance(value, float) and value != number:
        raise _bad(option, value, "not an integer")
    if not number > 0:
        raise _bad(option, value, "must be above zero")
    return number


def writable_dir(path: str | Path, option: str) -> Path:
    """A directory that exists (created when missing) and takes a new file."""
    where = Path(path)
    probe = where / f".probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        where.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise _bad(option, path, f"cannot write here: {exc.strerror or exc}") from None
    return where


def writable_file(path: str | Path, option: str) -> Path:
    """A file that can be appended to (it and its directory are created when missing)."""
    where = Path(path)
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        with open(where, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise _bad(option, path, f"cannot append to it: {exc.strerror or exc}") from None
    return where


def _integer(value: Any, option: str) -> int:
    if isinstance(value, bool):
        raise _bad(option, value, "not an integer")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _bad(option, value, "not an integer") from None
    return number
