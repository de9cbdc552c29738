"""secops.yaml: defaults < config file < environment (SECOPS_*) < command-line flags.

The one place user-supplied settings are resolved and checked. The `valid_*` functions are plain
(no click): they return the clean value or raise ConfigError with a one-line reason; the CLI
wraps them as click types (a bad flag: exit 2) and `load_config` applies them to what came from
secops.yaml or the environment (exit 78, naming the variable or the file and line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secops import validate
from secops.content import load_yaml
from secops.elastic import redact
from secops.errors import ConfigError

DEFAULT_FILE = "secops.yaml"


@dataclass
class Config:
    rules: list[str] = field(default_factory=list)
    topology: str | None = None
    exceptions: str | None = None
    data_dir: str | None = None
    dead_letter: str | None = None
    tz: str = "UTC"
    year: int | None = None
    inputs: list[str] = field(default_factory=list)
    es: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)  # `secops run`: state_dir, look_back ...
    collect: dict[str, Any] = field(default_factory=dict)  # `secops collect --listen`
    sla: dict[str, Any] = field(default_factory=dict)
    file: str | None = None

    @property
    def data_path(self) -> Path:
        """The user's data directory: data_dir, else $SECOPS_DATA_DIR / XDG default."""
        from secops.sink.store import default_data_dir

        return Path(self.data_dir) if self.data_dir else default_data_dir()

    @property
    def exceptions_path(self) -> Path:
        """Where accepted exceptions live: `exceptions`, else <data dir>/exceptions (user state,
        never the package tree or the working directory)."""
        return Path(self.exceptions) if self.exceptions else self.data_path / "exceptions"

    def merged(self, **flags: Any) -> Config:
        """A copy with every flag that was given (not None, not empty) taking precedence."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in flags.items():
            if value not in (None, (), []):
                values[key] = list(value) if isinstance(value, tuple) else value
        return Config(**values)


ENV = {
    "SECOPS_RULES": "rules",
    "SECOPS_TOPOLOGY": "topology",
    "SECOPS_EXCEPTIONS": "exceptions",
    "SECOPS_DATA_DIR": "data_dir",
    "SECOPS_TZ": "tz",
    "SECOPS_YEAR": "year",
    "SECOPS_DEAD_LETTER": "dead_letter",
}


def load_config(path: str | None = None) -> Config:
    """Read the config file (explicit path, or ./secops.yaml when present) and the environment."""
    values: dict[str, Any] = {}
    file = path or (DEFAULT_FILE if Path(DEFAULT_FILE).is_file() else None)
    if file:
        doc = load_yaml(file) or {}
        if not isinstance(doc, dict):
            raise ConfigError("the config file must hold a mapping", file, 1)
        known = {f.name for f in fields(Config)} - {"file"}
        for key, value in doc.items():
            if key not in known:
                line = doc.where(key)[1] if hasattr(doc, "where") else None
                raise ConfigError(
                    f"unknown setting '{key}' (known: {', '.join(sorted(known))})", file, line
                )
            values[key] = value
        base = Path(file).resolve().parent
        for key in ("topology", "exceptions", "data_dir", "dead_letter"):
            if isinstance(values.get(key), str):
                values[key] = str(base / values[key])
        values["rules"] = [str(base / r) for r in _list(values.get("rules"))]
        values["inputs"] = [str(base / r) for r in _list(values.get("inputs"))]
        values["file"] = file
    _check(values, doc if file else None, file)
    for env, key in ENV.items():
        if os.environ.get(env):
            values[key] = os.environ[env].split(os.pathsep) if key == "rules" else os.environ[env]
            _check({key: values[key]}, None, env)
    return Config(**values)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


YEARS = validate.YEARS


def valid_tz(name: Any) -> str:
    """An IANA time zone name ('UTC', 'Europe/Paris'), else ConfigError."""
    return validate.tz_name(name, "")


def valid_year(y: Any) -> int:
    """A year a timestamp can hold (validate.YEARS; an int or its digits), else ConfigError."""
    if y is None:
        raise ConfigError("None: not an integer")
    return int(validate.year(y, ""))  # type: ignore[arg-type]


def valid_path(p: Any) -> str:
    """A path the OS can look up (it need not exist): no NUL byte, not too long; else
    ConfigError."""
    text = str(p)
    try:
        os.stat(text)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        pass  # the step that uses it says what is missing or not allowed
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"bad path {text[:80]!r}: {reason}") from None
    return text


def valid_port(p: Any) -> int:
    """A TCP/UDP port 0..65535 (0: any free port), else ConfigError."""
    return validate.port(p, "")


def valid_duration(text: Any) -> timedelta:
    """The one duration grammar (validate.duration_ms: ms, s, m, h, d, w; a bare number is
    seconds), above zero and at most 100 years; else ConfigError."""
    return validate.duration(text)


def valid_time(text: Any) -> datetime:
    """An ISO 8601 time ('2026-11-20', '2026-11-20T07:00:00Z'; UTC unless an offset is
    given), else ConfigError."""
    try:
        t = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601; or beyond year 1..9999 once in UTC
        raise ConfigError(f"bad time {text!r} (use ISO 8601, e.g. 2026-11-20T07:00:00Z)") from None


def valid_since(text: Any, now: datetime | None = None) -> str:
    """'24h' / '7d' ago or an ISO time -> an ISO UTC time ('...Z'), else ConfigError."""
    try:
        t = (now or datetime.now(UTC)) - valid_duration(text)
    except ConfigError:
        try:
            t = valid_time(text)
        except ConfigError:
            raise ConfigError(
                f"bad time {text!r} (use a duration ago such as 24h or 7d, or an ISO 8601 time)"
            ) from None
    return t.isoformat().replace("+00:00", "Z")


def valid_url(url: Any) -> str:
    """One http(s) URL with a host (and a valid port when given), else ConfigError."""
    text = str(url).strip()
    try:
        parts = urlsplit(text)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        ok = ok and (parts.port is None or parts.port >= 0)  # .port raises when out of range
    except ValueError:  # a port out of range or not a number, a bad IPv6 literal
        ok = False
    if not ok or any(c.isspace() for c in text):
        raise ConfigError(f"bad URL {redact(text)!r} (use e.g. https://es.example.com:9200)")
    return text.rstrip("/")


def valid_urls(text: Any) -> str:
    """A comma-separated list of Elasticsearch URLs (as --es-url takes), each with a port."""
    urls = [valid_url(u) for u in str(text).split(",") if u.strip()]
    for url in urls:
        if urlsplit(url).port is None:
            raise ConfigError(
                f"bad URL {redact(url)!r}: give the port (e.g. https://es.example.com:9200)"
            )
    if not urls:
        raise ConfigError(f"bad URL {text!r} (use e.g. https://es.example.com:9200)")
    return ",".join(urls)


def _paths(value: Any) -> Any:
    return [valid_path(v) for v in value] if isinstance(value, list) else valid_path(value)


CHECKS = {
    "tz": valid_tz,
    "year": valid_year,
    **{key: _paths for key in ("topology", "rules", "exceptions", "data_dir", "dead_letter")},
}


def _check(values: dict[str, Any], doc: Any, where: str | None) -> None:
    """Check tz, year and paths from the file (`where` = its path, the error gets the key and
    line) or from a variable (`where` = its name)."""
    for key, check in CHECKS.items():
        if values.get(key) is None:
            continue
        try:
            values[key] = check(values[key])
        except ConfigError as exc:
            line = doc.where(key)[1] if hasattr(doc, "where") else None
            name = key if doc is not None else None
            message = f"{name}: {exc.message}" if name else exc.message
            raise ConfigError(message, where, line) from None
