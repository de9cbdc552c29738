"""ParseReport: what happened to every line read (parsed, dead-lettered, blank), per source.

For every source the counts add up to the lines read: `coverage[path]` holds one count per
parser, `unparsed` (dead-lettered) and `blank` (when there were blank lines). `warnings()`
names the inputs a SOC user must hear about: empty ones, binary ones, ones nothing parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNPARSED = "unparsed"
BLANK = "blank"
#: a source is called binary when at least this share of its non-blank lines was dead-lettered
#: for NUL or invalid UTF-8 bytes (a log with a few corrupted lines is not)
BINARY_SHARE = 0.5


@dataclass
class ParseReport:
    lines_read: int = 0
    parsed: int = 0
    dead_lettered: int = 0
    blank: int = 0
    dead_letter_path: str | None = None
    #: source path -> {parser id: parsed count, "unparsed": n, "blank": n (when any)}
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    #: source path -> dead-lettered lines holding NUL or invalid UTF-8 bytes (when any)
    binary: dict[str, int] = field(default_factory=dict)

    def expect(self, paths: Iterable[str]) -> None:
        """Register inputs before reading, so an empty one shows up (with no line)."""
        for path in paths:
            self.coverage.setdefault(path, {UNPARSED: 0})

    def add(
        self,
        path: str,
        lines: int,
        blank: int,
        parsed: Mapping[str, int],
        unparsed: int,
        binary: int = 0,
    ) -> None:
        self.lines_read += lines
        self.blank += blank
        self.parsed += sum(parsed.values())
        self.dead_lettered += unparsed
        counts = {**parsed, UNPARSED: unparsed, BLANK: blank}
        self._fold(path, counts, {path: binary} if binary else {})

    def merge(self, other: ParseReport) -> ParseReport:
        """Fold `other` into this report (e.g. reports of parallel workers); returns self."""
        self.lines_read += other.lines_read
        self.parsed += other.parsed
        self.dead_lettered += other.dead_lettered
        self.blank += other.blank
        self.dead_letter_path = self.dead_letter_path or other.dead_letter_path
        for path, counts in other.coverage.items():
            self._fold(path, counts, {})
        for path, n in other.binary.items():
            self.binary[path] = self.binary.get(path, 0) + n
        return self

    def _fold(self, path: str, counts: Mapping[str, int], binary: Mapping[str, int]) -> None:
        source = self.coverage.setdefault(path, {UNPARSED: 0})
        for key, count in counts.items():
            if count or key in source:
                source[key] = source.get(key, 0) + count
        for p, n in binary.items():
            self.binary[p] = self.binary.get(p, 0) + n

    @property
    def parse_rate(self) -> float:
        denominator = self.parsed + self.dead_lettered
        return self.parsed / denominator if denominator else 1.0

    def summary(self) -> str:
        """One line: read = parsed + unparsed + blank, and where the unparsed went."""
        where = f" -> {self.dead_letter_path}" if self.dead_letter_path else ""
        kept = where if self.dead_lettered else ""
        return (
            f"lines read {self.lines_read:,}: parsed {self.parsed:,} ({self.parse_rate:.1%}), "
            f"unparsed {self.dead_lettered:,}{kept}, blank {self.blank:,}"
        )

    def warnings(self) -> list[str]:
        """What a user must not miss, one line per input: empty, binary, nothing parsed."""
        out = []
        for path, counts in sorted(self.coverage.items()):
            read = sum(counts.values())
            unparsed, blank = counts.get(UNPARSED, 0), counts.get(BLANK, 0)
            binary = self.binary.get(path, 0)
            if read == 0:
                out.append(f"{path}: empty input, no line read")
            elif binary and binary >= BINARY_SHARE * (read - blank):
                out.append(
                    f"{path}: binary file, dead-lettered: not a log ({binary:,} of "
                    f"{read - blank:,} lines hold NUL or invalid UTF-8 bytes), "
                    f"{unparsed:,} lines unparsed{self._kept()}"
                )
            elif unparsed and unparsed == read - blank:
                out.append(
                    f"{path}: no line parsed ({unparsed:,} unparsed): no collector knows this "
                    f"format (see 'secops parse' and collectors/README.md){self._kept()}"
                )
        return out

    def _kept(self) -> str:
        if self.dead_letter_path:
            return f" (kept in {self.dead_letter_path})"
        return " (counted only: --dead-letter FILE keeps them)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "parsed": self.parsed,
            "dead_lettered": self.dead_lettered,
            "blank": self.blank,
            "parse_rate": round(self.parse_rate, 6),
            "dead_letter_path": self.dead_letter_path,
            "coverage": {k: dict(v) for k, v in self.coverage.items()},
            "binary": dict(self.binary),
            "warnings": self.warnings(),
        }
