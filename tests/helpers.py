"""Paths and small helpers shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: ../shared/data next to the repository (SECOPS_TEST_SHARED_DATA points elsewhere, e.g. at a
#: missing folder to see which tests skip without it)
SHARED_DATA = Path(
    os.environ.get("SECOPS_TEST_SHARED_DATA") or (REPO / ".." / "shared" / "data")
).resolve()
EXAMPLE_TOPOLOGY = REPO / "topology" / "example"


def shared(*parts: str) -> Path:
    """A file under ../shared/data; skips the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not present: {path}")
    return path
