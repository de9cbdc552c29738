"""The CLI contract, through click's CliRunner and once through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from secops.cli.main import cli
from tests.helpers import EXAMPLE_TOPOLOGY, REPO

AUTH = """\
Nov 20 10:00:{s:02d} web01 sshd[{pid}]: Failed password for root from 198.51.100.7 port {port} ssh2
"""


def auth_log(tmp_path, n=12):
    log = tmp_path / "logs" / "web01" / "auth.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "".join(AUTH.format(s=i * 4, pid=100 + i, port=40000 + i) for i in range(n))
        + "Nov 20 10:01:00 web01 sshd[1]: \x00\xff garbage that no parser knows\n"
    )
    return log


def invoke(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_correlate_json_summary_and_output_file(tmp_path):
    auth_log(tmp_path)
    out = tmp_path / "findings.jsonl"
    dead = tmp_path / "dead.jsonl"
    res = invoke(
        "correlate",
        "--input",
        str(tmp_path / "logs"),
        "--topology",
        str(EXAMPLE_TOPOLOGY),
        "--output",
        str(out),
        "--dead-letter",
        str(dead),
        "--year",
        "2026",
        "--json",
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["raised"] == 1 and summary["findings"][0]["rule"] == "ssh-brute-force"
    assert (
        summary["findings"][0]["destination.ip"] == "10.10.0.10"
    )  # host web01 -> its IP via the topology
    assert summary["parse"]["dead_lettered"] == 1
    assert json.loads(dead.read_text().splitlines()[0])["line"] == 13
    assert len(out.read_text().splitlines()) == 1


def test_findings_list_and_show_read_the_store(tmp_path):
    auth_log(tmp_path)
    assert (
        invoke(
            "correlate", "-i", str(tmp_path / "logs"), "-t", str(EXAMPLE_TOPOLOGY), "--year", "2026"
        ).exit_code
        == 0
    )
    listed = json.loads(invoke("findings", "list", "--json").stdout)
    assert len(listed) == 1
    shown = invoke("findings", "show", listed[0]["id"][:8])
    assert shown.exit_code == 0
    assert "Runbook" in shown.stdout and "Risk" in shown.stdout and "web01" in shown.stdout
    missing = CliRunner().invoke(cli, ["findings", "show", "nope"])
    assert missing.exit_code == 1 and "no finding" in missing.stderr


def test_parse_writes_nested_ecs_with_the_original(tmp_path):
    log = auth_log(tmp_path, n=2)
    res = invoke("parse", "--input", str(log), "--year", "2026")
    events = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(events) == 2
    e = events[0]
    assert e["source"]["ip"] == "198.51.100.7" and e["event"]["action"] == "ssh_login"
    assert e["event"]["outcome"] == "failure" and e["event"]["original"].startswith(
        "Nov 20 10:00:00 web01 sshd"
    )
    assert e["@timestamp"].startswith("2026-11-20T10:00:00")
    assert "unparsed" in res.stderr


def test_invalid_rules_exit_78_with_location(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntitle: t\ntype: match\nseverity: urgent\n")
    res = CliRunner().invoke(cli, ["rules", "validate", str(bad)])
    assert res.exit_code == 78
    assert f"{bad}:4" in res.stderr and "severity must be one of" in res.stderr
    res = CliRunner().invoke(cli, ["correlate", "-i", str(bad), "--rules", str(bad)])
    assert res.exit_code == 78


def test_usage_errors_exit_2():
    assert CliRunner().invoke(cli, ["correlate"]).exit_code == 2
    assert CliRunner().invoke(cli, ["correlate", "--nope"]).exit_code == 2


def test_rules_test_and_list():
    res = invoke("rules", "test", "--json")
    assert res.exit_code == 0
    results = json.loads(res.stdout)
    assert results and all(r["ok"] for r in results)
    assert {r["id"] for r in json.loads(invoke("rules", "list", "--json").stdout)} >= {
        "ssh-brute-force",
        "lateral-movement",
    }


def test_config_file_and_environment(tmp_path, monkeypatch):
    auth_log(tmp_path)
    (tmp_path / "secops.yaml").write_text(
        f"topology: {EXAMPLE_TOPOLOGY}\ninputs: [logs]\nyear: 2026\n"
    )
    monkeypatch.chdir(tmp_path)
    res = invoke("correlate", "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["findings"][0]["destination.ip"] == "10.10.0.10"
    (tmp_path / "secops.yaml").write_text("topologgy: x\n")
    res = CliRunner().invoke(cli, ["correlate", "--json"])
    assert res.exit_code == 78 and "secops.yaml:1" in res.stderr


def test_stdin_through_the_installed_console_script(tmp_path):
    secops = os.path.join(os.path.dirname(sys.executable), "secops")
    data = "".join(AUTH.format(s=i * 4, pid=100 + i, port=40000 + i) for i in range(12))
    env = {**os.environ, "SECOPS_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.run(
        [secops, "correlate", "-i", "-", "--year", "2026", "--json"],
        input=data.encode(),
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["raised"] == 1
