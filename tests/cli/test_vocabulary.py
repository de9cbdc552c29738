"""One vocabulary: every command's options, walked through click and through `--help`.

The oracle is the hand-written table below (STYLE 13), not anything secops computes; a fake
command with the old spellings proves the checker can fail.
"""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from secops.cli.main import cli

#: meaning (the parameter's name) -> the one set of visible spellings it may have.
VOCABULARY = {
    "topology": {"-t", "--topology"},
    "rules": {"-r", "--rules"},
    "output": {"-o", "--output"},
    "as_json": {"--json"},
    "tz": {"--tz"},
    "year": {"--year"},
    "es_url": {"--es-url"},
    "config": {"--config"},
    "exceptions": {"--exceptions"},
    "data_dir": {"--data-dir"},
    "since": {"--since"},
    "query": {"--query"},
    "inputs": {"-i", "--input"},
    "dead_letter": {"--dead-letter"},
}
#: old spellings that still work but are never shown.
DEPRECATED = {"--out", "--es-query"}
#: names an output option must not hide under.
OUTPUT_NAMES = {"out", "out_path", "output_path", "output_file"}
KEBAB = re.compile(r"^(-[a-z]|--[a-z0-9]+(-[a-z0-9]+)*)$")


def leaves(group: click.Group, path: tuple[str, ...] = ()):
    """(path, command) for every runnable command under `group`."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield (*path, name), command


def visible(option: click.Option) -> set[str]:
    hidden = set(getattr(option, "hidden_names", ()))
    return {o for o in (*option.opts, *option.secondary_opts) if o not in hidden} - {"--no-json"}


def problems(path: tuple[str, ...], command: click.Command) -> list[str]:
    """Every way `command` breaks the vocabulary, as readable lines."""
    found = []
    spelling_to_meaning = {s: m for m, spellings in VOCABULARY.items() for s in spellings}
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        shown = visible(param)
        where = f"{' '.join(path)} {'/'.join(sorted(shown))}"
        for spelling in shown:
            if not KEBAB.match(spelling):
                found.append(f"{where}: '{spelling}' is not kebab-case")
            if spelling in DEPRECATED:
                found.append(f"{where}: deprecated spelling '{spelling}' shown in --help")
            meaning = spelling_to_meaning.get(spelling)
            if meaning and (param.name != meaning or shown != VOCABULARY[meaning]):
                found.append(
                    f"{where}: '{spelling}' must mean {meaning} spelled "
                    f"{'/'.join(sorted(VOCABULARY[meaning]))}"
                )
        if param.name in VOCABULARY and shown != VOCABULARY[param.name]:
            found.append(
                f"{where}: {param.name} must be {'/'.join(sorted(VOCABULARY[param.name]))}"
            )
        if param.name in OUTPUT_NAMES:
            found.append(f"{where}: an output is -o/--output")
    return found


COMMANDS = list(leaves(cli))


def test_the_walk_sees_every_command():
    names = {" ".join(p) for p, _ in COMMANDS}
    expected = {"correlate", "parse", "run", "collect", "report", "rules validate"}
    expected |= {"topology show", "topology validate", "topology map", "findings show"}
    assert expected <= names


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_option_speaks_the_vocabulary(path, command):
    assert problems(path, command) == []


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_shows_the_vocabulary(path, command):
    res = CliRunner().invoke(cli, [*path, "--help"], catch_exceptions=False)
    assert res.exit_code == 0
    text = res.stdout
    names = {p.name for p in command.params if isinstance(p, click.Option)}
    if "topology" in names:
        assert "-t, --topology" in text
    if "rules" in names:
        assert "-r, --rules" in text
    if "output" in names:
        assert "-o, --output" in text
    for old in DEPRECATED:
        assert re.search(rf"(^|[\s,]){old}\b", text) is None, old
    assert re.search(r"-t, --(?!topology)", text) is None
    assert re.search(r"-o, --(?!output)", text) is None
    assert "Exit codes" in text or " 78 " in text or path[0] == "kibana"


def test_options_where_the_meaning_exists():
    """The meanings the issue asked for, where they belong."""
    options = {" ".join(p): {o.name for o in c.params} for p, c in COMMANDS}
    for name in ("correlate", "run", "report", "rules test", "topology show", "topology validate"):
        assert "topology" in options[name], name
    for name in ("topology path", "topology blast-radius", "topology map"):
        assert "topology" in options[name], name
    for name in ("correlate", "run", "parse", "report", "topology map", "kibana export"):
        assert "output" in options[name], name
    for name in ("correlate", "run", "findings false-positive"):
        assert "exceptions" in options[name], name
    for name in ("correlate", "run", "es setup", "es status", "findings list"):
        assert "es_url" in options[name], name
    for name in ("correlate", "parse", "run", "collect", "findings show"):
        assert {"tz", "year"} <= options[name], name
    for name in ("rules validate", "topology validate", "rules list", "findings list"):
        assert "as_json" in options[name], name
    assert "query" in options["run"] and "query" in options["correlate"]


def test_the_checker_catches_the_old_spellings():
    """Negative case: the spellings issue 19 reported are flagged."""

    @click.command()
    @click.option("--out", "out_path")
    @click.option("--topology", "topology_path")
    @click.option("-t", "--template")
    @click.option("--es-query")
    @click.option("--dryRun")
    def old(**_kw):
        pass

    found = "\n".join(problems(("old",), old))
    assert "an output is -o/--output" in found
    assert "'--topology' must mean topology" in found
    assert "'-t' must mean topology" in found
    assert "deprecated spelling '--es-query'" in found
    assert "'--dryRun' is not kebab-case" in found


@pytest.mark.parametrize(
    "args",
    [
        ["kibana", "export", "--out", "{tmp}/objects.ndjson"],
        ["report", "--out", "{tmp}/report.md"],
        ["topology", "validate", "{repo}/topology/example"],
        ["rules", "validate", "{repo}/rules/discovery"],
    ],
)
def test_old_spellings_still_work(args, tmp_path):
    from tests.helpers import REPO

    argv = [a.format(tmp=tmp_path, repo=REPO) for a in args]
    res = CliRunner().invoke(cli, argv, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    if "--out" in argv:
        assert "secops: warning: --out is deprecated, use -o/--output" in res.stderr
        assert (tmp_path / argv[argv.index("--out") + 1].rsplit("/", 1)[-1]).is_file()


def test_es_query_is_still_the_query():
    """`--es-query` is taken as `--query` (which needs --es-source: a usage error naming it)."""
    res = CliRunner().invoke(cli, ["run", "--es-query", "a: b", "--dry-run"])
    assert res.exit_code == 2 and "--query needs --es-source" in res.stderr
    assert "--es-query is deprecated, use --query" in res.stderr
