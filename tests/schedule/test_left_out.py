"""`secops run` says what it spooled but did not correlate, and why, every run: events older
than the look-back (17-day-old files), late events (timestamped before the last checkpoint)
and the findings they make that are not written, events newer than the window. Real files,
the real CLI; the expected counts are the lines the test wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from secops.cli.main import cli
from tests.schedule.helpers import TOPOLOGY

FAIL = "Nov {d} {t} web02 sshd[{pid}]: Failed password for root from 198.51.100.7 port {p} ssh2\n"
OK = "Nov {d} {t} web02 sshd[9]: Accepted publickey for alice from 10.20.1.15 port 50000 ssh2\n"


def run(tmp: Path, now: str) -> dict:
    log = tmp / "run.jsonl"
    res = CliRunner(env={"SECOPS_CONFIG": os.devnull}).invoke(
        cli,
        ["run", "--input", str(tmp / "logs"), "--topology", TOPOLOGY, "--data-dir",
         str(tmp / "data"), "--year", "2026", "--settle", "1m", "--now", now,
         "--log-file", str(log)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return json.loads(log.read_text().splitlines()[-1])


def failures(day: int, minute: str, n: int) -> str:
    return "".join(
        FAIL.format(d=day, t=f"{minute}:{2 * i:02d}", pid=100 + i, p=40000 + i) for i in range(n)
    )


def test_files_older_than_the_look_back_are_named(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "auth.log").write_text(
        failures(3, "10:00", 12) + OK.format(d=3, t="11:00:00")
    )
    line = run(tmp_path, "2026-11-20T06:00:00+00:00")  # 17 days later
    assert line["events_spooled"] == 13 and line["events_in_window"] == 0
    assert line["events_older_than_look_back"] == 13
    [entry] = line["left_out"]
    assert entry["what"] == "events_older_than_look_back" and entry["events"] == 13
    assert "max_look_back (24 h)" in entry["reason"]
    assert "2026-11-19T05:59:00Z" in entry["reason"]  # the window start: now - settle - 24 h


def test_late_lines_are_counted_with_the_findings_they_lose(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    auth = logs / "auth.log"
    auth.write_text(OK.format(d=20, t="05:50:00"))
    first = run(tmp_path, "2026-11-20T06:00:00+00:00")  # checkpoint 05:59:00
    assert first["late_events"] == 0 and first["left_out"] == []
    with auth.open("a") as fh:  # a brute force from 05:55, written to the file after the run
        fh.write(failures(20, "05:55", 12))
    second = run(tmp_path, "2026-11-20T06:05:00+00:00")
    assert second["late_events"] == 12 and second["events_older_than_look_back"] == 0
    assert second["late_findings_not_written"] == 1  # the brute force ends before 05:59
    [entry] = second["left_out"]
    assert entry["what"] == "late_events" and "2026-11-20T05:59:00Z" in entry["reason"]
    with auth.open("a") as fh:  # on time: after the checkpoint of 06:04
        fh.write(failures(20, "06:06", 12) + OK.format(d=20, t="06:30:00"))
    third = run(tmp_path, "2026-11-20T06:10:00+00:00")
    assert third["late_events"] == 0 and third["findings_raised"] >= 1
    assert third["events_after_window"] == 1  # 06:30 is after the window end 06:09
    assert third["left_out"][0]["what"] == "events_after_window"


def test_a_line_dated_2326_does_not_stop_the_scheduled_runs(tmp_path: Path) -> None:
    """A poison pill for cron: one line whose time nanoseconds cannot hold is dead-lettered,
    the run writes its findings and the checkpoint moves on; the next run goes on too."""
    logs = tmp_path / "logs"
    logs.mkdir()
    poison = '203.0.113.5 - - [20/Nov/2326:04:51:54 +0000] "GET / HTTP/1.1" 200 12 "-" "curl"\n'
    (logs / "auth.log").write_text(failures(20, "05:40", 6) + poison + failures(20, "05:41", 6))
    first = run(tmp_path, "2026-11-20T06:00:00+00:00")
    assert (first["status"], first["dead_lettered"], first["events_in_window"]) == ("ok", 1, 12)
    assert first["findings_raised"] >= 1
    with (logs / "auth.log").open("a") as fh:
        fh.write(poison + OK.format(d=20, t="06:05:00"))
    second = run(tmp_path, "2026-11-20T06:10:00+00:00")
    assert second["status"] == "ok" and second["dead_lettered"] == 1
    assert second["window"]["start"] < second["window"]["end"] > first["window"]["end"]
