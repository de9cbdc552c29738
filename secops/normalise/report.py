"""ParseReport: what happened to every line read (parsed, dead-lettered, blank), per source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

UNPARSED = "unparsed"


@dataclass
class ParseReport:
    lines_read: int = 0
    parsed: int = 0
    dead_lettered: int = 0
    blank: int = 0
    dead_letter_path: str | None = None
    #: source path -> {parser id: parsed count, "unparsed": n}
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(
        self, path: str, lines: int, blank: int, parsed: Mapping[str, int], unparsed: int
    ) -> None:
        self.lines_read += lines
        self.blank += blank
        self.parsed += sum(parsed.values())
        self.dead_lettered += unparsed
        source = self.coverage.setdefault(path, {})
        for parser_id, count in parsed.items():
            source[parser_id] = source.get(parser_id, 0) + count
        if unparsed or UNPARSED not in source:
            source[UNPARSED] = source.get(UNPARSED, 0) + unparsed

    def merge(self, other: ParseReport) -> ParseReport:
        """Fold `other` into this report (e.g. reports of parallel workers); returns self."""
        self.lines_read += other.lines_read
        self.parsed += other.parsed
        self.dead_lettered += other.dead_lettered
        self.blank += other.blank
        self.dead_letter_path = self.dead_letter_path or other.dead_letter_path
        for path, counts in other.coverage.items():
            source = self.coverage.setdefault(path, {})
            for key, count in counts.items():
                source[key] = source.get(key, 0) + count
        return self

    @property
    def parse_rate(self) -> float:
        denominator = self.parsed + self.dead_lettered
        return self.parsed / denominator if denominator else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "parsed": self.parsed,
            "dead_lettered": self.dead_lettered,
            "blank": self.blank,
            "parse_rate": round(self.parse_rate, 6),
            "dead_letter_path": self.dead_letter_path,
            "coverage": {k: dict(v) for k, v in self.coverage.items()},
        }
