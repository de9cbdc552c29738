"""secops.yaml: defaults < config file < environment (SECOPS_*) < command-line flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from secops.content import load_yaml
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
    for env, key in ENV.items():
        if os.environ.get(env):
            values[key] = os.environ[env].split(os.pathsep) if key == "rules" else os.environ[env]
    if values.get("year") is not None and not isinstance(values["year"], int):
        raise ConfigError("'year' must be an integer", file)
    return Config(**values)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]
