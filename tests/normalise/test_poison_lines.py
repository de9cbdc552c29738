"""The inputs the fuzzer (test_fuzz.py) found that stopped a run or broke the accounting, each
pinned here with what should happen instead."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa

from secops.normalise.timestamps import parse_timestamps
from tests.normalise.conftest import RUN_DATE

SSH = "Nov 20 10:00:00 h sshd[1]: Failed password for root from 192.0.2.10 port {port} ssh2"
EVE = {
    "timestamp": "2026-11-20T10:00:00.000000+0000",
    "event_type": "alert",
    "src_ip": "203.0.113.9",
    "src_port": 4000,
    "dest_ip": "10.10.0.11",
    "dest_port": 22,
    "proto": "TCP",
    "alert": {"signature": "ET SCAN", "signature_id": 1, "severity": 2},
}


def test_a_lone_surrogate_escape_in_json_is_replaced_not_a_crash(run_lines) -> None:
    """`"\\ud800"` is valid JSON text that Arrow's reader refuses and json.loads decodes to a
    str no Arrow array can hold (UnicodeEncodeError stopped the batch)."""
    ecs = '{"@timestamp":"2026-11-20T10:00:00Z","event":{"action":"x"},"user":{"name":"a\\ud800"}}'
    keyed = '{"@timestamp":"2026-11-20T10:00:00Z","event":{"action":"x"},"\\udc00":"1"}'
    events, report = run_lines([ecs, keyed])
    assert (report.parsed, report.dead_lettered) == (2, 0)
    assert events["user.name"].iloc[0] == "a\ufffd"


def test_an_iso_time_with_a_broken_offset_beside_naive_ones_is_dead_lettered(
    run_lines, tmp_path: Path
) -> None:
    """ "+000" (three digits) is no offset to the format check, but pandas read it as one, and
    one zoned text among naive ones failed the batch ("Mixed timezones detected")."""
    broken = {**EVE, "timestamp": "2026-11-20T02:16:28.361489+000 "}
    naive = {**EVE, "timestamp": "2019-01-02T06:00:44.732569"}
    dead = tmp_path / "dead.jsonl"
    events, report = run_lines([json.dumps(naive), json.dumps(broken)], dead_letter=dead)
    assert list(events["@timestamp"]) == [pd.Timestamp("2019-01-02T06:00:44.732569Z")]
    letter = json.loads(dead.read_text())
    assert (letter["line"], letter["reason"]) == (2, "missing or invalid timestamp")


def test_naive_iso_times_parse_alone_and_junk_after_them_is_invalid() -> None:
    text = pa.array(["2026-11-20T10:00:00", "2026-11-20 10:00", "2026-11-20T10:00:00+000"])
    got = parse_timestamps(text, year=None, tz="UTC", now=RUN_DATE)
    assert list(got[:2]) == [pd.Timestamp("2026-11-20T10:00:00Z")] * 2
    assert pd.isna(got[2])


def test_ports_outside_0_to_65535_are_no_port_and_the_event_stays(run_lines) -> None:
    """Fuzzed ports -1, -22, 65536 and 1700000000 came out as source.port."""
    eve = [json.dumps({**EVE, "src_port": p, "dest_port": p}) for p in (-1, 65536, 1e30)]
    lines = [SSH.format(port=p) for p in (65536, 1700000000, 0, 65535)] + eve
    events, report = run_lines(lines, year=2026)
    assert report.parsed == 7
    assert events["source.port"].tolist()[:4] == [pd.NA, pd.NA, 0, 65535]
    assert events["source.port"].iloc[4:].isna().all()
    assert events["destination.port"].iloc[4:].isna().all()


def test_a_dead_letter_is_one_line_whatever_line_breaks_its_raw_text_holds(
    run_lines, tmp_path: Path
) -> None:
    """U+2028, U+2029 and NEL are left raw by json.dumps; str.splitlines cut the record."""
    dead = tmp_path / "dead.jsonl"
    lines = ["junk \u2028 more", "junk \u2029 more", "junk \x85 more", "junk \x0c more"]
    run_lines(lines, dead_letter=dead)
    records = dead.read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["raw"] for r in records] == lines


def test_windows_events_keep_only_their_own_fields_beside_other_json(run_lines) -> None:
    """A batch of Suricata lines with one Windows event gave it a `winlog.event_data.` column
    for every field of every JSON line (fuzzed objects: 900 columns, 25 s for 50,000 lines)."""
    win = {"EventID": 4624, "Channel": "Security", "TargetUserName": "bob"}
    win["@timestamp"] = "2026-11-20T10:00:00Z"
    odd = [json.dumps({**EVE, f"odd{i}": i}) for i in range(100)]
    events, report = run_lines([json.dumps(win), *odd])
    assert report.parsed == 101
    extra = sorted(c for c in events.columns if c.startswith("winlog.event_data."))
    assert extra == [f"winlog.event_data.{k}" for k in sorted(win)]


def test_a_file_starting_with_thousands_of_brackets_is_read_as_lines(run_lines) -> None:
    """The JSON-array check of the collector ran json.loads on "[[[[..." (fuzz seed 3: a
    mutated first line): RecursionError stopped the run before any line was read."""
    events, report = run_lines(["[" * 4000 + " x", SSH.format(port=22)], year=2026)
    assert (report.lines_read, report.parsed, report.dead_lettered) == (2, 1, 1)


def test_json_nested_too_deep_is_dead_lettered_alike_whichever_decoder_reads_it(
    run_lines, tmp_path: Path
) -> None:
    """Arrow read a list 1,200 deep and json.dumps of its first element overflowed the stack;
    json.loads (the fallback for a chunk with a bad line) refused it: the same line gave a
    crash or a dead letter depending on its neighbours."""
    head = '{"@timestamp":"2026-11-20T10:00:00Z","event":{"action":"x"},"deep":'
    deep = [
        head + o * n + "1" + c * n + "}"
        for o, c in (("[", "]"), ('{"a":', "}"))
        for n in (257, 1200)
    ]
    fine = head + "[" * 250 + "1" + "]" * 250 + "}"
    for neighbour in ([], ['{"broken"}']):
        dead = tmp_path / f"dead-{len(neighbour)}.jsonl"
        events, report = run_lines([*deep, fine, *neighbour], dead_letter=dead)
        assert report.parsed == 1
        reasons = [json.loads(x)["reason"] for x in dead.read_text().splitlines()]
        assert reasons[:4] == ["JSON nested deeper than 256 levels"] * 4


def test_a_json_line_reads_alike_beside_a_bad_line(run_lines) -> None:
    """A bad line sends its chunk from Arrow to json.loads; these lines read otherwise there:
    port 22.0 (Arrow: 22, json.loads: no port), signature id 2**63 (9.223372036854776e+18 /
    9223372036854775808), `"EventID": []` and `"EventID": ""` (ECS event / Windows event)."""
    win = {"EventID": 4625, "Channel": "Security", "@timestamp": "2026-11-20T10:00:00Z"}
    lines = [
        json.dumps({**EVE, "src_port": 22.0}),
        json.dumps({**EVE, "alert": {**EVE["alert"], "signature_id": 2**63}}),
        json.dumps({**win, "EventID": []}),
        json.dumps({**win, "EventID": ""}),
    ]
    alone, _ = run_lines(lines)
    beside, _ = run_lines([*lines, '{"broken"}'])
    columns = ["source.port", "rule.id", "event.dataset", "event.action"]
    pd.testing.assert_frame_equal(alone[columns], beside[columns])
    assert alone["source.port"].iloc[0] == 22
    assert alone["event.dataset"].tolist()[2:] == ["ecs", "ecs"]


def test_a_nested_field_wins_over_the_same_dotted_key_in_either_decoder(run_lines) -> None:
    """{"source": {"port": 1}, "source.port": 2}: Arrow took the first column, json.loads the
    last key, so the port depended on the key order and on the line's neighbours."""
    head = '{"@timestamp":"2026-11-20T10:00:00Z","event":{"action":"x"},'
    lines = [
        head + '"source":{"port":1},"source.port":2}',
        head + '"source.port":2,"source":{"port":1}}',
        head + '"event.action":"y"}',
    ]
    for neighbours in ([], ['{"broken"}']):
        events, _ = run_lines([*lines, *neighbours])
        assert events["source.port"].tolist()[:2] == [1, 1]
        assert events["event.action"].tolist()[2] == "x"


def test_a_local_time_the_clocks_go_back_over_is_its_first_occurrence(run_lines) -> None:
    """`Oct 25 02:30:00` in Europe/Berlin (fuzzed BSD time) happens twice in 2026: it was
    dead-lettered as an invalid time, an hour of every host's lines each autumn."""
    lines = [
        SSH.format(port=22).replace("Nov 20 10:00:00", t)
        for t in ("Oct 25 02:30:00", "Oct 25 03:30:00")
    ]
    events, report = run_lines(lines, year=2026, tz="Europe/Berlin")
    assert report.dead_lettered == 0
    assert list(events["@timestamp"]) == [
        pd.Timestamp("2026-10-25T00:30:00Z"),  # still summer time (+02:00)
        pd.Timestamp("2026-10-25T02:30:00Z"),
    ]


def test_a_reason_names_a_long_program_in_64_characters(run_lines, tmp_path: Path) -> None:
    """A fuzzed syslog tag of 60,000 "{" came back whole in "no parser for program ..."."""
    dead = tmp_path / "dead.jsonl"
    run_lines(["Nov 20 10:00:00 h " + "{" * 60_000 + "[1]: x"], dead_letter=dead)
    reason = json.loads(dead.read_text())["reason"]
    assert reason == "no parser for program " + "{" * 64 + "..."
