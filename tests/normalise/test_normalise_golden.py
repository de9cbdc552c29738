"""Golden files: tests/normalise/golden/<parser>.yaml lists lines and the fields they must give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    pytest.param(case, id=f"{path.stem}-{i + 1}")
    for path in sorted(GOLDEN.glob("*.yaml"))
    for i, case in enumerate(yaml.safe_load(path.read_text()))
]


def _same(actual: Any, expected: Any, field: str) -> bool:
    if expected is None:
        return pd.isna(actual)
    if pd.isna(actual):
        return False
    if field == "@timestamp":
        return pd.Timestamp(actual) == pd.Timestamp(expected)
    if isinstance(expected, int):
        return int(actual) == expected
    return str(actual) == str(expected)


@pytest.mark.parametrize("case", CASES)
def test_golden_line(run_lines, case: dict[str, Any]) -> None:  # noqa: ANN001
    events, report = run_lines([case["line"]])
    assert report.dead_lettered == 0, f"not parsed: {case['line']}"
    assert len(events) == 1
    row = events.iloc[0]
    wrong = {f: (row[f], want) for f, want in case["expect"].items() if not _same(row[f], want, f)}
    assert not wrong, f"field mismatches (actual, expected): {wrong}"


def test_golden_files_cover_every_shipped_parser() -> None:
    from secops.normalise import load_parsers

    covered = {p.stem for p in GOLDEN.glob("*.yaml")}
    assert {p.id for p in load_parsers()} <= covered
