"""Every shipped rule loads, follows the content conventions, and passes its own examples."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from secops.cli.main import cli
from secops.correlate import load_rules
from secops.examples import run_examples
from secops.topology import load_topology
from tests.helpers import EXAMPLE_TOPOLOGY, REPO

RULES = load_rules()
TOPOLOGY = load_topology(EXAMPLE_TOPOLOGY)


def test_the_library_covers_the_required_techniques():
    techniques = {t for r in RULES for t in r.techniques}
    assert {"T1110", "T1110.003", "T1078", "T1046", "T1021", "T1548", "T1190"} <= techniques


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_complete(rule):
    assert rule.file
    if not rule.file.endswith(".yml"):  # Sigma rules (rules/sigma/*.yml) have UUID ids
        assert rule.file.endswith(f"{rule.id}.yaml")
    assert rule.title and rule.description and rule.runbook and rule.false_positives
    assert rule.threat.tactic_id and rule.threat.techniques
    expects = {str(e["expect"]) for e in rule.examples}
    assert "raised" in expects, "every rule ships a positive example"
    assert expects & {"none", "cut"}, "every rule ships a negative example"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_examples(rule):
    results = run_examples(rule, TOPOLOGY)
    failed = [(r.name, r.expect, r.got, r.reason) for r in results if not r.ok]
    assert not failed


def test_without_topology_nothing_is_cut():
    from secops.topology import Topology

    empty = Topology.empty()
    for rule in RULES:
        for r in run_examples(rule, empty):
            assert r.got != "cut", (rule.id, r.name, r.reason)


#: a wrong expectation for each kind of example (a cut one keeps `cut` with a reason it lacks)
WRONG = {"raised": "none", "none": "raised"}


def test_a_wrong_example_fails_rules_test(tmp_path):
    """The negative case of test_rule_examples: every shipped YAML rule with each example's
    expectation turned wrong fails `secops rules test`, example by example, exit 1."""
    rules = REPO.joinpath("rules")
    shipped = [p for p in sorted(rules.glob("*/*.yaml")) if p.parent.name != "sigma"]
    examples = 0
    for path in shipped:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for ex in doc["examples"]:
            if ex["expect"] == "cut":
                ex["reason_contains"] = "a reason no rule gives"
            else:
                ex["expect"] = WRONG[ex["expect"]]
            examples += 1
        (tmp_path / path.name).write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = CliRunner().invoke(cli, ["rules", "test", str(tmp_path), "--json"])
    assert res.exit_code == 1, res.output
    results = json.loads(res.stdout)
    assert len(results) == examples > len(shipped) and not any(r["ok"] for r in results)
