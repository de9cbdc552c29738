"""Fixtures for the normalise tests: run lines through iter_events, locate shared data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from secops.normalise import ParseReport, iter_events

REPO = Path(__file__).resolve().parents[2]
RUN_DATE = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

Run = Callable[..., tuple[pd.DataFrame, ParseReport]]


def _run(paths: list[str], **kwargs: Any) -> tuple[pd.DataFrame, ParseReport]:
    report = ParseReport()
    kwargs.setdefault("now", RUN_DATE)
    frames = list(iter_events(paths, report=report, **kwargs))
    return pd.concat(frames, ignore_index=True), report


@pytest.fixture
def run() -> Run:
    """run([paths], **iter_events kwargs) -> (all events, report)."""
    return _run


@pytest.fixture
def run_lines(tmp_path: Path) -> Run:
    """run_lines([lines], name=..., **kwargs): write the lines to a file and run it."""

    def go(lines: list[str], name: str = "input.log", **kwargs: Any):
        path = tmp_path / name
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return _run([str(path)], **kwargs)

    return go
