"""Unseen scenarios: fresh seeds of the scenario generator, judged against their ground truth.

Every planted attack is raised with the right technique and entity, every planted known-good
look-alike comes out cut with the expected reason, and nothing else is raised.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from secops.pipeline import run
from secops.synth import generate
from tests.helpers import EXAMPLE_TOPOLOGY, REPO


def _entity_values(f: dict) -> set[str]:
    rel = f.get("related", {})
    values = {str(v) for k in ("ip", "user", "hosts") for v in rel.get(k, [])}
    for t in f["finding"]["topology"].get("targets", []):
        if t.get("port") is not None:
            values.add(str(t["port"]))
    if f.get("destination", {}).get("port") is not None:
        values.add(str(f["destination"]["port"]))
    return values


def _matches(f: dict, exp: dict) -> bool:
    if exp["rule"] not in ("any", f["rule"]["id"]):
        return False
    wanted = {
        str(v)
        for k, v in exp.items()
        if k
        in (
            "source.ip",
            "host",
            "user",
            "destination.ip",
            "destination.port",
            "destination.asset",
            "source.asset",
        )
    }
    return wanted <= _entity_values(f)


def check(findings: list[dict], expectations: list[dict]) -> list[str]:
    problems = []
    claimed: set[str] = set()
    for exp in expectations:
        hits = [f for f in findings if _matches(f, exp)]
        if exp["outcome"] == "none":
            raised = [f["rule"]["id"] for f in hits if not f["finding"]["suppressed"]]
            if raised:
                problems.append(f"story {exp['story']}: expected nothing, got {raised}")
            continue
        want_cut = exp["outcome"] == "cut"
        good = [f for f in hits if f["finding"]["suppressed"] == want_cut]
        if not good:
            problems.append(
                f"story {exp['story']} {exp['rule']}: expected {exp['outcome']}, got "
                f"{[(f['finding']['suppressed'], f['finding']['suppression']) for f in hits]}"
            )
            continue
        for f in good:
            claimed.add(f["finding"]["id"])
            assert exp["technique"] in f["threat"]["technique"]["id"]
            if want_cut:
                reason = f["finding"]["suppression"]["reason"]
                if exp["reason_contains"].lower() not in reason.lower():
                    problems.append(
                        f"story {exp['story']}: cut for '{reason}', expected '{exp['reason_contains']}'"
                    )
    extra = [
        (f["rule"]["id"], f["message"])
        for f in findings
        if not f["finding"]["suppressed"] and f["finding"]["id"] not in claimed
    ]
    if extra:
        problems.append(f"raised without a planted story: {extra}")
    return problems


def test_the_bundled_sample():
    expected = yaml.safe_load((REPO / "samples" / "expected.yaml").read_text())
    result = run([str(REPO / "samples" / "logs")], topology_path=str(EXAMPLE_TOPOLOGY), year=2026)
    assert check(result.findings, expected["expectations"]) == []


@pytest.mark.parametrize("seed", [11, 4242, 90001])
def test_unseen_scenarios(tmp_path: Path, seed: int):
    scenario = generate(
        tmp_path, topology_path=EXAMPLE_TOPOLOGY, seed=seed, hours=6, noise_per_hour=1500
    )
    expected = yaml.safe_load((tmp_path / "expected.yaml").read_text())
    result = run(
        [str(tmp_path / "logs")], topology_path=str(EXAMPLE_TOPOLOGY), year=scenario.start.year
    )
    assert check(result.findings, expected["expectations"]) == []
    assert result.report.parsed > 0.9 * scenario.lines
