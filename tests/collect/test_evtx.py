"""`.evtx` inputs: told by their magic bytes (not their name), one JSON record per line, and a
damaged file's unreadable chunks dead-lettered with the reader's reason, never dropped."""

from __future__ import annotations

import json

import pandas as pd

from secops import collect
from secops.normalise import ParseReport, iter_events
from tests.helpers import shared

SYSMON_CASE = (
    "sigma-rules/sigmahq/regression_data/rules/windows/file/file_event/"
    "file_event_win_hktl_netexec_file_indicators/efc21479-9e83-41da-8cf1-122e06ba8db3.evtx"
)


def test_an_evtx_file_is_told_by_its_magic_bytes_whatever_its_name(tmp_path):
    renamed = tmp_path / "exported.log"
    renamed.write_bytes(shared(SYSMON_CASE).read_bytes())
    [batch] = list(collect.iter_batches([str(renamed)]))
    records = [json.loads(line) for line in batch.lines.to_pylist()]
    assert len(records) == 7 and batch.first_line == 1
    assert {r["Event"]["System"]["Channel"] for r in records} == {
        "Microsoft-Windows-Sysmon/Operational"
    }
    assert collect.split_ranges(str(renamed), 1024) == [(0, -1)]  # read whole, never cut
    assert collect.head_lines(str(renamed), 0, 3) is None


def test_a_text_file_named_evtx_is_read_as_text(tmp_path):
    fake = tmp_path / "notes.evtx"
    fake.write_text("ElfFile is not at the start\nsecond line\n")
    [batch] = list(collect.iter_batches([str(fake)]))
    assert batch.lines.to_pylist() == ["ElfFile is not at the start", "second line"]


def test_every_record_becomes_an_event_with_the_windows_fields():
    report = ParseReport()
    events = pd.concat(list(iter_events([str(shared(SYSMON_CASE))], report=report)))
    assert (report.lines_read, report.parsed, report.dead_lettered) == (7, 7, 0)
    assert set(events["winlog.event_id"]) == {"11"} and set(events["event.code"]) == {"11"}
    assert events["winlog.event_data.TargetFilename"].notna().all()
    assert events["host.name"].notna().all() and events["process.name"].notna().all()


def test_a_damaged_evtx_file_is_dead_lettered_with_the_reason(tmp_path):
    data = bytearray(shared(SYSMON_CASE).read_bytes())
    data[0x1000 + 0x200 : 0x1000 + 0x400] = b"\xff" * 0x200  # inside the first chunk
    damaged = tmp_path / "damaged.evtx"
    damaged.write_bytes(bytes(data))
    report = ParseReport()
    dead = tmp_path / "dead.jsonl"
    list(iter_events([str(damaged)], report=report, dead_letter=dead))
    assert report.dead_lettered >= 1 and report.lines_read == report.parsed + report.dead_lettered
    [first, *_] = [json.loads(line) for line in dead.read_text().splitlines()]
    assert first["file"] == str(damaged) and first["raw"].startswith("evtx: unreadable")
