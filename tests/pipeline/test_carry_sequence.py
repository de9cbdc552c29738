"""Sequence episodes that never close are carried from step to step as summaries
(`secops.steps.carry_open`): a source that keeps failing and logging in, a user who keeps
failing sudo and then succeeding, a foothold that keeps hopping on. The findings stay those of
one whole run, byte for byte, while the rows held stay bounded by the rule windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secops.pipeline import RunResult
from tests.helpers import REPO
from tests.pipeline.test_carry import run_steps

RULES = [
    str(REPO / "rules" / "credential-access" / "ssh-brute-force-then-login.yaml"),
    str(REPO / "rules" / "privilege-escalation" / "privilege-escalation-after-failures.yaml"),
    str(REPO / "rules" / "privilege-escalation" / "privilege-escalation-after-login.yaml"),
    str(REPO / "rules" / "lateral-movement" / "lateral-movement.yaml"),
]


def _lines(s: int, at: str) -> list[str]:
    """What happens at second `s` of the corpus (`at`: its syslog time)."""
    out = []
    if s % 10 == 0:  # one source guessing passwords all day, logging in every 7 minutes
        out.append(
            f"{at} web01 sshd[7]: Failed password for root from 198.51.100.10 port 4{s % 999} ssh2"
        )
    if s % 420 == 5:
        out.append(
            f"{at} web01 sshd[7]: Accepted password for root from 198.51.100.10 port 5{s % 999} ssh2"
        )
    if s % 30 == 0:  # a user failing sudo and then succeeding, never 15 minutes apart
        out.append(
            f"{at} app01 sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000"
            " euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=bob"
        )
    if s % 300 == 20:
        out.append(
            f"{at} app01 sudo:      bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash"
        )
    if s % 1200 == 10:  # ... who logs in from outside every 20 minutes
        out.append(
            f"{at} app01 sshd[6]: Accepted password for bob from 198.51.100.20 port 7{s % 999} ssh2"
        )
    if s % 600 == 40:  # the foothold hops on to the database every 10 minutes
        out.append(
            f"{at} db01 sshd[9]: Accepted publickey for deploy from 10.10.0.10 port 6{s % 999} ssh2"
        )
    if s % 1800 < 60 and s % 20 == 0:  # bursts from a second source: episodes that close
        out.append(f"{at} web02 sshd[8]: Failed password for admin from 203.0.113.5 port 5000 ssh2")
    if s % 1800 == 70:
        out.append(
            f"{at} web02 sshd[8]: Accepted password for admin from 203.0.113.5 port 5001 ssh2"
        )
    return out


def _hours(folder: Path, hours: int) -> list[Path]:
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    files = []
    for part in range(hours * 6):
        lines = []
        for s in range(part * 600, (part + 1) * 600):
            lines += _lines(s, (t0 + timedelta(seconds=s)).strftime("%b %d %H:%M:%S"))
        files.append(folder / f"auth-{part:03d}.log")
        files[-1].write_text("\n".join(lines) + "\n")
    return files


def _run(files: list[Path], out: Path, step_rows: int) -> RunResult:
    return run_steps(files, out, step_rows, RULES, str(REPO / "topology" / "example"))


@pytest.mark.parametrize("hours", [2, 5])
def test_open_sequences_are_carried_exactly_with_bounded_rows(tmp_path: Path, hours: int) -> None:
    files = _hours(tmp_path, hours)
    whole = _run(files, tmp_path / "whole.jsonl", 0)
    steps = _run(files, tmp_path / "steps.jsonl", 50)
    assert whole.correlation["mode"] == "whole" and steps.correlation["steps"] >= 6 * hours
    assert (tmp_path / "steps.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    by_rule = {}
    for f in steps.findings:
        by_rule.setdefault(f["rule"]["id"], []).append(f)
    assert set(by_rule) == {r.rsplit("/", 1)[1][:-5] for r in RULES}
    [brute] = [
        f for f in by_rule["ssh-brute-force-then-login"] if f["source"]["ip"] == "198.51.100.10"
    ]
    evidence = brute["finding"]["evidence"]
    # every login after the first five failures, and every failure from the first match on
    assert evidence["steps"]["success"] == hours * 3600 // 420
    assert evidence["count"] == evidence["steps"]["success"] + evidence["steps"]["failures"]
    # the first match: the five failures before the second login (the first came too early)
    assert brute["event"]["start"] == "2026-11-20T08:06:20Z"
    [sudo] = by_rule["privilege-escalation-after-failures"]
    # every sudo but the first (one failure before it, two needed)
    assert sudo["finding"]["evidence"]["steps"]["success"] == hours * 3600 // 300 - 1
    # 520 rows at 2 and at 5 hours (all rows held, 1,036 and 2,588): a 10-minute file plus
    # the rule windows (one per step), whatever the hours; the open episodes are summaries
    assert steps.correlation["held_max_rows"] < 700, steps.correlation
