"""An episode that never closes is carried from step to step as a summary of its first rows
(`secops.judge.carry`): the findings stay those of one whole run, byte for byte, and the rows
held stay bounded by the window, whatever the input's length."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from secops.correlate.candidate import Candidate
from secops.correlate.load import load_rules
from secops.judge import carry
from secops.judge.context import carry_summaries
from secops.pipeline import RunResult, run
from secops.sink import JsonlSink
from tests.helpers import REPO

NOW = datetime(2026, 11, 27, tzinfo=UTC)
BRUTE = str(REPO / "rules" / "credential-access" / "ssh-brute-force.yaml")
SPRAY = str(REPO / "rules" / "credential-access" / "ssh-password-spraying.yaml")


def _hours(folder: Path, hours: int) -> list[Path]:
    """`hours` of one source failing SSH logins every 10 s as four users (one episode that
    never closes), a second source in bursts (episodes that close), one file per 10 minutes."""
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    files = []
    for part in range(hours * 6):
        lines = []
        for s in range(part * 600, (part + 1) * 600, 10):
            at = (t0 + timedelta(seconds=s)).strftime("%b %d %H:%M:%S")
            user = ("root", "admin", "oracle", "git")[s // 10 % 4]
            lines.append(
                f"{at} web01 sshd[7]: Failed password for {user} from 198.51.100.10 "
                f"port {40000 + s % 999} ssh2"
            )
            if s % 1800 < 120:
                lines.append(
                    f"{at} web01 sshd[8]: Failed password for admin from 203.0.113.5 port 5000 ssh2"
                )
        files.append(folder / f"auth-{part:03d}.log")
        files[-1].write_text("\n".join(lines) + "\n")
    return files


def run_steps(
    files: list[Path], out: Path, step_rows: int, rules: list[str], topology: str | None = None
) -> RunResult:
    """One serial run of `files` (`step_rows` 0: in one piece) into the JSON-lines `out`."""
    return run(
        [str(p) for p in files], sinks=[JsonlSink(out)], year=2026, now=NOW, workers=1,
        step_rows=step_rows, rules_paths=rules, topology_path=topology,
    )  # fmt: skip


def _run(files: list[Path], out: Path, step_rows: int) -> RunResult:
    return run_steps(files, out, step_rows, [BRUTE, SPRAY])


@pytest.mark.parametrize("hours", [2, 6])
def test_an_always_open_episode_is_carried_exactly_with_bounded_rows(
    tmp_path: Path, hours: int
) -> None:
    files = _hours(tmp_path, hours)
    whole = _run(files, tmp_path / "whole.jsonl", 0)
    steps = _run(files, tmp_path / "steps.jsonl", 50)
    assert whole.correlation["mode"] == "whole" and steps.correlation["steps"] >= 6 * hours
    assert (tmp_path / "steps.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    [brute] = [
        f for f in steps.findings
        if f["rule"]["id"] == "ssh-brute-force" and f["source"]["ip"] == "198.51.100.10"
    ]  # fmt: skip
    assert brute["finding"]["evidence"]["count"] == hours * 360
    assert brute["event"]["start"] == "2026-11-20T08:00:00Z"
    # a 10-minute file (about 65 rows) plus the rule windows (5 min: 30 + bursts), whatever
    # the hours: the open episode's first rows are a summary, not held
    assert steps.correlation["held_max_rows"] < 200


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def pick(values: list[str]) -> pd.api.extensions.ExtensionArray:
        at = rng.integers(0, len(values) + 1, n)  # len(values): a null
        return pd.array([values[i] if i < len(values) else None for i in at], "string[pyarrow]")

    return pd.DataFrame(
        {
            "event.id": pd.array([f"id{i:04d}" for i in range(n)], dtype="string[pyarrow]"),
            "user.name": pick([f"u{i}" for i in range(40)]),
            "source.ip": pick([f"10.0.{i}.{j}" for i in range(3) for j in range(50)]),
            "destination.ip": pick(["10.1.0.1", "10.1.0.2"]),
            "host.asset": pick(["web01", "db01", "fs01"]),
            "event.category": pick(["authentication", "network"]),
        }
    )


@pytest.mark.parametrize("n", [5, 25, 31, 200])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merged_summaries_equal_the_summary_of_all_rows(n: int, seed: int) -> None:
    """Brute-force reference: the rows summarised at once."""
    [rule] = load_rules([BRUTE])
    frame = _frame(n, seed)
    cuts = sorted(np.random.default_rng(seed).choice(np.arange(n + 1), 3).tolist())
    parts = np.split(np.arange(n), cuts)

    def cand(rows: np.ndarray) -> Candidate:
        return Candidate(rule, (), 0, 0, rows, 0)

    [whole] = carry_summaries([cand(np.arange(n))], frame)
    merged = None
    for rows in parts:
        [own] = carry_summaries([cand(rows)], frame)
        merged = own if merged is None else carry.merge(merged, own)
    assert merged == whole
    assert carry.evidence(merged) == carry.evidence(whole)
