"""The status lifecycle in the real local store, response times, overdue, rule health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secops.sink import LocalStore
from secops.triage import TriageError, act, is_overdue, load_sla, rule_health, timings
from secops.triage.propose import propose


def finding(fid: str, rule: str = "ssh-brute-force", severity: str = "high", cut: bool = False):
    return {
        "@timestamp": "2026-11-20T10:00:00Z",
        "event": {"start": "2026-11-20T10:00:00Z", "end": "2026-11-20T10:05:00Z", "risk_score": 50},
        "rule": {"id": rule},
        "message": f"{rule} from 198.51.100.7",
        "source": {"ip": "198.51.100.7"},
        "finding": {
            "id": fid,
            "severity": severity,
            "suppressed": cut,
            "suppression": {"reason": "x"} if cut else {},
            "topology": {
                "sources": [{"ip": "198.51.100.7", "asset": None, "tags": []}],
                "targets": [{"asset": "web01", "tags": ["public-facing"]}],
            },
        },
    }


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = LocalStore(tmp_path / "data")
    s.write([finding("a" * 32), finding("b" * 32), finding("c" * 32, rule="port-scan-vertical")])
    return s


def test_lifecycle_timestamps_and_history(store: LocalStore) -> None:
    t0 = datetime.now(UTC)
    doc = act(store, "aaaa", "ack", analyst="carol", note="looking", now=t0 + timedelta(minutes=5))
    assert doc["finding"]["status"] == "acknowledged"
    doc = act(store, "aaaa", "assign", analyst="carol", assignee="dave")
    assert doc["finding"]["status"] == "acknowledged"
    assert doc["finding"]["triage"]["assignee"] == "dave"
    doc = act(store, "aaaa", "resolve", analyst="dave", now=t0 + timedelta(hours=2))
    tri = doc["finding"]["triage"]
    assert [h["action"] for h in tri["history"]] == ["ack", "assign", "resolve"]
    assert tri["history"][0]["note"] == "looking"
    t = timings(doc)
    assert 4 * 60 < t["time_to_ack"] < 6 * 60 and 1.9 * 3600 < t["time_to_resolve"] < 2.1 * 3600
    with pytest.raises(TriageError, match="cannot ack finding aaaaaaaaaa: it is resolved"):
        act(store, "aaaa", "ack", analyst="carol")
    assert act(store, "aaaa", "reopen", analyst="carol")["finding"]["status"] == "open"


def test_triage_survives_a_rerun(store: LocalStore) -> None:
    act(store, "bbbb", "false-positive", analyst="carol", note="scanner")
    store.write([finding("b" * 32)])  # the next run writes the same finding again
    doc = store.get("bbbb")
    assert doc["finding"]["status"] == "false_positive"
    assert doc["finding"]["triage"]["history"][0]["note"] == "scanner"


def test_duplicate_points_at_the_original(store: LocalStore) -> None:
    doc = act(store, "bbbb", "duplicate", analyst="carol", duplicate_of="aaaa")
    assert doc["finding"]["triage"]["duplicate_of"] == "a" * 32
    with pytest.raises(TriageError, match="itself"):
        act(store, "aaaa", "duplicate", analyst="carol", duplicate_of="aaaa")


def test_unknown_finding(store: LocalStore) -> None:
    with pytest.raises(TriageError, match="no finding"):
        act(store, "zzzz", "ack", analyst="carol")


def test_overdue_by_severity_from_first_seen(store: LocalStore) -> None:
    sla = load_sla({"high": {"ack": "30m"}})
    doc = store.get("aaaa")
    seen = datetime.fromisoformat(doc["finding"]["first_seen"])
    assert not is_overdue(doc, sla, now=seen + timedelta(minutes=20))
    assert is_overdue(doc, sla, now=seen + timedelta(minutes=40))
    acked = act(store, "aaaa", "ack", analyst="carol")
    assert not is_overdue(acked, sla, now=seen + timedelta(hours=2))  # now: resolve within 1d
    assert is_overdue(acked, sla, now=seen + timedelta(days=2))


def test_rule_health_noisiest_first(store: LocalStore) -> None:
    act(store, "cccc", "false-positive", analyst="carol")
    act(store, "aaaa", "resolve", analyst="carol")
    health = {h.rule: h for h in rule_health(store.query(include_suppressed=True))}
    first = rule_health(store.query(include_suppressed=True))[0]
    assert first.rule == "port-scan-vertical" and first.share_false_positive == 1.0
    ssh = health["ssh-brute-force"]
    assert (ssh.raised, ssh.resolved, ssh.open, ssh.precision) == (2, 1, 1, 1.0)
    assert ssh.median_time_to_ack is not None


def test_proposal_for_an_external_source_is_its_ip(store: LocalStore) -> None:
    p = propose(store.get("aaaa"), analyst="carol")
    assert p is not None and p.exception.scope == (("source.ip", "198.51.100.7"),)
    assert ("target.asset", "web01") in p.alternatives
