"""Real `secops run` processes: kill -9 at random points, overlapping runs, the lock code."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from secops.pipeline import run as batch_run
from secops.schedule import EXIT_LOCKED, RunLock
from secops.sink import LocalStore
from secops.spool import Spool
from tests.schedule.daylogs import DAY, growing
from tests.schedule.helpers import TOPOLOGY, comparable, differences

SECOPS = [str(Path(sys.executable).parent / "secops")]


def _cmd(tmp: Path, now: str) -> list[str]:
    return [
        *SECOPS,
        "run",
        "--input",
        str(tmp / "live"),
        "--topology",
        TOPOLOGY,
        "--data-dir",
        str(tmp / "data"),
        "--year",
        "2026",
        "--settle",
        "1m",
        "--now",
        now,
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "SECOPS_CONFIG": os.devnull}


def test_kill_9_at_random_points_loses_and_doubles_nothing(day_logs: Path, tmp_path: Path) -> None:
    rng = random.Random(4)
    files = growing(day_logs, tmp_path / "live")
    kills = completed = 0
    for k in range(1, 7):  # six runs, 30 minutes apart: the first three hours of the day
        now = DAY + timedelta(minutes=30 * k)
        for f in files:
            f.grow(now.timestamp() - 30)
        iso = now.isoformat()
        if rng.random() < 0.7:  # this run gets killed at a random point
            proc = subprocess.Popen(_cmd(tmp_path, iso), env=_env(), stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 4.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        done = subprocess.run(_cmd(tmp_path, iso), env=_env(), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        completed += 1
    assert kills >= 2
    # a last run once the settle delay has passed over the last line
    final = subprocess.run(
        _cmd(tmp_path, (DAY + timedelta(hours=3, minutes=2)).isoformat()), env=_env()
    )
    assert final.returncode == 0

    grown = tmp_path / "grown"
    for f in files:  # the same bytes, in a directory of their own, for the batch run
        target = grown / f.target.relative_to(tmp_path / "live")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.target.read_bytes())
    batch = batch_run([str(grown)], topology_path=TOPOLOGY, year=2026)
    expected = {f["finding"]["id"]: comparable(f) for f in batch.findings}
    got = {
        f["finding"]["id"]: comparable(f)
        for f in LocalStore(tmp_path / "data").query(include_suppressed=True)
    }
    assert sorted(got) == sorted(expected)
    for fid, doc in expected.items():
        assert not differences(got[fid], doc), fid

    ids = Spool(tmp_path / "data" / "spool").event_ids()
    assert ids.is_unique, "an event was spooled twice"
    from secops.normalise import ParseReport
    from tests.helpers import read_events

    every = read_events([str(grown)], ParseReport(), year=2026)
    timed = every[every["@timestamp"].notna()]
    assert set(timed["event.id"]) <= set(ids), "an event is missing from the spool"
    print(f"crash test: {kills} runs killed, {completed} completed, {len(ids)} events spooled")


def test_two_runs_started_together_one_exits_with_the_lock_code(
    day_logs: Path, tmp_path: Path
) -> None:
    (tmp_path / "live").symlink_to(day_logs)
    now = (DAY + timedelta(hours=2)).isoformat()
    procs = [
        subprocess.Popen(_cmd(tmp_path, now), env=_env(), stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, EXIT_LOCKED], results
    locked = next(err for code, err in results if code == EXIT_LOCKED)
    assert '"status": "locked"' in locked and "holds the lock" in locked


def test_a_held_lock_gives_75_and_a_killed_holder_does_not_block(tmp_path: Path) -> None:
    state = tmp_path / "data" / "state"
    with RunLock(state / "run.lock"):
        held = subprocess.run(_cmd(tmp_path, DAY.isoformat()), env=_env(), capture_output=True)
    assert held.returncode == EXIT_LOCKED
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from secops.schedule import RunLock; RunLock(Path(sys.argv[1])).__enter__(); "
            "print('held', flush=True); time.sleep(60)",
            str(state / "run.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    (tmp_path / "live").mkdir()
    after = subprocess.run(_cmd(tmp_path, DAY.isoformat()), env=_env(), capture_output=True)
    assert after.returncode == 0, after.stderr
