from __future__ import annotations

from pathlib import Path

import pytest

from tests.schedule import daylogs
from tests.schedule.helpers import HOURS


@pytest.fixture(scope="session")
def day_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return daylogs.generate(tmp_path_factory.mktemp("day") / "gen", hours=HOURS)
