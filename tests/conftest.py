"""Fixtures for every test: a fresh local store per test, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECOPS_DATA_DIR", str(tmp_path / "secops-data"))
    monkeypatch.delenv("SECOPS_CONFIG", raising=False)
