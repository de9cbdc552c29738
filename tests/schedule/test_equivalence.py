"""288 five-minute runs over a day that grows = one batch correlation over the whole day."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from secops.pipeline import run as batch_run
from secops.schedule import RunSettings, run_once
from secops.schedule.run import load_content
from secops.sink import LocalStore
from tests.schedule.daylogs import DAY, growing
from tests.schedule.helpers import HOURS, TOPOLOGY, comparable, differences


def test_five_minute_runs_give_the_batch_findings(day_logs: Path, tmp_path: Path) -> None:
    files = growing(day_logs, tmp_path / "live")
    settings = RunSettings(
        state_dir=tmp_path / "state",
        spool_dir=tmp_path / "spool",
        inputs=[str(tmp_path / "live")],
        topology_path=TOPOLOGY,
        year=2026,
        settle_ms=60_000,
    )
    store = LocalStore(tmp_path / "data")
    content = load_content(settings)
    last = max(float(f.times[-1]) for f in files if len(f.times))
    steps = int((last + 120 - DAY.timestamp()) // 300) + 1  # the last run follows the last line
    assert steps >= HOURS * 12
    for k in range(1, steps + 1):
        now = DAY + timedelta(minutes=5 * k)
        for f in files:
            f.grow(now.timestamp() - 30)  # a line reaches its file 30 s after its time
        outcome = run_once(settings, [store], now=now, content=content)
        assert outcome.exit_code == 0, outcome.log_line()
    assert all(f.written == len(f.lines) for f in files)

    batch = batch_run([str(tmp_path / "live")], topology_path=TOPOLOGY, year=2026)
    expected = {f["finding"]["id"]: comparable(f) for f in batch.findings}
    got = {f["finding"]["id"]: comparable(f) for f in store.query(include_suppressed=True)}
    assert len(expected) > 5
    assert sorted(got) == sorted(expected)
    for fid, doc in expected.items():
        assert not differences(got[fid], doc), fid
