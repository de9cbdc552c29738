"""`findings show --events` on a long episode: the finding keeps the first and last ids only
(`evidence.omitted` counts the rest) and the rest is re-read by its key, time range and the
rule's conditions: every evidence event comes back, and nothing the rule did not read."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from secops.cli.main import cli

FAIL = (
    "Nov 20 10:{m:02d}:{s:02d} web01 sshd[{pid}]: Failed password for root from {ip} port {p} ssh2"
)
OK = "Nov 20 10:{m:02d}:{s:02d} web01 sshd[{pid}]: Accepted password for root from {ip} port {p} ssh2"


def test_omitted_evidence_is_re_read_by_key_and_time(tmp_path: Path) -> None:
    lines = []
    for i in range(60):  # one brute force, 60 failures, 5 s apart
        m, s = divmod(5 * i, 60)
        lines.append(FAIL.format(m=m, s=s, pid=100 + i, ip="203.0.113.9", p=40000 + i))
        # same time range, another source (other key) and a success (not the rule's rows)
        lines.append(FAIL.format(m=m, s=s, pid=900, ip="198.51.100.1", p=1))
    lines.append(OK.format(m=2, s=1, pid=5, ip="203.0.113.9", p=2))
    log = tmp_path / "auth.log"
    log.write_text("\n".join(lines) + "\n")
    data = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()
    res = runner.invoke(cli, ["correlate", "-i", str(log), "--year", "2026", "--json", *data])
    assert res.exit_code == 0, res.output
    found = json.loads(res.stdout)["findings"]
    [brief] = [
        f for f in found if f["rule"] == "ssh-brute-force" and f["source.ip"] == "203.0.113.9"
    ]
    assert brief["events"] == 60
    res = runner.invoke(
        cli,
        ["findings", "show", brief["id"], "--events", "-i", str(log), "--year", "2026", "--json"]
        + data,
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    evidence = doc["finding"]["evidence"]
    assert len(evidence["event_ids"]) < 60 and evidence["omitted"] == 60 - len(
        evidence["event_ids"]
    )
    events = evidence["events"]
    assert len(events) == 60 and len({e["event.id"] for e in events}) == 60
    assert {e["source.ip"] for e in events} == {"203.0.113.9"}
    assert {e["event.outcome"] for e in events} == {"failure"}
