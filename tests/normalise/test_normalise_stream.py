"""iter_events behaviour: years and zones, dead letters, ids, options, and a never-raise property."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secops.normalise import ParseReport, iter_events

SSH = "{ts} h sshd[1]: Failed password for root from 192.0.2.10 port 40000 ssh2"


def test_rfc3164_year_rolls_back_when_in_the_future(run_lines) -> None:
    lines = [SSH.format(ts="Dec 31 23:59:00"), SSH.format(ts="Jan  2 00:00:01")]
    events, _ = run_lines(lines, now=datetime(2027, 1, 3, tzinfo=UTC))
    assert list(events["@timestamp"].dt.year) == [2026, 2027]
    tomorrow, _ = run_lines(
        [SSH.format(ts="Jan  3 20:00:00")], now=datetime(2027, 1, 3, 8, tzinfo=UTC)
    )
    assert tomorrow["@timestamp"].iloc[0].year == 2027  # within the one-day slack


def test_explicit_year_and_zone(run_lines) -> None:
    events, _ = run_lines([SSH.format(ts="Jul  1 12:00:00")], year=2020, tz="Europe/Berlin")
    assert events["@timestamp"].iloc[0] == pd.Timestamp("2020-07-01T10:00:00Z")


def test_dead_letter_file_records_file_line_reason(run_lines, tmp_path: Path) -> None:
    dead = tmp_path / "dead.jsonl"
    lines = [
        SSH.format(ts="Nov 20 10:00:00"),
        "Nov 20 10:00:00 h cron[5]: (root) CMD (x)",
        "Nov 20 10:00:00 h sshd[5]: words sshd never writes",
        "",
        "x" * (70 * 1024),
        "\x00\x01binary",
        '{"broken',
    ]
    events, report = run_lines(lines, dead_letter=dead)
    records = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in records] == [
        (2, "no parser for program cron"),
        (3, "no pattern matched in parser sshd"),
        (5, "line too long"),
        (6, "unrecognised format"),
        (7, "invalid JSON"),
    ]
    assert len(records[2]["raw"]) == 64 * 1024
    assert (report.lines_read, report.parsed, report.dead_lettered, report.blank) == (7, 1, 5, 1)
    assert report.dead_letter_path == str(dead)


def test_event_ids_stable_and_unique_for_repeated_lines(run_lines) -> None:
    line = SSH.format(ts="Nov 20 10:00:00")
    first, _ = run_lines([line, line, line])
    again, _ = run_lines([line, line, line])
    assert first["event.id"].is_unique
    assert list(first["event.id"]) == list(again["event.id"])
    assert first["event.id"].str.fullmatch(r"[0-9a-f]{32}").all()


def test_keep_original_false_and_schema(run_lines) -> None:
    from secops.schema import EVENT_COLUMNS, dtype

    events, _ = run_lines([SSH.format(ts="Nov 20 10:00:00")], keep_original=False)
    assert events["event.original"].isna().all()
    assert list(events.columns) == EVENT_COLUMNS
    assert all(events[c].dtype == dtype(c) for c in EVENT_COLUMNS)
    assert events["log.file.path"].iloc[0].endswith("input.log")


def test_report_merge_and_to_dict() -> None:
    a, b = ParseReport(), ParseReport()
    a.add("x", 3, 0, {"sshd": 2}, 1)
    b.add("x", 2, 1, {"sshd": 1}, 0)
    merged = a.merge(b).to_dict()
    assert merged["lines_read"] == 5 and merged["coverage"] == {"x": {"sshd": 3, "unparsed": 1}}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000), lines=st.lists(st.text(max_size=200), max_size=20))
def test_arbitrary_bytes_never_raise(tmp_path_factory, data: bytes, lines: list[str]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.log"
    mixed = data + "\n".join(lines).encode("utf-8", errors="surrogatepass")
    path.write_bytes(mixed)
    report = ParseReport()
    frames = list(iter_events([str(path)], report=report, dead_letter=path.with_suffix(".dead")))
    assert report.lines_read == report.parsed + report.dead_lettered + report.blank
    assert sum(len(f) for f in frames) == report.parsed
