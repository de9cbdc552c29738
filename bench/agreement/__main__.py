"""Field agreement with Elastic's integrations on their published sample lines.

    .venv/bin/python -m bench.agreement [--misses] [--json]

Every `samples/<device>/<name>.log` is parsed by secops (the shipped collectors); line N of
`<name>.expected.jsonl` holds the fields Elastic's ingest pipeline gives line N (see
PROVENANCE.md). Prints per device: lines, lines parsed (coverage) and the share of expected
field values secops produces identically (agreement). A line secops does not parse counts
every expected field of it as a miss.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from secops.normalise import ParseReport, iter_events

SAMPLES = Path(__file__).resolve().parent / "samples"
#: Elastic field -> the secops column compared with it (same meaning, other ECS name)
ALIASES = {"host.hostname": "host.name"}


@dataclass
class Tally:
    lines: int = 0
    parsed: int = 0
    fields: int = 0
    agree: int = 0
    by_field: Counter[str] = field(default_factory=Counter)
    agree_by_field: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "parsed": self.parsed,
            "coverage": _pct(self.parsed, self.lines),
            "fields": self.fields,
            "agree": self.agree,
            "agreement": _pct(self.agree, self.fields),
            "by_field": {
                f: _pct(self.agree_by_field[f], n) for f, n in sorted(self.by_field.items())
            },
        }


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 100.0


def same(expected: Any, actual: Any, name: str) -> bool:
    """Does secops' value equal Elastic's? `event.type` is a list there, one value here."""
    if actual is None or (not isinstance(actual, list) and pd.isna(actual)):
        return False
    if name == "event.type":
        return str(actual) in expected
    if isinstance(expected, int):
        return int(actual) == expected
    return str(actual) == str(expected)


def events_by_line(path: Path) -> dict[str, list[dict[str, Any]]]:
    """secops' events of one file, keyed by their original line (identical lines parse alike)."""
    frames = list(iter_events([str(path)], year=2024, report=ParseReport()))
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for frame in frames:
        for row in frame.to_dict("records"):
            out[row["event.original"]].append(row)
    return out


def measure_file(log: Path, tally: Tally) -> None:
    expected = [
        json.loads(x) for x in (log.with_suffix(".expected.jsonl")).read_text().splitlines()
    ]
    lines = log.read_text(encoding="utf-8").splitlines()
    if len(lines) != len(expected):
        raise SystemExit(f"{log}: {len(lines)} lines but {len(expected)} expectations")
    got = events_by_line(log)
    for number, (line, want) in enumerate(zip(lines, expected, strict=True), start=1):
        rows = got.get(line) or []
        row = rows.pop(0) if rows else None
        tally.lines += 1
        tally.parsed += row is not None
        for name, value in want.items():
            actual = None if row is None else row.get(ALIASES.get(name, name))
            tally.fields += 1
            tally.by_field[name] += 1
            if same(value, actual, name):
                tally.agree += 1
                tally.agree_by_field[name] += 1
            else:
                tally.misses.append(f"{log.name}:{number}: {name} want {value!r} got {actual!r}")


def measure(samples: Path = SAMPLES) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for device in sorted(p for p in samples.iterdir() if p.is_dir()):
        tally = tallies.setdefault(device.name, Tally())
        for log in sorted(device.glob("*.log")):
            measure_file(log, tally)
    return tallies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.agreement", description=__doc__)
    ap.add_argument("--misses", action="store_true", help="list every disagreeing field")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    tallies = measure()
    if args.json:
        print(json.dumps({d: t.to_dict() for d, t in tallies.items()}, indent=2))
        return 0
    print(
        f"{'device':<14}{'lines':>7}{'parsed':>8}{'coverage':>10}{'fields':>8}{'agree':>7}"
        f"{'agreement':>11}"
    )
    for name, t in tallies.items():
        d = t.to_dict()
        print(
            f"{name:<14}{t.lines:>7}{t.parsed:>8}{d['coverage']:>9}%{t.fields:>8}{t.agree:>7}"
            f"{d['agreement']:>10}%"
        )
        if args.misses:
            for miss in t.misses:
                print(f"    {miss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
