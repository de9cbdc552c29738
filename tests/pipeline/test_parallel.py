"""Parsing in worker processes gives what a serial read gives: events (ids included), the
parse report and the dead letters (line numbers included), whatever the chunking."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from secops.collect import iter_range, split_ranges
from secops.correlate import load_rules
from secops.normalise import ParseReport
from secops.normalise.batch import Options
from secops.normalise.events import EventIds
from secops.parallel import read_parallel
from secops.pipeline import enrich_and_select, rule_columns
from secops.topology import load_topology
from tests.helpers import read_events

NOW = datetime(2026, 11, 27, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _corpus(tmp_path: Path) -> Path:
    lines = []
    for i in range(600):
        lines.append(
            f"Nov 20 10:{i // 60:02d}:{i % 60:02d} web01 sshd[77]: Failed password for root "
            f"from 203.0.113.{i % 7} port {40000 + i % 3} ssh2"
        )
        lines.append("Nov 20 10:00:00 web01 sshd[1]: Connection closed by 198.51.100.9 port 22")
        # the same kept line again and again: each copy needs an id of its own
        lines.append(
            "Nov 20 10:00:01 web01 sshd[2]: Failed password for x from 192.0.2.1 port 1 ssh2"
        )
        if i % 50 == 0:
            lines.append(f"garbage line {i} that no parser knows")
        if i % 40 == 0:
            lines.append(
                f"Nov 20 10:{i // 60:02d}:00 fw01 kernel: [1.0] DROP IN=eth0 OUT= "
                f"SRC=203.0.113.5 DST=10.10.0.10 LEN=60 PROTO=TCP SPT=5555 DPT={i}"
            )
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def _serial(path: Path, prepare, dead: Path) -> tuple[pd.DataFrame, ParseReport]:
    report = ParseReport()
    events = read_events(
        [str(path)], report, year=2026, now=NOW, dead_letter=dead, prepare=prepare, workers=1
    )
    return events, report


@pytest.mark.parametrize("chunk_bytes", [1500, 20_000])
def test_workers_match_the_serial_read(tmp_path: Path, chunk_bytes: int) -> None:
    path = _corpus(tmp_path)
    rules = load_rules(None)
    prepare = enrich_and_select(rules, load_topology(ROOT / "topology" / "example"))
    heavy = [c for c in ("event.original", "message") if c not in rule_columns(rules)]

    def trim(frame: pd.DataFrame) -> pd.DataFrame:
        return prepare(frame.drop(columns=[c for c in heavy if c in frame.columns]))

    want, want_report = _serial(path, trim, tmp_path / "serial.jsonl")
    report = ParseReport()
    opts = Options(year=2026, tz="UTC", now=NOW, keep_original=False)
    got = read_parallel(
        [str(path)], report, prepare=trim, workers=2, opts=opts,
        dead_letter=tmp_path / "parallel.jsonl", chunk_bytes=chunk_bytes,
    )  # fmt: skip
    frames = [frame for frame, _ in got]
    assert len(split_ranges(str(path), chunk_bytes)) > (1 if chunk_bytes < 10_000 else 0)
    got_events = pd.concat(frames, ignore_index=True)
    assert len(got_events) == len(want) > 0
    assert got_events["event.id"].is_unique
    assert (got_events["source.ip"] == "192.0.2.1").sum() == 600
    pd.testing.assert_frame_equal(got_events[want.columns], want)
    got_report, want_dict = report.to_dict(), want_report.to_dict()
    assert got_report.pop("dead_letter_path").endswith("parallel.jsonl")
    want_dict.pop("dead_letter_path")
    assert got_report == want_dict
    serial = [json.loads(x) for x in (tmp_path / "serial.jsonl").read_text().splitlines()]
    parallel = [json.loads(x) for x in (tmp_path / "parallel.jsonl").read_text().splitlines()]
    assert parallel == serial and len(serial) == 12


def test_ranges_cover_the_file_at_line_boundaries(tmp_path: Path) -> None:
    path = _corpus(tmp_path)
    ranges = split_ranges(str(path), 1000)
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    lines = [x for s, e in ranges for b in iter_range(str(path), s, e, 100) for x in b.lines]
    assert [str(x) for x in lines] == path.read_text().splitlines()


def test_event_ids_forget_only_lines_of_the_past() -> None:
    """Counting occurrences keeps one entry per distinct line; `forget` drops the lines
    older than a time (a chunked run restarts whole if such a line comes back), and lines
    from then on keep counting exactly."""
    ids = EventIds()
    old = np.arange(1, 50_001, dtype=np.uint64)
    recent = np.arange(100_001, 100_101, dtype=np.uint64)
    hashes = np.concatenate([old, recent, recent])
    times = np.concatenate([np.full(50_000, 1_000), np.full(200, 9_000)]).astype(np.int64)
    first = ids.occurrences("f", hashes, times)
    assert first[-100:].tolist() == [1] * 100
    ids.forget(5_000)
    assert sum(len(k) for k, _, _ in ids._seen["f"]._runs) == 100
    again = ids.occurrences("f", recent, np.full(100, 9_000, dtype=np.int64))
    assert again.tolist() == [2] * 100
