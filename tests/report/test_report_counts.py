"""One truth per number in a report: raised vs cut by rule and rule health agree (an accepted
false positive, cut by its own exception on the next run, was raised all the same); the
median time to acknowledge is the same in rule health and response times; without a topology
the map section says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secops.report.data import build
from secops.sink import LocalStore
from secops.triage import DEFAULT_SLA
from tests.helpers import EXAMPLE_TOPOLOGY, REPO
from tests.report.conftest import invoke, store  # noqa: F401  (the sample in a store)
from tests.report.test_report import UNTIL


@pytest.fixture(scope="module")
def with_fp(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """The sample's real port scan marked false positive, its exception accepted, re-run."""
    exc = tmp_path_factory.mktemp("exceptions")
    found = json.loads(invoke("findings", "list", "--data-dir", str(store), "--json"))
    scan = next(f["id"] for f in found if f["rule"] == "port-scan-vertical")
    invoke(
        "findings", "false-positive", scan, "--accept", "--exceptions", str(exc),
        "--analyst", "carol", "--data-dir", str(store),
    )  # fmt: skip
    invoke(
        "correlate", "-i", str(REPO / "samples" / "logs"), "-t", str(EXAMPLE_TOPOLOGY),
        "--year", "2026", "--exceptions", str(exc), "--data-dir", str(store), "--json",
    )  # fmt: skip
    return store


def test_raised_vs_cut_agrees_with_rule_health(with_fp: Path) -> None:
    docs = LocalStore(with_fp).query(include_suppressed=True)
    scan = [d for d in docs if d["rule"]["id"] == "port-scan-vertical"]
    assert sum(d["finding"]["suppressed"] for d in scan) == 2  # both cut now, one by its exception
    r = build(docs, "week", DEFAULT_SLA, datetime.fromisoformat(UNTIL).replace(tzinfo=UTC))
    by_rule = {rule: (raised, cut) for rule, raised, cut in r.by_rule}
    # hand-counted: the external scan was raised (then judged false positive), the
    # authorized scanner's was cut before anyone looked
    assert by_rule["port-scan-vertical"] == (1, 1)
    assert by_rule == {h.rule: (h.raised, h.cut) for h in r.health}
    assert len(r.raised) == sum(h.raised for h in r.health)
    health = next(h for h in r.health if h.rule == "port-scan-vertical")
    assert health.median_time_to_ack is not None  # closing as false positive acknowledges
    assert r.response["medium"]["time_to_ack"] == health.median_time_to_ack


def test_markdown_sections_show_the_same_numbers(with_fp: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    invoke(
        "report", "--period", "week", "--until", UNTIL, "--out", str(out),
        "--data-dir", str(with_fp),
    )  # fmt: skip
    md = out.read_text()
    assert "| port-scan-vertical | 1 | 1 |" in md  # raised vs cut
    assert "| port-scan-vertical | 1 | 1 | 1 | 100% | 0% |" in md  # rule health
    medium = next(line for line in md.splitlines() if line.startswith("| medium |"))
    assert medium.split("|")[2].strip() == "1" and medium.split("|")[3].strip() != "-"
    assert "_no topology given" in md  # no -t: the map section says why it has no map
