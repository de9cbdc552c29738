"""Zeek logs: the published JSON samples, TSV read with its header (across batches, from a
batch that starts inside the file), and TSV lines that disagree with their header."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from secops.collect import LineBatch
from secops.normalise import ParseReport, iter_events, registry_for, zeek_tsv
from secops.normalise.batch import Options, normalise_batch
from secops.normalise.events import EventIds

DATA = Path(__file__).resolve().parents[1] / "data" / "zeek"
DATASET = {"conn", "dns", "http", "ssl", "ssh", "smb_files", "notice"}
#: what differs between a TSV and a JSON line of the same record, by nature
FORM = {"event.id", "event.original", "log.file.path", "zeek.ts", "zeek._path", "zeek.duration"}


def _events(paths: list[Path], **kw) -> tuple[pd.DataFrame, ParseReport]:  # noqa: ANN003
    report = ParseReport()
    frames = list(iter_events([str(p) for p in paths], report=report, **kw))
    return pd.concat(frames, ignore_index=True), report


@pytest.mark.parametrize("log", sorted(DATASET))
def test_every_published_sample_line_parses_with_its_log_type(log: str) -> None:
    path = DATA / f"{log}.json"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    events, report = _events([path])
    assert report.dead_lettered == 0 and len(events) == len(records)
    assert set(events["event.dataset"]) == {f"zeek.{log}"}
    for record, (_, row) in zip(records, events.iterrows(), strict=True):
        assert _same(row["source.ip"], record.get("id.orig_h", record.get("src")))
        port = None if record.get("proto") == "icmp" else record.get("id.resp_p")  # type, code
        assert _same(row["destination.port"], port)
        assert row["@timestamp"] == _ts(record["ts"])


def _same(value: object, expected: object) -> bool:
    return (pd.isna(value) and expected is None) or value == expected


def _ts(ts: float | str) -> pd.Timestamp:
    if isinstance(ts, str):
        return pd.Timestamp(ts)
    whole, _, fraction = repr(ts).partition(".")
    return pd.Timestamp(int(whole) * 10**9 + int(fraction.ljust(9, "0")), unit="ns", tz="UTC")


def test_tsv_lines_read_as_the_json_lines_of_the_same_records() -> None:
    tsv, report = _events([DATA / "conn.log"])
    assert report.blank == 9 and report.dead_lettered == 0  # the header and #close lines
    json_events, _ = _events([DATA / "conn.json"])
    same = json_events.set_index("zeek.uid").loc[list(tsv["zeek.uid"])].reset_index()
    columns = [c for c in tsv.columns if c not in FORM]
    pd.testing.assert_frame_equal(
        tsv[columns].reset_index(drop=True), same[columns], check_dtype=False
    )
    smb, _ = _events([DATA / "smb_files.log"])
    assert smb.loc[0, "zeek.path"] == "\\\\admin-pc\\ADMIN$"  # \x5c escapes decoded
    assert smb.loc[0, "event.dataset"] == "zeek.smb_files"


def test_the_header_holds_for_the_next_batches_of_the_input() -> None:
    events, report = _events([DATA / "conn.log"], batch_lines=2)
    assert len(events) == 3 and report.dead_lettered == 0
    assert list(events["network.transport"]) == ["udp", "icmp", "tcp"]


def test_a_batch_inside_the_file_reads_the_header_at_its_top() -> None:
    path = str(DATA / "conn.log")
    data = [line for line in (DATA / "conn.log").read_text().splitlines() if line[0] != "#"]
    zeek_tsv._LAST.pop(path, None)  # as a worker process that starts on line 10 knows nothing
    opts = Options(year=None, tz="UTC", now=pd.Timestamp.now(tz="UTC"), keep_original=True)
    batch = LineBatch(path, 10, pa.array(data[1:], pa.string()))
    result = normalise_batch(batch, registry_for(None), opts, EventIds())
    assert list(result.events["zeek.uid"]) == ["Cc6NJ3GRlfjE44I3h", "C52mXBCPJ4pPGkhr1"]
    assert result.dead.empty


def test_a_line_that_disagrees_with_its_header_is_dead_lettered(tmp_path: Path) -> None:
    lines = (DATA / "conn.log").read_text().splitlines()
    lines.insert(9, "1547188416.0\tCshort\t10.0.0.1\t1")  # 4 fields where the header names 21
    path = tmp_path / "conn.log"
    path.write_text("\n".join(lines) + "\n")
    dead = tmp_path / "dead.jsonl"
    events, report = _events([path], dead_letter=dead)
    assert len(events) == 3 and report.dead_lettered == 1
    record = json.loads(dead.read_text())
    assert record["line"] == 10 and "#fields header" in record["reason"]
