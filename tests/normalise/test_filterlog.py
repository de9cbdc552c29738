"""filterlog: the published pfSense/OPNsense lines. Lines from other programs are counted by
program; lines whose BSD header names no host (`<134>Jul  3 19:10:30 filterlog[72237]: ...`)
wait for the syslog header work and are dead-lettered, not lost."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from secops.normalise import ParseReport, iter_events

DATA = Path(__file__).resolve().parents[1] / "data" / "pfsense"


def _run(path: Path, tmp_path: Path) -> tuple[pd.DataFrame, ParseReport, list[dict]]:
    report = ParseReport()
    dead = tmp_path / "dead.jsonl"
    events = pd.concat(list(iter_events([str(path)], report=report, dead_letter=dead, year=2026)))
    records = [json.loads(x) for x in dead.read_text().splitlines()] if dead.exists() else []
    return events, report, records


def test_every_opnsense_filterlog_line_parses(tmp_path: Path) -> None:
    events, report, dead = _run(DATA / "test-opensense.log", tmp_path)
    assert len(events) == 3 and set(events["event.dataset"]) == {"filterlog"}
    assert list(events["event.type"]) == ["denied", "denied", "allowed"]
    assert sorted(r["reason"] for r in dead) == [
        "no parser for program dhcpd",
        "no parser for program unbound",
    ]


def test_bsd_lines_parse_once_their_header_names_the_host(tmp_path: Path) -> None:
    lines = (DATA / "test-pfsense-bsd.log").read_text().splitlines()
    _, report, _ = _run(DATA / "test-pfsense-bsd.log", tmp_path)
    assert report.dead_lettered == len(lines)  # the host-less header: not ours to read yet
    hosted = tmp_path / "hosted.log"
    hosted.write_text(
        "".join(line.replace(" filterlog[", " pf1 filterlog[") + "\n" for line in lines)
    )
    events, report, _ = _run(hosted, tmp_path)
    assert report.dead_lettered == 0 and len(events) == len(lines)
    assert list(events["network.transport"]) == ["tcp", "udp", "udp", "igmp", "icmp"]
    assert list(events["source.port"].fillna(-1)) == [49724, 123, 546, -1, -1]
