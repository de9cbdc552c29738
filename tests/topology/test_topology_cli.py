from __future__ import annotations

import json

from click.testing import CliRunner

from secops.cli.main import cli
from tests.helpers import EXAMPLE_TOPOLOGY as EXAMPLE


def run(*args: str):
    return CliRunner().invoke(cli, ["topology", *args])


def test_validate_ok():
    result = run("validate", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 5 zones, 12 assets, 11 policies, 1 change windows\n"
    assert result.stderr == ""


def test_validate_invalid_lists_every_error(write):
    path = write(
        "bad.yaml",
        "zones:\n  - {name: dmz, cidrs: [nope]}\nassets:\n  - {name: a, critcality: high}\n",
    )
    result = run("validate", str(path))
    assert result.exit_code == 78
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:2: zones[0] (dmz): bad CIDR 'nope'")
    assert lines[1].startswith(
        f"{path}:4: assets[0] (a): unknown key 'critcality' (did you mean 'criticality'?)"
    )
    assert lines[-1] == f"invalid: 2 error(s) in {path}"


def test_validate_missing_path(tmp_path):
    """A path on the command line that does not exist is a usage error (as for every -t)."""
    result = run("validate", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_missing_path_from_the_environment(tmp_path, monkeypatch):
    """... and one named by SECOPS_TOPOLOGY is invalid configuration."""
    monkeypatch.setenv("SECOPS_TOPOLOGY", str(tmp_path / "nope"))
    result = run("validate")
    assert result.exit_code == 78 and "no such file or directory" in result.stderr


def test_show_tables_and_json():
    result = run("show", str(EXAMPLE))
    assert result.exit_code == 0
    for word in ("zones", "assets", "policies", "change windows", "CHG-4711", "scanner01"):
        assert word in result.stdout
    data = json.loads(run("show", str(EXAMPLE), "--json").stdout)
    assert [z["name"] for z in data["zones"]] == ["internet", "dmz", "corp", "servers", "mgmt"]
    assert data["change_windows"][0]["start"] == "2026-11-20T01:00:00Z"


def test_show_invalid_exits_78(write):
    result = run("show", str(write("bad.yaml", "zones: [1]\n")))
    assert result.exit_code == 78 and "entry must be a mapping" in result.stderr


def test_path():
    result = run("path", "203.0.113.9", "db01", "--topology", str(EXAMPLE), "--port", "5432")
    assert result.exit_code == 0, result.output
    assert "direct:      no: no policy internet -> servers: all traffic denied" in result.stdout
    assert "exposes:     yes: db01 exposes 5432/tcp" in result.stdout
    assert "pivot path:  zone:internet -> web01 -> db01" in result.stdout
    data = json.loads(
        run(
            "path", "web01", "10.30.0.10", "--topology", str(EXAMPLE), "--port", "5432", "--json"
        ).stdout
    )
    assert data["can_reach"]["value"] is True and data["pivot_path"] == ["web01", "db01"]
    assert data["source"] == {"ref": "web01", "ip": "10.10.0.10", "asset": "web01", "zone": "dmz"}


def test_path_usage_errors():
    assert run("path", "a", "b").exit_code == 2  # --topology missing
    # a value the command cannot use is invalid configuration (78), named in one line
    bad_port = run("path", "a", "b", "--topology", str(EXAMPLE), "--port", "99999")
    assert bad_port.exit_code == 78 and "--port" in bad_port.stderr


def test_blast_radius():
    result = run("blast-radius", "web01", "--topology", str(EXAMPLE))
    assert result.exit_code == 0 and "db01" in result.stdout and "critical" in result.stdout
    data = json.loads(run("blast-radius", "web01", "--topology", str(EXAMPLE), "--json").stdout)
    assert data[0] == {"asset": "db01", "criticality": "critical", "hops": 1}
    assert run("blast-radius", "nope", "--topology", str(EXAMPLE)).exit_code == 2


def test_help_documents_exit_codes():
    assert "78 invalid topology" in run("validate", "--help").stdout
