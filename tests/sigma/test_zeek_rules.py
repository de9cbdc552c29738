"""SigmaHQ's network/zeek rules run on the Zeek collector: every one imports as supported, and
they fire on Zeek lines (TSV and JSON) that show what they look for, not on the published
samples of ordinary traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from secops.normalise import iter_events
from secops.sigma.load import load_sigma
from tests.sigma.conftest import SIGMA, fired, needs_data

pytestmark = needs_data
ZEEK_RULES = SIGMA / "sigmahq" / "rules" / "network" / "zeek"
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "zeek"
SMB_HEADER = (SAMPLES / "smb_files.log").read_text().splitlines()[:8]
BASE = {"id.orig_h": "10.0.0.5", "id.orig_p": 50000, "id.resp_h": "10.0.0.9"}


@pytest.fixture(scope="module")
def zeek_rules():
    return load_sigma(sorted(ZEEK_RULES.glob("*.yml")))


def _events(tmp_path: Path, name: str, lines: list[str]) -> pd.DataFrame:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pd.concat(list(iter_events([str(path)])), ignore_index=True)


def _smb(ts: str, path: str, name: str) -> str:
    fields = [ts, "Cx", "10.0.0.5", "50000", "10.0.0.9", "445", "-", "SMB::FILE_OPEN"]
    return "\t".join([*fields, path, name, "0", "-", ts, ts, ts, ts])


def test_every_zeek_rule_imports_as_supported(zeek_rules) -> None:
    statuses = {v.title: v.status for v in zeek_rules.verdicts}
    assert len(statuses) == 21 and set(statuses.values()) == {"supported"}


def test_smb_rules_fire_on_tsv_smb_files_lines(tmp_path: Path, zeek_rules) -> None:
    lines = [
        *SMB_HEADER,
        _smb("1700000000.1", "\\x5c\\x5c10.0.0.9\\x5cIPC$", "RemCom-stdin"),  # psexec-like pipe
        _smb("1700000000.2", "\\x5c\\x5c10.0.0.9\\x5cC$", "backup\\x5cmail.pst"),
        _smb("1700000000.3", "\\x5c\\x5c10.0.0.9\\x5cIPC$", "PSEXESVC-stdin"),  # filtered out
    ]
    hits = fired(zeek_rules, _events(tmp_path, "smb_files.log", lines))
    assert hits.pop("Suspicious PsExec Execution - Zeek") == [0]
    assert hits.pop("Suspicious Access to Sensitive File Extensions - Zeek") == [1]
    assert hits.pop("First Time Seen Remote Named Pipe - Zeek", None) is None  # path \\*\IPC$ only
    assert hits == {}


def test_dns_and_http_rules_fire_on_json_lines(tmp_path: Path, zeek_rules) -> None:
    docs = [
        {
            **BASE,
            "ts": 1700000000.1,
            "id.resp_p": 53,
            "query": "pool.supportxmr.com",
            "rejected": False,
            "answers": ["51.0.0.1"],
            "Z": 0,
        },
        {
            **BASE,
            "ts": 1700000000.2,
            "id.resp_p": 53,
            "query": "pool.supportxmr.com",
            "rejected": True,
            "Z": 0,
        },  # rejected: excluded
        {
            **BASE,
            "ts": 1700000000.3,
            "id.resp_h": "203.0.113.7",
            "id.resp_p": 80,
            "method": "PUT",
            "uri": "/dav/x",
            "user_agent": "Microsoft-WebDAV-MiniRedir/10.0",
            "request_body_len": 10,
        },
        {
            **BASE,
            "ts": 1700000000.4,
            "id.resp_p": 80,
            "method": "PUT",
            "uri": "/dav/x",
            "user_agent": "Microsoft-WebDAV-MiniRedir/10.0",
            "request_body_len": 10,
        },  # internal
    ]
    events = _events(tmp_path, "zeek.json", [json.dumps(d) for d in docs])
    hits = fired(zeek_rules, events)
    assert hits.pop("DNS Events Related To Mining Pools") == [0]
    assert hits.pop("WebDav Put Request") == [2]
    assert hits == {}


def test_no_zeek_rule_fires_on_the_published_samples(zeek_rules) -> None:
    paths = sorted(str(p) for p in SAMPLES.glob("*.json"))
    events = pd.concat(list(iter_events(paths)), ignore_index=True)
    assert len(events) == 35
    assert fired(zeek_rules, events) == {}
