"""One exception root with a location, one family per step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Location:
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)


class SecopsError(Exception):
    """Root of every error secops raises on purpose. Carries where it happened."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = Location(str(file) if file is not None else None, line, column)

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class ContentError(SecopsError):
    """Invalid configuration or content (rules, collectors, topology, config file)."""

    exit_code = 78


class ContentErrors(ContentError):
    """Several content errors collected by a loader, reported together."""

    def __init__(self, errors: list[SecopsError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} error(s)")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class ConfigError(ContentError):
    """secops.yaml or command-line configuration is invalid."""


class CollectError(SecopsError):
    """An input cannot be read at all (missing path, permission)."""


class ParserError(ContentError):
    """A parser definition under collectors/ is invalid."""


class TopologyError(ContentError):
    """A topology file is invalid."""


class RuleError(ContentError):
    """A rule file is invalid."""


class SinkError(SecopsError):
    """A sink could not store findings."""
