"""FortiGate: the published sample lines of Elastic's integration all parse, behind a PRI or
alone, with the device's local time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from secops.normalise import ParseReport, iter_events

DATA = Path(__file__).resolve().parents[1] / "data" / "fortigate"


def test_every_published_sample_line_parses() -> None:
    paths = sorted(DATA.glob("*.log"))
    report = ParseReport()
    events = pd.concat(list(iter_events([str(p) for p in paths], report=report)))
    lines = [line for p in paths for line in p.read_text().splitlines()]
    assert report.dead_lettered == 0 and len(events) == len(lines) == 9
    assert list(events["event.code"]) == [line.split('logid="')[1][:10] for line in lines]
    assert set(events["event.dataset"]) == {"fortigate"}
    denied = events[events["event.type"] == "denied"]
    assert sorted(denied["event.action"]) == ["blocked", "deny"]


def test_a_line_of_another_device_that_starts_like_one_is_dead_lettered(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("date=yesterday and nothing else\n")
    report = ParseReport()
    list(iter_events([str(path)], report=report))
    assert report.dead_lettered == 1
