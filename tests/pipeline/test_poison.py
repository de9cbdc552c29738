"""No single input stops a run: a time nanoseconds cannot hold is dead-lettered with its reason
and the rest of its batch goes on; a chunk that keeps no event (a long stretch of lines no rule
reads) is the ordinary case, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from secops.correlate import load_rules
from secops.normalise import ParseReport
from secops.normalise.batch import Options
from secops.parallel import read_parallel
from secops.pipeline import enrich_and_select
from secops.topology import load_topology
from tests.helpers import EXAMPLE_TOPOLOGY, read_events
from tests.normalise.test_poison_lines import EVE

NOW = datetime(2026, 11, 27, tzinfo=UTC)
GOOD_SSHD = "Nov 20 04:51:{s:02d} web01 sshd[7]: Failed password for root from 203.0.113.9 port 4{s:04d} ssh2"

#: one line per format whose date lies in the year 2326 (out of pandas' nanosecond range)
POISON = {
    "access": '203.0.113.5 - - [20/Nov/2326:04:51:54 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"',
    "rfc5424": "<38>1 2326-10-11T22:14:15.003Z web01 sshd 4711 - - Failed password for root "
    "from 203.0.113.9 port 4000 ssh2",
    "suricata": json.dumps({**EVE, "timestamp": "2326-11-20T04:51:54.000000+0000"}),
    "ecs": json.dumps({"@timestamp": "2326-11-20T04:51:54Z", "event": {"action": "x"}}),
}


@pytest.mark.parametrize("fmt", sorted(POISON))
def test_a_time_out_of_range_is_dead_lettered_and_the_batch_goes_on(
    tmp_path: Path, fmt: str
) -> None:
    good = [GOOD_SSHD.format(s=s) for s in range(20)]
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(good[:10] + [POISON[fmt]] + good[10:]) + "\n")
    dead = tmp_path / "dead.jsonl"
    report = ParseReport()
    events = read_events([str(path)], report, year=2026, now=NOW, dead_letter=dead)
    assert len(events) == 20
    letters = [json.loads(x) for x in dead.read_text().splitlines()]
    assert [(d["line"], d["reason"]) for d in letters] == [(11, "missing or invalid timestamp")]
    counts = report.to_dict()
    assert (counts["lines_read"], counts["parsed"], counts["dead_lettered"]) == (21, 20, 1)


def test_a_year_out_of_range_dead_letters_its_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_text("\n".join(GOOD_SSHD.format(s=s) for s in range(5)) + "\n")
    dead = tmp_path / "dead.jsonl"
    events = read_events([str(path)], ParseReport(), year=2300, now=NOW, dead_letter=dead)
    assert events.empty
    assert len(dead.read_text().splitlines()) == 5


def _cron(n: int) -> list[str]:
    return [
        f"Nov 20 04:{i // 3600 % 60:02d}:{i // 60 % 60:02d} web01 CRON[{i}]: (root) CMD (run-parts)"
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "shape",
    ["nothing kept then a burst", "everything kept", "one event per chunk"],
)
def test_chunks_that_keep_nothing_everything_or_one_event(tmp_path: Path, shape: str) -> None:
    failures = [GOOD_SSHD.format(s=s) for s in range(30)]
    lines = {
        "nothing kept then a burst": _cron(3000) + failures,
        "everything kept": failures * 20,
        "one event per chunk": [x for s in range(30) for x in [*_cron(40), failures[s]]],
    }[shape]
    path = tmp_path / "auth.log"
    path.write_text("\n".join(lines) + "\n")
    rules = load_rules(None)
    prepare = enrich_and_select(rules, load_topology(EXAMPLE_TOPOLOGY))
    want = read_events([str(path)], ParseReport(), year=2026, now=NOW, prepare=prepare)
    opts = Options(year=2026, tz="UTC", now=NOW, keep_original=False)
    frames = [
        f
        for f, _ in read_parallel(
            [str(path)], ParseReport(), prepare=prepare, workers=2, opts=opts, chunk_bytes=2000
        )
    ]
    assert any(f.empty for f in frames) == (shape != "everything kept")
    got = pd.concat(frames, ignore_index=True)
    assert sorted(got["event.id"]) == sorted(want["event.id"])
    assert len(got) == len(want) >= 30


def test_a_big_input_whose_first_chunks_keep_nothing_still_reports_the_attack(
    tmp_path: Path,
) -> None:
    """The reported case: 400,000 cron lines (~30 MB, several 8 MB work items that keep no
    event) and then 30 sshd failures from one source."""
    lines = _cron(400_000) + [
        f"Nov 20 05:10:{s:02d} web01 sshd[9]: Failed password for root from 203.0.113.9 "
        f"port {40000 + s} ssh2"
        for s in range(30)
    ]
    path = tmp_path / "big.log"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "findings.jsonl"
    cmd = [
        str(Path(sys.executable).with_name("secops")),
        "correlate",
        "-i",
        str(path),
        "--year",
        "2026",
    ]
    done = subprocess.run([*cmd, "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    findings = [json.loads(x) for x in out.read_text().splitlines()]
    assert any(f["source"]["ip"] == "203.0.113.9" for f in findings)
