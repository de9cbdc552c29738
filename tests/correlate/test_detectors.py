"""Detectors on hand-built frames: key hops, absence, and ids that do not depend on row order."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from secops.content import parse_yaml
from secops.correlate import correlate
from secops.correlate.rule import Rule
from secops.judge import judge
from secops.schema import conform
from secops.score import score
from secops.topology import Topology

HEAD = """\
id: r
title: t
severity: high
runbook: r
threat: {tactic: {id: TA0008, name: Lateral Movement}, techniques: [T1021]}
"""
T0 = pd.Timestamp("2026-11-20T10:00:00Z")


def rule(body: str) -> Rule:
    return Rule.from_dict(parse_yaml(HEAD + body))


def frame(rows: list[dict]) -> pd.DataFrame:
    for i, r in enumerate(rows):
        r["@timestamp"] = T0 + pd.Timedelta(seconds=r.pop("t"))
        r.setdefault("event.id", f"e{i}")
    return conform(pd.DataFrame(rows))


def login(t, src, host, src_asset=None, outcome="success"):
    return {
        "t": t,
        "event.action": "ssh_login",
        "event.outcome": outcome,
        "source.ip": src,
        "host.asset": host,
        "source.asset": src_asset,
    }


HOP = rule("""\
type: sequence
maxspan: 1h
steps:
  - {id: in, filter: {event.action: ssh_login, event.outcome: success}, by: source.ip, carry: host.asset}
  - {id: out, filter: {event.action: ssh_login, event.outcome: success}, by: source.asset, carry: host.asset}
  - {id: deeper, filter: {event.action: ssh_login, event.outcome: success}, by: source.asset}
""")


def test_the_key_hops_across_three_hosts():
    f = frame(
        [
            login(0, "198.51.100.1", "web01"),
            login(60, "10.0.0.1", "app01", "web01"),
            login(120, "10.0.0.2", "db01", "app01"),
            login(130, "10.0.0.9", "db01", "other"),
        ]
    )
    (c,) = correlate(f, [HOP])
    assert dict(c.key) == {
        "in.source.ip": "198.51.100.1",
        "out.source.asset": "web01",
        "deeper.source.asset": "app01",
    }
    assert c.rows.tolist() == [0, 1, 2]


def test_the_chain_breaks_when_a_hop_comes_first_or_too_late():
    early = frame(
        [
            login(0, "10.0.0.1", "app01", "web01"),
            login(60, "198.51.100.1", "web01"),
            login(120, "10.0.0.2", "db01", "app01"),
        ]
    )
    assert correlate(early, [HOP]) == []
    late = frame(
        [
            login(0, "198.51.100.1", "web01"),
            login(60, "10.0.0.1", "app01", "web01"),
            login(3700, "10.0.0.2", "db01", "app01"),
        ]
    )
    assert correlate(late, [HOP]) == []


ABSENT = rule("""\
type: absence
filter: {event.action: backup_started}
followed_by: {event.action: backup_finished}
group_by: host.name
within: 10m
""")


def test_absence_fires_only_when_the_window_has_passed_without_b():
    rows = [
        {"t": 0, "event.action": "backup_started", "host.name": "a"},
        {"t": 300, "event.action": "backup_finished", "host.name": "a"},
        {"t": 0, "event.action": "backup_started", "host.name": "b"},
        {"t": 900, "event.action": "backup_finished", "host.name": "b"},
        {"t": 1000, "event.action": "backup_started", "host.name": "c"},
        {"t": 1200, "event.action": "noise", "host.name": "x"},
    ]
    found = correlate(frame(rows), [ABSENT])
    assert [dict(c.key) for c in found] == [{"host.name": "b"}]


THRESHOLD = rule("""\
type: threshold
filter: {event.outcome: failure}
group_by: source.ip
window: 2m
threshold: 4
""")


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(12))))
def test_finding_ids_do_not_depend_on_row_order(order):
    rows = [
        login(i * 20, "198.51.100.1" if i < 8 else "203.0.113.2", "web01", outcome="failure")
        for i in range(12)
    ]
    base = frame([dict(r) for r in rows])
    shuffled = base.iloc[list(order)].reset_index(drop=True)
    ids = [
        d["finding"]["id"]
        for d in score(judge(correlate(base, [THRESHOLD]), base, Topology.empty()))
    ]
    again = [
        d["finding"]["id"]
        for d in score(judge(correlate(shuffled, [THRESHOLD]), shuffled, Topology.empty()))
    ]
    assert ids and sorted(ids) == sorted(again)
