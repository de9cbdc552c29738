"""Done means: mark the known-good look-alike false positive, accept the proposed exception,
re-run: it is cut with reason exception:<id> and nothing else changes. Through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from secops.cli.main import cli
from tests.helpers import EXAMPLE_TOPOLOGY


def invoke(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout


def correlate(logs: Path, data: Path, exceptions: Path) -> dict:
    out = invoke(
        "correlate",
        "--input", str(logs),
        "--topology", str(EXAMPLE_TOPOLOGY),
        "--exceptions", str(exceptions),
        "--data-dir", str(data),
        "--year", "2026",
        "--json",
    )  # fmt: skip
    return {f["id"]: f for f in json.loads(out)["findings"]}


def test_false_positive_accept_rerun_cut_with_exception(story: Path, tmp_path: Path) -> None:
    data, exc_dir = tmp_path / "data", tmp_path / "exceptions"
    exc_dir.mkdir()
    before = correlate(story, data, exc_dir)
    lookalike = next(f for f in before.values() if f["source.ip"] == "10.20.1.15")
    assert not lookalike["suppressed"] and lookalike["rule"] == "port-scan-vertical"
    assert sum(not f["suppressed"] for f in before.values()) == 3

    shown = json.loads(
        invoke(
            "findings",
            "false-positive",
            lookalike["id"][:12],
            "--note",
            "alice's quarterly inventory scan (CHG-5120)",
            "--analyst",
            "carol",
            "--data-dir",
            str(data),
            "--json",
        )  # fmt: skip
    )
    assert shown["status"] == "false_positive" and shown["written"] is None  # only proposed
    assert shown["proposal"]["scope"] == {"source.asset": "ws-alice"}  # the narrowest stable key
    assert "source.ip=10.20.1.15" in shown["alternatives"]
    assert list(exc_dir.iterdir()) == []  # refusing = not accepting

    accepted = json.loads(
        invoke(
            "findings",
            "false-positive",
            lookalike["id"][:12],
            "--accept",
            "--exceptions",
            str(exc_dir),
            "--analyst",
            "carol",
            "--data-dir",
            str(data),
            "--json",
        )  # fmt: skip
    )
    written = Path(accepted["written"])
    exc = yaml.safe_load(written.read_text())
    assert written.parent == exc_dir and written.stem == exc["id"]
    assert exc["rule"] == "port-scan-vertical" and exc["analyst"] == "carol"
    assert exc["reason"] == "alice's quarterly inventory scan (CHG-5120)"
    assert exc["expires"] > exc["created"]

    after = correlate(story, data, exc_dir)
    assert after.keys() == before.keys()
    cut = after[lookalike["id"]]
    assert cut["suppressed"] and cut["reason"] == f"exception:{exc['id']}"
    for fid, f in before.items():
        if fid != lookalike["id"]:
            assert after[fid] == f  # nothing else changes

    # the triage state survived the re-run, and the store says why it was cut
    doc = json.loads(invoke("findings", "show", lookalike["id"], "--data-dir", str(data), "--json"))
    assert doc["finding"]["status"] == "false_positive"
    assert doc["finding"]["suppression"]["reason"] == f"exception:{exc['id']}"
    assert doc["finding"]["topology"]["clauses"][-1]["kind"] == "exception"


def test_scope_edit_must_still_match(story: Path, tmp_path: Path) -> None:
    data, exc_dir = tmp_path / "data", tmp_path / "exceptions"
    exc_dir.mkdir()
    before = correlate(story, data, exc_dir)
    fid = next(f["id"] for f in before.values() if f["source.ip"] == "10.20.1.15")
    res = CliRunner().invoke(
        cli,
        ["findings", "false-positive", fid, "--scope", "source.asset=ws-bob", "--accept",
         "--exceptions", str(exc_dir), "--data-dir", str(data)],
    )  # fmt: skip
    assert res.exit_code == 1 and "does not match this finding" in res.output
    out = invoke(
        "findings", "false-positive", fid, "--scope", "source.subnet=10.20.0.0/16", "--accept",
        "--exceptions", str(exc_dir), "--data-dir", str(data),
    )  # fmt: skip
    assert "accepted" in out
    (written,) = exc_dir.iterdir()
    assert yaml.safe_load(written.read_text())["scope"] == {"source.subnet": "10.20.0.0/16"}


def test_on_the_bundled_sample_only_the_lookalike_changes(tmp_path: Path) -> None:
    """The bundled sample plus one known-good look-alike that comes through: ws-alice's
    inventory scan of web01 (ws-alice is not tagged as a scanner)."""
    import shutil

    from tests.helpers import REPO
    from tests.triage.conftest import scan

    sample = REPO / "samples" / "logs"
    if not sample.is_dir():
        import pytest

        pytest.skip("the bundled sample (samples/logs) is not there")
    logs = tmp_path / "logs"
    shutil.copytree(sample, logs)
    (logs / "web01" / "kern-inventory.log").write_text(scan("10.20.1.15", 2, 30))
    data, exc_dir = tmp_path / "data", tmp_path / "exceptions"
    exc_dir.mkdir()
    before = correlate(logs, data, exc_dir)
    lookalike = [f for f in before.values() if f["source.ip"] == "10.20.1.15"]
    assert len(lookalike) == 1 and not lookalike[0]["suppressed"]
    fid = lookalike[0]["id"]
    invoke(
        "findings", "false-positive", fid, "--note", "inventory scan", "--accept",
        "--exceptions", str(exc_dir), "--data-dir", str(data),
    )  # fmt: skip
    (written,) = exc_dir.iterdir()
    after = correlate(logs, data, exc_dir)
    assert after[fid]["reason"] == f"exception:{written.stem}"
    assert {k: v for k, v in after.items() if k != fid} == {
        k: v for k, v in before.items() if k != fid
    }
