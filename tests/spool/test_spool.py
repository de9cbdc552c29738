"""The spool: hour partitions, atomic files, window reads, re-written names replace."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from secops.schema import conform
from secops.spool import Spool


def _events(times: list[str], prefix: str = "e") -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "@timestamp": pd.to_datetime(times, utc=True),
            "event.id": [f"{prefix}{i}" for i in range(len(times))],
            "event.action": ["ssh_login"] * len(times),
        }
    )
    return conform(frame)


def test_partitions_window_and_replace(tmp_path) -> None:
    spool = Spool(tmp_path)
    times = ["2026-11-20T09:59:59Z", "2026-11-20T10:00:00Z", "2026-11-20T11:30:00Z", None]
    written = spool.write(_events(times), "batch-1")
    assert sorted(p.parent.name for p in written) == ["date=none", "hour=09", "hour=10", "hour=11"]
    assert not list(tmp_path.rglob("*.tmp"))
    got = spool.read(datetime(2026, 11, 20, 10, tzinfo=UTC), datetime(2026, 11, 20, 11, tzinfo=UTC))
    assert got["event.id"].tolist() == ["e1"]
    assert got["event.action"].dtype == pd.ArrowDtype(__import__("pyarrow").string())
    spool.write(_events(times[:3]), "batch-1")  # a re-done batch replaces, never doubles
    assert spool.count() == 4
    assert spool.event_ids().is_unique


def test_read_dedupes_event_ids(tmp_path) -> None:
    spool = Spool(tmp_path)
    spool.write(_events(["2026-11-20T10:00:00Z"]), "a")
    spool.write(_events(["2026-11-20T10:00:00Z"]), "b")  # the same event from two writers
    day = (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    assert spool.count() == 2
    assert len(spool.read(*day)) == 1
