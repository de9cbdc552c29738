"""`secops topology map --findings --since` says how many open findings lie outside the period
and when the newest of them ended, instead of silently drawing none."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from secops.cli.main import cli
from tests.helpers import EXAMPLE_TOPOLOGY
from tests.triage.conftest import story  # noqa: F401  (three findings on 2026-11-20)
from tests.triage.test_feedback_loop import correlate


def draw(data: Path, out: Path, *since: str) -> str:
    res = CliRunner(env={"SECOPS_CONFIG": os.devnull}).invoke(
        cli,
        ["topology", "map", "--topology", str(EXAMPLE_TOPOLOGY), "--findings", *since,
         "--out", str(out), "--data-dir", str(data)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return res.stderr


def test_findings_older_than_since_are_counted_with_the_newest_time(
    story: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    data, exc = tmp_path / "data", tmp_path / "exceptions"
    exc.mkdir()
    assert len(correlate(story, data, exc)) == 3
    text = draw(data, tmp_path / "map.svg", "--since", "24h")  # the logs are of 2026-11-20
    assert "0 open findings" in text
    # hand-computed: the last failed login of the brute force is at 05:00:44
    assert "note: 3 open findings ended before" in text
    assert "the newest at 2026-11-20T05:00:44Z" in text
    inside = draw(data, tmp_path / "map2.svg", "--since", "2026-11-20T03:00:00")
    assert "2 open findings)" in inside  # the external scan and the brute force
    assert "note: 1 open finding ended before 2026-11-20T03:00:00Z" in inside
    assert "note:" not in draw(data, tmp_path / "map3.svg")  # no period, nothing left out
