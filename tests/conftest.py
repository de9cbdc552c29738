"""Fixtures for every test: a fresh local store per test, never the user's state or settings."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secops.config import ENV

    for name in (*ENV, "SECOPS_CONFIG"):  # the user's topology, exceptions, tz, ... never leak in
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECOPS_DATA_DIR", str(tmp_path / "secops-data"))
