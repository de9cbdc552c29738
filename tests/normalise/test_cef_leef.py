"""CEF and LEEF: the published CEF samples of Elastic's integration (tests/data/cef) and the
key=value reading both formats share (values with spaces, quotes, escapes, any key order)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from secops.normalise import ParseReport, iter_events

DATA = Path(__file__).resolve().parents[1] / "data" / "cef"


def _run(path: Path, dead: Path | None = None) -> tuple[pd.DataFrame, ParseReport]:
    report = ParseReport()
    frames = list(iter_events([str(path)], report=report, dead_letter=dead, year=2026))
    return pd.concat(frames, ignore_index=True), report


def test_every_forcepoint_sample_line_parses() -> None:
    lines = (DATA / "test-fp-ngfw-smc.log").read_text().splitlines()
    events, report = _run(DATA / "test-fp-ngfw-smc.log")
    assert report.dead_lettered == 0 and len(events) == len(lines) == 10
    codes = [line.split("|")[4] for line in lines]
    assert list(events["event.code"]) == codes
    assert set(events["observer.vendor"]) == {"FORCEPOINT"}
    discarded = events[events["event.code"] == "70019"].iloc[0]
    assert (discarded["source.ip"], discarded["source.port"]) == ("172.16.1.1", 68)
    assert (discarded["destination.ip"], discarded["destination.port"]) == ("89.160.20.156", 67)
    assert discarded["@timestamp"] == pd.Timestamp("2020-01-17T08:56:21Z")


def test_lines_without_a_time_are_dead_lettered_and_read_behind_a_syslog_header(
    tmp_path: Path,
) -> None:
    bare = (DATA / "test-cef.log").read_text().splitlines()
    dead = tmp_path / "dead.jsonl"
    events, report = _run(DATA / "test-cef.log", dead)
    assert events.empty and report.dead_lettered == 4
    reasons = {json.loads(line)["reason"] for line in dead.read_text().splitlines()}
    assert reasons == {"missing or invalid timestamp"}
    wrapped = tmp_path / "syslog.log"
    wrapped.write_text(
        "".join(f"<134>Nov 20 10:00:0{i} cef-relay {b}\n" for i, b in enumerate(bare))
    )
    events, report = _run(wrapped)
    assert report.dead_lettered == 0 and len(events) == 4
    first, second, _, padded = (events.iloc[i] for i in range(4))
    assert (first["source.ip"], first["destination.port"]) == ("89.160.20.156", 443)
    assert first["network.transport"] == "tcp" and first["http.request.method"] == "POST"
    assert first["url.original"] == "https://www.example.com/cart"
    assert (second["user.name"], second["user.effective.name"]) == ("bob", "alice")
    assert (padded["source.ip"], padded["destination.ip"]) == ("192.168.3.4", "192.168.1.2")
    assert set(events["host.name"]) == {"cef-relay"}


def test_key_value_reading(tmp_path: Path) -> None:
    path = tmp_path / "kv.log"
    path.write_text(
        'CEF:0|V|P|1|7|N|5|msg=a b\\=c d suser="x y" act=drop rt=1700000000000 src=10.0.0.1\n'
        "LEEF:1.0|V|P|1|7|usrName=first last\tsrc=10.0.0.2\tdevTime=2026-11-20T10:00:00Z\n"
        "LEEF:2.0|V|P|1|7|^|src=10.0.0.3^usrName=u3^devTime=1700000000000\n"
    )
    events, report = _run(path)
    assert report.dead_lettered == 0
    cef, leef1, leef2 = (events.iloc[i] for i in range(3))
    assert cef["message"] == "a b=c d" and cef["user.name"] == "x y"
    assert cef["event.action"] == "drop" and cef["source.ip"] == "10.0.0.1"
    assert cef["@timestamp"] == pd.Timestamp("2023-11-14T22:13:20Z")
    assert (leef1["user.name"], leef1["source.ip"]) == ("first last", "10.0.0.2")
    assert leef1["@timestamp"] == pd.Timestamp("2026-11-20T10:00:00Z")
    assert (leef2["user.name"], leef2["source.ip"]) == ("u3", "10.0.0.3")
