"""Normalise: raw lines -> the common ECS event stream (see secops/schema.py).

Public surface: `iter_events`, `load_parsers`, `ParseReport`, `ParserDef`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from secops.collect import expand_inputs, iter_batches
from secops.errors import ConfigError
from secops.normalise.batch import BatchResult, Options, Registry, normalise_batch
from secops.normalise.definitions import ParserDef, PatternDef
from secops.normalise.events import EventIds
from secops.normalise.loader import default_parsers_dir, load_parsers
from secops.normalise.report import ParseReport

#: lines normalised at a time: bigger batches only cost cache misses (measured: 64k lines ran
#: ~1.5x faster than 250k on the synthetic mix), so `batch_lines` is an upper bound per frame
WORK_LINES = 65_536

__all__ = [
    "ParseReport",
    "ParserDef",
    "PatternDef",
    "dead_letter_line",
    "default_parsers_dir",
    "iter_events",
    "load_parsers",
    "record_batch",
    "registry_for",
    "use_dead_letter",
]


def iter_events(
    inputs: list[str],
    *,
    year: int | None = None,
    tz: str = "UTC",
    parsers_dir: str | Path | None = None,
    dead_letter: str | Path | None = None,
    report: ParseReport | None = None,
    now: datetime | None = None,
    keep_original: bool = True,
    batch_lines: int = 250_000,
) -> Iterator[pd.DataFrame]:
    """Yields event frames conformed with secops.schema.conform (Arrow dtypes).

    One frame per batch of at most `batch_lines` input lines (internally at most WORK_LINES;
    frames may be empty). Lines no
    parser knows are counted in `report` and, if `dead_letter` is set, appended to that file
    as JSON lines {"file", "line", "reason", "raw"}.
    """
    registry = registry_for(parsers_dir)
    opts = Options(year=year, tz=tz, now=now or datetime.now(UTC), keep_original=keep_original)
    report = report if report is not None else ParseReport()
    use_dead_letter(report, dead_letter)
    ids = EventIds()
    paths = expand_inputs(inputs)
    report.expect(paths)
    for batch in iter_batches(paths, batch_lines=min(batch_lines, WORK_LINES)):
        result = normalise_batch(batch, registry, opts, ids)
        record_batch(result, batch.path, report, dead_letter)
        yield result.events


def use_dead_letter(report: ParseReport, dead_letter: str | Path | None) -> None:
    """Name the dead-letter file in the report; fail before reading if it is not writable."""
    if dead_letter is not None:
        report.dead_letter_path = str(dead_letter)
        _writable(Path(dead_letter))


def _writable(path: Path) -> None:
    """Fail before reading anything when the dead-letter file cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot write the dead-letter file: {exc.strerror}", str(path)) from None


def registry_for(parsers_dir: str | Path | None) -> Registry:
    """The parsers of `parsers_dir` (default: the shipped collectors), by program and format."""
    return Registry(load_parsers(parsers_dir))


def record_batch(
    result: BatchResult, path: str, report: ParseReport, dead_letter: str | Path | None
) -> None:
    report.add(path, result.lines, result.blank, result.parsed, len(result.dead), result.binary)
    if dead_letter is None or result.dead.empty:
        return
    with open(dead_letter, "a", encoding="utf-8") as out:
        rec: Any  # a row of object columns
        for rec in result.dead.itertuples(index=False):
            out.write(dead_letter_line(rec.file, int(rec.line), rec.reason, rec.raw))


#: characters JSON leaves raw that line-oriented readers (str.splitlines, editors) take for a
#: line break (the control characters json.dumps escapes itself)
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


def dead_letter_line(file: str, line: int | str, reason: str, raw: str) -> str:
    """One dead-letter record as a JSON line: {"file", "line", "reason", "raw"}."""
    doc = {"file": file, "line": line, "reason": reason, "raw": raw}
    text = json.dumps(doc, ensure_ascii=False)
    return _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
