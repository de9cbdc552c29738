"""Every command with a topology, rules or tz option honours secops.yaml and SECOPS_*, and the
flag wins: flag > environment > secops.yaml > default, the same for every command.

The oracle: a deliberately broken topology / rule file / zone. A command that read the setting
fails with exit 78 naming exactly that file (or the variable); one that ignored it would not.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from secops.cli.main import cli
from tests.cli.test_vocabulary import COMMANDS
from tests.helpers import EXAMPLE_TOPOLOGY

LOG = "Nov 20 10:00:00 web01 sshd[1]: Failed password for root from 198.51.100.7 port 4000 ssh2\n"
BAD_TOPOLOGY = "zones:\n  - {name: dmz, cidrs: [not-a-cidr]}\n"
BAD_RULE = "id: broken-rule\ntitle: broken\ntype: no-such-type\n"

#: the smallest arguments that make each command read its settings ({tmp}: a scratch folder).
ARGS = {
    "correlate": ["-i", "{tmp}/auth.log", "--no-store"],
    "parse": ["-i", "{tmp}/auth.log", "-o", "{tmp}/events.jsonl"],
    "run": ["-i", "{tmp}/auth.log", "--dry-run"],
    "collect": ["--listen"],  # only ever with a setting that stops it before it listens
    "report": ["-o", "{tmp}/report.md"],
    "rules list": [],
    "rules validate": [],
    "rules test": [],
    "topology validate": [],
    "topology show": [],
    "topology path": ["a", "b"],
    "topology blast-radius": ["a"],
    "topology map": ["-o", "{tmp}/map.svg"],
    "findings show": ["0123456789"],
}


def having(option: str) -> list[str]:
    return sorted(" ".join(p) for p, c in COMMANDS if option in {o.name for o in c.params})


def invoke(name: str, tmp, *extra: str, env=None):
    argv = [*name.split(), *(a.format(tmp=tmp) for a in ARGS[name]), *extra]
    return CliRunner().invoke(cli, argv, env=env)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A working directory with a log, a broken topology, a broken rule folder."""
    (tmp_path / "auth.log").write_text(LOG)
    (tmp_path / "bad-topology").mkdir()
    (tmp_path / "bad-topology" / "zones.yaml").write_text(BAD_TOPOLOGY)
    (tmp_path / "bad-rules").mkdir()
    (tmp_path / "bad-rules" / "broken-rule.yaml").write_text(BAD_RULE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_table_covers_every_command():
    for option in ("topology", "rules", "tz"):
        missing = set(having(option)) - set(ARGS)
        assert not missing, f"commands with --{option} not checked here: {missing}"


def _read(res, marker: str) -> bool:
    return res.exit_code == 78 and marker in res.output and "Traceback" not in res.output


#: option -> (secops.yaml line, env var and value, what the error must name)
BROKEN = {
    "topology": ("topology: bad-topology", ("SECOPS_TOPOLOGY", "bad-topology"), "zones.yaml"),
    "rules": ("rules: [bad-rules]", ("SECOPS_RULES", "bad-rules"), "broken-rule.yaml"),
}
CASES = [(option, name) for option in BROKEN for name in having(option)]


@pytest.mark.parametrize("option,name", CASES, ids=[f"{o}-{n}" for o, n in CASES])
def test_content_paths_from_secops_yaml_and_env(option, name, scratch):
    line, (var, folder), marker = BROKEN[option]
    (scratch / "secops.yaml").write_text(line + "\n")
    res = invoke(name, scratch)
    assert _read(res, marker), (name, res.exit_code, res.output)
    (scratch / "secops.yaml").unlink()
    res = invoke(name, scratch, env={var: str(scratch / folder)})
    assert _read(res, marker), (name, res.exit_code, res.output)


@pytest.mark.parametrize("name", having("tz"))
def test_tz_from_secops_yaml_and_env(name, scratch):
    (scratch / "secops.yaml").write_text("data_dir: data\ntz: Mars/Olympus\n")
    res = invoke(name, scratch)
    assert _read(res, "secops.yaml:2: tz: 'Mars/Olympus': unknown time zone"), res.output
    assert len(res.output.strip().splitlines()) == 1
    (scratch / "secops.yaml").unlink()
    res = invoke(name, scratch, env={"SECOPS_TZ": "Mars/Olympus"})
    assert _read(res, "SECOPS_TZ: 'Mars/Olympus': unknown time zone"), res.output


@pytest.mark.parametrize("name", having("year"))
def test_year_from_secops_yaml_and_env(name, scratch):
    (scratch / "secops.yaml").write_text("year: 99999\n")
    res = invoke(name, scratch)
    assert _read(res, "secops.yaml:1: year: '99999': year out of range"), res.output
    (scratch / "secops.yaml").unlink()
    res = invoke(name, scratch, env={"SECOPS_YEAR": "-5"})
    assert _read(res, "SECOPS_YEAR: '-5': year out of range"), res.output


@pytest.mark.parametrize("name", ["topology validate", "topology show", "report"])
def test_the_flag_wins_over_env_and_file(name, scratch):
    (scratch / "secops.yaml").write_text("topology: bad-topology\n")
    env = {"SECOPS_TOPOLOGY": str(scratch / "bad-topology")}
    res = invoke(name, scratch, "-t", str(EXAMPLE_TOPOLOGY), env=env)
    assert res.exit_code == 0, res.output


def test_env_wins_over_the_file(scratch):
    (scratch / "secops.yaml").write_text("topology: bad-topology\n")
    res = invoke("topology validate", scratch, env={"SECOPS_TOPOLOGY": str(EXAMPLE_TOPOLOGY)})
    assert res.exit_code == 0 and res.stdout.startswith("ok: 5 zones"), res.output


def test_config_flag_on_the_command_and_on_the_root(scratch):
    (scratch / "other.yaml").write_text(f"topology: {EXAMPLE_TOPOLOGY}\n")
    for argv in (
        ["topology", "show", "--json", "--config", "other.yaml"],
        ["--config", "other.yaml", "topology", "show", "--json"],
    ):
        res = CliRunner().invoke(cli, argv)
        assert res.exit_code == 0 and '"zones"' in res.stdout, res.output


def test_a_bad_flag_value_is_invalid_configuration_and_one_line(scratch):
    for name in having("tz"):
        res = invoke(name, scratch, "--tz", "Mars/Olympus")
        assert res.exit_code == 78, (name, res.output)
        assert res.output.strip().count("\n") == 0 and "Mars/Olympus" in res.output


def test_group_commands_are_what_the_table_calls_them():
    for name in ARGS:
        parts = name.split()
        command = cli
        for part in parts:
            assert isinstance(command, click.Group)
            command = command.get_command(click.Context(command), part)
            assert command is not None, name


def test_findings_elasticsearch_refuses_go_to_the_data_directory(tmp_path, monkeypatch):
    """`secops run` handed its Elasticsearch sink no dead-letter path: findings the cluster
    refused went to es-dead-letter.jsonl in whatever directory cron started it in."""
    from secops.cli.run import _es_sink
    from secops.config import Config

    monkeypatch.chdir(tmp_path)
    cfg = Config(data_dir=str(tmp_path / "data"))
    sink = _es_sink(cfg, "http://127.0.0.1:9")
    assert sink.dead_letter == tmp_path / "data" / "es-dead-letter.jsonl"
