"""`secops findings ack|assign|resolve|duplicate|show --events|list --overdue`, `secops rules
health`, through CliRunner on real files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from secops.cli.main import cli
from tests.triage.test_feedback_loop import correlate, invoke


def ids(story: Path, tmp_path: Path) -> tuple[Path, dict]:
    exc = tmp_path / "exceptions"
    exc.mkdir()
    data = tmp_path / "data"
    return data, correlate(story, data, exc)


def test_lifecycle_through_the_cli(story: Path, tmp_path: Path) -> None:
    data, found = ids(story, tmp_path)
    a, b, c = sorted(found)
    d = ("--data-dir", str(data), "--analyst", "carol")
    assert "acknowledged" in invoke("findings", "ack", a, "--note", "on it", *d)
    out = json.loads(invoke("findings", "assign", a, "dave", *d, "--json"))
    assert out["status"] == "acknowledged" and out["triage"]["assignee"] == "dave"
    assert "resolved" in invoke("findings", "resolve", a, *d)
    assert "duplicate" in invoke("findings", "duplicate", b, "--of", c, *d)
    res = CliRunner().invoke(cli, ["findings", "ack", a, *d])
    assert res.exit_code == 1 and "cannot ack" in res.output
    shown = invoke("findings", "show", a, "--data-dir", str(data))
    assert "carol ack (open -> acknowledged): on it" in shown and "assignee: dave" in shown


def test_show_events_rereads_the_evidence(story: Path, tmp_path: Path) -> None:
    data, found = ids(story, tmp_path)
    fid = next(f["id"] for f in found.values() if f["rule"] == "ssh-brute-force")
    doc = json.loads(
        invoke(
            "findings",
            "show",
            fid,
            "--events",
            "-i",
            str(story),
            "--year",
            "2026",
            "--data-dir",
            str(data),
            "--json",
        )  # fmt: skip
    )
    events = doc["finding"]["evidence"]["events"]
    assert len(events) == 12 and all(e["source.ip"] == "198.51.100.7" for e in events)
    assert events[0]["message"].startswith("Failed password for root")


def test_overdue_and_rule_health(story: Path, tmp_path: Path) -> None:
    data, found = ids(story, tmp_path)
    cfg = tmp_path / "secops.yaml"
    cfg.write_text("sla:\n  high: {ack: 0s}\n  medium: {ack: 0s}\n")
    late = json.loads(
        invoke(
            "--config", str(cfg), "findings", "list", "--overdue", "--data-dir", str(data), "--json"
        )
    )
    assert {f["id"] for f in late} == set(found)
    fp = next(f["id"] for f in found.values() if f["source.ip"] == "10.20.1.15")
    invoke("findings", "false-positive", fp, "--data-dir", str(data))
    health = json.loads(invoke("rules", "health", "--data-dir", str(data), "--json"))
    assert health[0]["rule"] == "port-scan-vertical"
    assert health[0]["false_positive"] == 1 and health[0]["share_false_positive"] == 0.5
    assert health[0]["precision"] == 0.0
