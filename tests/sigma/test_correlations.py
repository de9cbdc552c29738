"""Sigma correlation rules on our detectors: the specification examples (with the base rules
they reference written here), aliases, nesting, generate, meta-filters and the overlay."""

from __future__ import annotations

import pytest

from secops.sigma.load import load_sigma
from tests.sigma.conftest import SIGMA, fired, frame, load_text, needs_data, verdicts, windows

SPEC = SIGMA / "sigma-specification"

FAILED_LOGON = """\
title: Failed logon
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
"""
RECON = """\
title: Recon {x}
name: recon_cmd_{x}
logsource: {{product: windows, service: security}}
detection:
    selection: {{EventID: 4688, CommandLine|contains: '{cmd}'}}
    condition: selection
"""
RECON_RULES = "---\n".join(
    RECON.format(x=x, cmd=c) for x, c in (("a", "whoami"), ("b", "net user"), ("c", "ipconfig"))
)


def _with(tmp_path, spec_file, extra: str):
    base = tmp_path / "base.yml"
    base.write_text(extra)
    return load_sigma([SPEC / spec_file, base])


def _failures(n: int, users: bool = False) -> list[dict]:
    return [
        {
            "EventID": 4625,
            "TargetUserName": f"user{i}" if users else "admin",
            "WorkstationName": "KALI",
            "@timestamp": f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}Z",
        }
        for i in range(n)
    ]


@needs_data
def test_event_count_spec_example(tmp_path):
    load = _with(tmp_path, "tests/schema/correlation/event_count.yml", FAILED_LOGON)
    [rule] = load.rules
    assert (rule.type, rule.threshold, rule.group_by) == ("threshold", 100, ("host.name",))
    assert rule.window_ms == 3_600_000
    assert verdicts(load)["Failed logon"].runs_as == "correlation input"
    assert fired(load, windows(tmp_path, _failures(100))) == {
        "Many failed logins": list(range(100))
    }
    assert fired(load, windows(tmp_path, _failures(99))) == {}


@needs_data
def test_value_count_spec_example(tmp_path):
    load = _with(tmp_path, "tests/schema/correlation/value_count.yml", FAILED_LOGON)
    [rule] = load.rules
    assert rule.type == "distinct" and rule.field == "user.name" and rule.threshold == 100
    assert rule.group_by == ("host.name", "winlog.event_data.WorkstationName")
    assert list(fired(load, windows(tmp_path, _failures(100, users=True)))) == ["Failed login"]
    assert fired(load, windows(tmp_path, _failures(99, users=True))) == {}
    assert fired(load, windows(tmp_path, _failures(150))) == {}  # one user, many times


@needs_data
def test_event_count_ecs_example_reports_the_unmapped_group_by(tmp_path):
    load = _with(tmp_path, "tests/schema/correlation/event_count_ecs.yml", FAILED_LOGON)
    assert not load.rules
    assert "dns.question.name" in verdicts(load)["Many failed logins"].reason


def _recon(order: str, user: str = "alice") -> list[dict]:
    cmds = {"a": "whoami /all", "b": "net user /domain", "c": "ipconfig /all"}
    return [
        {
            "EventID": 4688,
            "CommandLine": cmds[x],
            "SubjectUserName": user,
            "@timestamp": f"2026-11-20T10:0{i}:00Z",
        }
        for i, x in enumerate(order)
    ]


@needs_data
@pytest.mark.parametrize(
    ("order", "temporal", "ordered"),
    [("abc", True, True), ("cab", True, False), ("ab", False, False)],
)
def test_temporal_and_temporal_ordered_spec_examples(tmp_path, order, temporal, ordered):
    load_t = _with(tmp_path, "tests/schema/correlation/temporal.yml", RECON_RULES)
    load_o = _with(tmp_path, "tests/schema/correlation/temporal_ordered.yml", RECON_RULES)
    assert [r.type for r in load_t.rules] == ["temporal"]
    assert [r.type for r in load_o.rules] == ["sequence"]
    events = windows(tmp_path, _recon(order))
    assert bool(fired(load_t, events)) is temporal
    assert bool(fired(load_o, events)) is ordered
    if temporal:
        assert fired(load_t, events) == {"Recon": list(range(len(order)))}


@needs_data
def test_temporal_needs_one_key(tmp_path):
    load = _with(tmp_path, "tests/schema/correlation/temporal.yml", RECON_RULES)
    events = windows(tmp_path, _recon("ab", "alice") + _recon("c", "bob"))
    assert fired(load, events) == {}


@needs_data
@pytest.mark.parametrize("kind", ["value_sum", "value_avg", "value_percentile"])
def test_value_aggregations_are_reported_unsupported(tmp_path, kind):
    names = {
        "value_sum": "website_access",
        "value_avg": "rule_a_id",
        "value_percentile": "process_creation",
    }
    base = RECON.format(x="z", cmd="x").replace("recon_cmd_z", names[kind])
    load = _with(tmp_path, f"tests/schema/correlation/{kind}.yml", base)
    [v] = [v for v in load.verdicts if v.kind == "correlation"]
    assert v.status == "unsupported" and f"'{kind}' has no detector" in v.reason


@needs_data
def test_failed_logins_followed_by_success_spec_example(tmp_path):
    load = load_sigma([SPEC / "specification-examples/failed_logins_followed_by_success.yml"])
    [rule] = load.rules  # the nested event_count and the base rules only feed it
    assert rule.type == "sequence" and [s.count for s in rule.steps] == [10, 1]
    assert [s.by for s in rule.steps] == [("user.name",), ("user.name",)]
    ok = _failures(10) + [
        {"EventID": 4624, "TargetUserName": "admin", "@timestamp": "2026-11-20T10:00:30Z"}
    ]
    assert list(fired(load, windows(tmp_path, ok))) == [rule.title]
    nine = _failures(9) + [
        {"EventID": 4624, "TargetUserName": "admin", "@timestamp": "2026-11-20T10:00:30Z"}
    ]
    assert fired(load, windows(tmp_path, nine)) == {}
    other = _failures(10) + [
        {"EventID": 4624, "TargetUserName": "eve", "@timestamp": "2026-11-20T10:00:30Z"}
    ]
    assert fired(load, windows(tmp_path, other)) == {}


@needs_data
def test_temporal_with_field_aliases_spec_example(tmp_path):
    text = (SPEC / "specification-examples/temporal_with_field_aliases.yml").read_text()
    assert load_text(tmp_path, text).errors  # as published: placeholder id/title, no logsource
    text = text.replace(
        "title: —\nid: —", "title: Error after connection\nid: 0f06a3f3-1b5c-4f8e-9d6a-6e3d8f1c2b10"
    )
    text = text.replace(
        "name: internal_error\n",
        "name: internal_error\ntitle: e\nlogsource: {product: ecs, category: webserver}\n",
    )
    text = text.replace(
        "name: new_network_connection\n",
        "name: new_network_connection\ntitle: c\nlogsource: {product: ecs, category: network_connection}\n",
    )
    load = load_text(tmp_path, text, "aliases.yml")
    [rule] = load.rules
    assert [s.by for s in rule.steps] == [
        ("destination.ip", "source.ip"),
        ("source.ip", "destination.ip"),
    ]
    conn = {
        "@timestamp": "2026-11-20T10:00:00Z",
        "event.category": "network",
        "event.type": "connection",
        "event.outcome": "success",
        "source.ip": "10.0.0.5",
        "destination.ip": "198.51.100.9",
    }
    err = {
        "@timestamp": "2026-11-20T10:00:05Z",
        "http.response.status_code": 500,
        "source.ip": "198.51.100.9",
        "destination.ip": "10.0.0.5",
    }
    assert list(fired(load, frame([conn, err]))) == ["Error after connection"]
    assert fired(load, frame([conn, {**err, "source.ip": "198.51.100.10"}])) == {}
    late = {**err, "@timestamp": "2026-11-20T10:00:20Z"}
    assert fired(load, frame([conn, late])) == {}


BASE = """\
title: SSH failure
name: ssh_fail
logsource: {product: linux, service: sshd}
detection:
    selection: {event.action: ssh_login, event.outcome: failure}
    condition: selection
level: low
"""


def _events(n: int, src: str = "198.51.100.7") -> list[dict]:
    return [
        {
            "@timestamp": "2026-11-20T10:00:00Z",
            "event.dataset": "sshd",
            "event.action": "ssh_login",
            "event.outcome": "failure",
            "source.ip": src,
            "repeat": n,
            "every": "10s",
        }
    ]


def test_generate_true_keeps_the_base_rule_firing(tmp_path):
    corr = """\
title: Burst
id: 9a4e5f43-2f3d-4c8b-9d8e-0d2e1b7c6a55
correlation: {{type: event_count, rules: [ssh_fail], group-by: [src_ip], timespan: 5m,
              condition: {{gte: 3}}, generate: {generate}}}
level: high
---
"""
    quiet = load_text(tmp_path, corr.format(generate="false") + BASE)
    loud = load_text(tmp_path, corr.format(generate="true") + BASE, "loud.yml")
    assert [r.title for r in quiet.rules] == ["Burst"]
    assert sorted(r.title for r in loud.rules) == ["Burst", "SSH failure"]
    assert quiet.rules[0].severity == "high" and quiet.rules[0].group_by == ("source.ip",)
    assert set(fired(loud, frame(_events(3)))) == {"Burst", "SSH failure"}


def test_unsupported_correlation_conditions_are_reported(tmp_path):
    corr = """\
title: Few
id: 1c0e8a1e-4a43-4b8a-9b43-6a4c3b2f1a10
correlation: {type: event_count, rules: [ssh_fail], group-by: [src_ip], timespan: 5m,
              condition: {lt: 3}}
---
"""
    load = load_text(tmp_path, corr + BASE)
    v = verdicts(load)["Few"]
    assert v.status == "unsupported" and "'lt'" in v.reason
    assert verdicts(load)["SSH failure"].runs_as == "correlation input"


def test_meta_filter_removes_a_source(tmp_path):
    rule = BASE.replace("name: ssh_fail", "id: 3b7f5c2a-8e9d-4f1a-b6c4-2d8e7a9f0b11")
    filt = """\
title: Not from the scanner
id: 6d2a1b3c-4e5f-4a6b-8c7d-9e0f1a2b3c41
logsource: {product: linux, service: sshd}
filter:
    rules: [3b7f5c2a-8e9d-4f1a-b6c4-2d8e7a9f0b11]
    selection: {src_ip: 10.40.0.5}
    condition: not selection
"""
    (tmp_path / "filter.yml").write_text(filt)
    (tmp_path / "rule.yml").write_text(rule)
    load = load_sigma([tmp_path / "rule.yml", tmp_path / "filter.yml"])
    assert [v.runs_as for v in load.verdicts if v.kind == "filter"] == ["meta-filter"]
    assert fired(load, frame(_events(1, "10.40.0.5"))) == {}
    assert fired(load, frame(_events(1))) == {"SSH failure": [0]}


OVERLAY = """\
overlay: sigma
levels: {low: medium}
rules:
  - tag: attack.credential-access
    topology:
      suppress:
        - {source_tag: authorized-scanner, reason: scanner}
  - id: 3B7F5C2A-8E9D-4F1A-B6C4-2D8E7A9F0B11
    severity: critical
    confidence: 0.5
  - id: 7e1d2c3b-4a5f-4e6d-8c9b-0a1f2e3d4c51
    enabled: false
"""


def test_overlay_by_tag_and_id(tmp_path):
    a = BASE.replace(
        "name: ssh_fail",
        "id: 3b7f5c2a-8e9d-4f1a-b6c4-2d8e7a9f0b11\ntags: [attack.credential-access, attack.t1110]",
    )
    b = BASE.replace("name: ssh_fail", "id: 7e1d2c3b-4a5f-4e6d-8c9b-0a1f2e3d4c51").replace(
        "SSH failure", "Switched off"
    )
    c = BASE.replace("name: ssh_fail", "id: 8f2e3d4c-5b6a-4f7e-9d8c-1b2a3f4e5d61").replace(
        "SSH failure", "Plain"
    )
    for name, text in (("a.yml", a), ("b.yml", b), ("c.yml", c)):
        (tmp_path / name).write_text(text)
    (tmp_path / "overlay.yaml").write_text(OVERLAY)
    load = load_sigma(
        [tmp_path / n for n in ("a.yml", "b.yml", "c.yml")], [tmp_path / "overlay.yaml"]
    )
    rules = {r.title: r for r in load.rules}
    assert set(rules) == {"SSH failure", "Plain"}
    assert verdicts(load)["Switched off"].status == "disabled"
    hit = rules["SSH failure"]
    assert (hit.severity, hit.confidence) == ("critical", 0.5)
    assert [(c.kind, c.question, c.arg) for c in hit.clauses] == [
        ("suppress", "source_tag", "authorized-scanner")
    ]
    assert hit.threat.techniques == ("T1110",) and hit.threat.tactic_id == "TA0006"
    assert (
        rules["Plain"].severity == "medium" and not rules["Plain"].clauses
    )  # levels: low -> medium


def test_overlay_errors_name_the_file_and_line(tmp_path):
    bad = "overlay: sigma\nrules:\n  - tag: attack.x\n    topology:\n      suppress:\n        - {source_tags: x, reason: y}\n"
    (tmp_path / "overlay.yaml").write_text(bad)
    load = load_sigma([], [tmp_path / "overlay.yaml"])
    [err] = load.errors
    assert "overlay.yaml:6" in str(err) and "did you mean 'source_tag'" in str(err)


def test_shipped_sigma_rules_and_overlay_load_with_the_library():
    from secops.correlate import load_rules
    from secops.correlate.load import default_rules_dir

    rules = {r.id: r for r in load_rules([default_rules_dir() / "sigma"])}
    assert rules["bd4b47a5-e132-4e42-bb4e-f0f844ebfb6e"].type == "temporal"
    lateral = rules["94b4d599-3268-47ad-a83e-1d0920b2b28d"]
    assert {c.question for c in lateral.clauses} >= {"source_tag", "target_in_change_window"}


def test_temporal_extended_condition(tmp_path):
    rules = "---\n".join(
        f"title: S{x}\nname: s_{x}\nlogsource: {{product: linux, service: sshd}}\n"
        f"detection: {{sel: {{event.action: {a}}}, condition: sel}}\n"
        for x, a in (("a", "ssh_invalid_user"), ("b", "ssh_login"), ("c", "ssh_probe"))
    )
    corr = """\
title: Enumeration without probing
id: 2f7b6c1d-9e8a-4b3c-8d2e-1f0a9b8c7d61
correlation:
    type: temporal
    group-by: [src_ip]
    timespan: 5m
    condition: s_a and s_b and not s_c
---
"""
    load = load_text(tmp_path, corr + rules)
    [rule] = load.rules
    assert rule.type == "temporal" and [s.id for s in rule.steps] == ["s_a", "s_b", "s_c"]

    def ev(action, t, src="203.0.113.9"):
        return {
            "@timestamp": f"2026-11-20T10:0{t}:00Z",
            "event.dataset": "sshd",
            "event.action": action,
            "source.ip": src,
        }

    assert list(fired(load, frame([ev("ssh_invalid_user", 0), ev("ssh_login", 1)])))
    probed = [ev("ssh_probe", 0), ev("ssh_invalid_user", 1), ev("ssh_login", 2)]
    assert fired(load, frame(probed)) == {}
    ordered = load_text(
        tmp_path, corr.replace("type: temporal", "type: temporal_ordered") + rules, "o.yml"
    )
    assert "extended" in ordered.verdicts[0].reason
