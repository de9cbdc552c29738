"""The embedded store: re-runs overwrite, a growing finding keeps its id, cut findings are kept."""

from __future__ import annotations

import json

from secops.pipeline import run
from secops.sink import JsonlSink, LocalStore

LINE = "Nov 20 10:{m:02d}:{s:02d} web01 sshd[{pid}]: Failed password for root from 198.51.100.7 port {port} ssh2\n"


def write_failures(path, n, start=0):
    with open(path, "a") as f:
        for i in range(start, start + n):
            f.write(LINE.format(m=i * 10 // 60, s=i * 10 % 60, pid=1000 + i, port=40000 + i))


def test_rerun_overwrites_and_growth_updates(tmp_path):
    log = tmp_path / "auth.log"
    write_failures(log, 12)
    store = LocalStore(tmp_path / "data")
    run([str(log)], sinks=[store], year=2026)
    run([str(log)], sinks=[store], year=2026)
    docs = store.query()
    assert len(docs) == 1
    first = docs[0]
    write_failures(log, 6, start=12)  # the same attack goes on
    run([str(log)], sinks=[store], year=2026)
    (grown,) = store.query()
    assert grown["finding"]["id"] == first["finding"]["id"]
    assert grown["finding"]["evidence"]["count"] == 18 > first["finding"]["evidence"]["count"]
    assert grown["event"]["end"] > first["event"]["end"]
    assert grown["finding"]["first_seen"] == first["finding"]["first_seen"]


def test_jsonl_sink_writes_one_document_per_finding(tmp_path):
    log = tmp_path / "auth.log"
    write_failures(log, 12)
    out = tmp_path / "out" / "findings.jsonl"
    result = run([str(log)], sinks=[JsonlSink(out)], year=2026)
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(docs) == len(result.findings) == 1
    doc = docs[0]
    assert doc["event"]["kind"] == "alert" and doc["rule"]["id"] == "ssh-brute-force"
    assert doc["source"]["ip"] == "198.51.100.7" and doc["related"]["ip"] == ["198.51.100.7"]
    assert (
        doc["finding"]["evidence"]["count"] == 12
        and len(doc["finding"]["evidence"]["event_ids"]) == 12
    )
    assert 0 < doc["event"]["risk_score"] <= 100
    assert doc["finding"]["suppressed"] is False
