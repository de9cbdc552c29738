"""SigmaHQ's regression data (../shared/data/sigma-rules/sigmahq/regression_data): every case is
an .evtx file with an info.yml naming the rule and, sometimes, how many events it must match.
Judged as SigmaHQ's own runner (tests/regression_tests_runner.py) judges it: a case passes
when the rule matches at least `match_count` events, at least one when no count is given.

The rules are loaded once and the .evtx files read once, through the real collectors; each
case's rule then runs on its own file's events. A few cases also go through the CLI.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml

from secops.collect import iter_batches
from secops.correlate import correlate
from secops.normalise import ParseReport, iter_events
from secops.sigma.load import SigmaLoad, load_sigma
from tests.sigma.conftest import SIGMA

SIGMAHQ = SIGMA / "sigmahq"
TREES = ("rules", "rules-emerging-threats", "rules-threat-hunting")
#: SigmaHQ's own target for its regression data is every case; ours is >= 99%
MIN_SHARE = 0.99

pytestmark = pytest.mark.skipif(
    not (SIGMAHQ / "regression_data").is_dir(),
    reason=f"SigmaHQ regression data not found at {SIGMAHQ.resolve()} (../shared/data)",
)


@cache
def cases() -> list[tuple[str, Path, int | None]]:
    """(rule id, .evtx path, match_count or None) for every test of every info.yml."""
    out = []
    for info in sorted((SIGMAHQ / "regression_data").rglob("info.yml")):
        doc = yaml.safe_load(info.read_text(encoding="utf-8")) or {}
        rule_id = doc["rule_metadata"][0]["id"]
        for test in doc.get("regression_tests_info") or []:
            if test.get("type") == "evtx":
                out.append((rule_id, SIGMAHQ / test["path"], test.get("match_count")))
    return out


@cache
def rule_files() -> dict[str, Path]:
    """Rule id -> its file, over the three rule trees (read as text: the id line only)."""
    found = {}
    for tree in TREES:
        for path in (SIGMAHQ / tree).rglob("*.yml"):
            m = re.search(r"^id: *([0-9a-f-]{36})", path.read_text(encoding="utf-8"), re.M)
            if m:
                found[m.group(1)] = path
    return found


@pytest.fixture(scope="module")
def loaded() -> SigmaLoad:
    files = rule_files()
    return load_sigma(sorted({files[r] for r, _, _ in cases() if r in files}))


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> tuple[dict[str, pd.DataFrame], ParseReport]:
    """Each case file's events. The records are read from the .evtx files by the collector,
    then normalised together as one JSON-lines input of `{"Event": ...}` records (a shape
    Windows export tools write too): normalising ~200 one-record inputs one by one costs a
    fixed ~0.1 s each. Rows come out in line order (every line parses, as checked)."""
    paths = sorted({str(p) for _, p, _ in cases()})
    owner: list[str] = []
    lines: list[str] = []
    for path in paths:
        for batch in iter_batches([path]):
            lines.extend(batch.lines.to_pylist())
            owner.extend([path] * len(batch.lines))
    joined = tmp_path_factory.mktemp("regression") / "records.jsonl"
    joined.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ParseReport()
    frame = pd.concat(list(iter_events([str(joined)], report=report)), ignore_index=True)
    assert len(frame) == len(owner), "a record was not parsed"
    frame["case"] = owner
    by_file = {p: g.drop(columns="case").reset_index(drop=True) for p, g in frame.groupby("case")}
    return by_file, report


def test_there_are_the_202_cases_and_their_files():
    assert len(cases()) == 202
    assert all(p.is_file() for _, p, _ in cases())


def test_every_record_of_every_evtx_file_is_read(events):
    by_file, report = events
    assert report.dead_lettered == 0 and report.lines_read == report.parsed > 202
    assert set(by_file) == {str(p) for _, p, _ in cases()}
    assert report.to_dict()["coverage"] and all(
        f["winlog.channel"].notna().all() and f["winlog.event_id"].notna().all()
        for f in by_file.values()
    )


def test_at_least_99_percent_of_the_cases_pass(loaded, events):
    by_file, _ = events
    rules = {r.id: r for r in loaded.rules}
    failed = []
    for rule_id, path, want in cases():
        rule = rules.get(rule_id)
        if rule is None:
            why = next((v.reason for v in loaded.verdicts if v.id == rule_id), "no such rule")
            failed.append(f"{path.name}: rule {rule_id} not run: {why}")
            continue
        matched = sum(len(c.rows) for c in correlate(by_file[str(path)], [rule]))
        if matched < (want or 1):
            failed.append(f"{path.name}: rule {rule_id} matched {matched}, wanted {want or 1}")
    passed = len(cases()) - len(failed)
    assert passed >= MIN_SHARE * len(cases()), "\n".join(failed)


def test_a_case_can_fail(loaded, events):
    """The judge is no rubber stamp: a case's rule on another case's file matches nothing."""
    by_file, _ = events
    rules = {r.id: r for r in loaded.rules}
    load_id, load_file, _ = next(c for c in cases() if "/image_load/" in str(c[1]))
    other = next(p for _, p, _ in cases() if "/registry_set/" in str(p))
    assert correlate(by_file[str(load_file)], [rules[load_id]])
    assert correlate(by_file[str(other)], [rules[load_id]]) == []


CLI_CASES = [
    "rules/windows/builtin/security/win_security_explicit_credential_local_logon",
    "rules/windows/builtin/wmi/win_wmi_activity_nteventlogfile_cleareventlog",
    "rules-emerging-threats/2026/Exploits/RedSun/win_defender_exploit_redsun_tiering_engine_detected_as_eicar",
    "rules/windows/registry/registry_set/registry_set_amsi_disable",
]


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: c.rsplit("/", 1)[-1])
def test_through_the_cli(case, tmp_path):
    """`secops correlate --rules RULE --input CASE.evtx` finds the rule's finding."""
    [(rule_id, evtx, _)] = [c for c in cases() if f"/{case}/" in str(c[1])]
    rule = rule_files()[rule_id]
    res = subprocess.run(
        [str(Path(sys.executable).with_name("secops")), "correlate", "--rules", str(rule),
         "--input", str(evtx), "--json", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    findings = json.loads(res.stdout)["findings"]
    assert [f["rule"] for f in findings] == [rule_id]
