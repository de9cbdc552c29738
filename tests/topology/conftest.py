from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from secops.topology import Topology, load_topology
from tests.helpers import EXAMPLE_TOPOLOGY


@pytest.fixture(scope="session")
def example() -> Topology:
    return load_topology(EXAMPLE_TOPOLOGY)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write("name.yaml", yaml_text) -> path; the text is dedented."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
