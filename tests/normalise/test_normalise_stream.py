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
        "Nov 20 10:00:00 h ftpd[5]: connection from 192.0.2.1",
        "Nov 20 10:00:00 h sshd[5]: words sshd never writes",
        "",
        "x" * (70 * 1024),
        "\x00\x01binary",
        '{"broken',
    ]
    events, report = run_lines(lines, dead_letter=dead)
    records = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in records] == [
        (2, "no parser for program ftpd"),
        (3, "no pattern matched in parser sshd"),
        (5, "line too long"),
        (6, "binary data (NUL or invalid UTF-8 bytes)"),
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
    assert merged["lines_read"] == 5 and merged["coverage"] == {
        "x": {"sshd": 3, "unparsed": 1, "blank": 1}  # every line of x: 3 + 1 + 1 = 5
    }


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


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_json_objects = st.dictionaries(
    st.sampled_from(["event_type", "@timestamp", "timestamp", "src_ip", "src_port", "event", "x"]),
    _json_values,
    max_size=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(objects=st.lists(_json_objects, min_size=1, max_size=30))
def test_arbitrary_json_objects_never_raise(tmp_path_factory, objects: list[dict]) -> None:
    path = tmp_path_factory.mktemp("json") / "eve.json"
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    report = ParseReport()
    frames = list(iter_events([str(path)], report=report))
    assert report.lines_read == len(objects) == report.parsed + report.dead_lettered
    assert sum(len(f) for f in frames) == report.parsed


def test_json_times_follow_tz_only_when_naive(run_lines) -> None:
    lines = [
        json.dumps({"event_type": "flow", "timestamp": "2026-11-20T10:00:00"}),
        json.dumps({"event_type": "flow", "timestamp": "2026-11-20T10:00:00+0000"}),
        json.dumps({"@timestamp": "2026-11-20T10:00:00Z", "event": {"action": "x"}}),
    ]
    events, _ = run_lines(lines, tz="Europe/Berlin")
    assert list(events["@timestamp"].dt.hour) == [9, 10, 10]
