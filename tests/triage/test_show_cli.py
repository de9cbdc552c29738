"""`secops findings show|list` say what an analyst needs: which ids an ambiguous prefix hits,
to whom a finding was assigned, a target without a port, who a key-only finding is about.
On the bundled sample (its finding ids are deterministic)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from secops.cli.main import cli
from tests.report.conftest import invoke, store  # noqa: F401  (the sample in a store)

#: two findings of the sample whose ids start with "9" (hand-copied from `findings list`)
NINES = ("90c1f68fb1", "96fb2f8f1d")


def test_an_ambiguous_prefix_names_the_findings_it_matches(store: Path) -> None:  # noqa: F811
    res = CliRunner().invoke(cli, ["findings", "show", "9", "--data-dir", str(store)])
    assert res.exit_code == 1
    assert "ambiguous id prefix '9'" in res.output
    assert all(f"{i}..." in res.output for i in NINES)
    res = CliRunner().invoke(cli, ["findings", "show", "ffff", "--data-dir", str(store)])
    assert res.exit_code == 1 and "no finding with id or unique prefix 'ffff'" in res.output
    res = CliRunner().invoke(cli, ["findings", "ack", "9", "--data-dir", str(store)])
    assert res.exit_code == 1 and "ambiguous id prefix '9'" in res.output
    assert NINES[0] in invoke("findings", "show", "90", "--data-dir", str(store))


def test_history_names_the_assignee_and_a_target_has_no_none_port(store: Path) -> None:  # noqa: F811
    d = ("--data-dir", str(store), "--analyst", "carol")
    invoke("findings", "assign", NINES[1], "dave", *d)
    shown = invoke("findings", "show", NINES[1], "--data-dir", str(store))
    assert "carol assign to dave (" in shown
    assert ":None" not in shown and "10.10.0.11 zone dmz" in shown


def test_a_cut_lateral_movement_names_its_key(store: Path) -> None:  # noqa: F811
    table = invoke("findings", "list", "--all", "--data-dir", str(store))
    row = next(line for line in table.splitlines() if "28c4da9210" in line)
    assert "200.107.94.101 -> jump01" in row  # the foothold's attacker, then the hop's source


def test_findings_help_lists_the_triage_verbs() -> None:
    text = invoke("findings", "--help")
    assert "list and explain them." not in text and "triage them" in text
