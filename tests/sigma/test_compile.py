"""The condition compiler: every supported value modifier and condition form, vectorised."""

from __future__ import annotations

import base64
import textwrap

import numpy as np
import pytest

from tests.sigma.conftest import frame, load_text

RULE = """\
title: t
id: 5d1f5ff2-9a5f-4f44-b8a4-0d7b7b0e0a01
logsource: {{product: ecs}}
detection:
{detection}
level: medium
"""

EVENTS = [
    {
        "@timestamp": "2026-11-20T10:00:00Z",
        "user.name": "Administrator",
        "source.ip": "10.1.2.3",
        "destination.port": 22,
        "process.command_line": "cmd.exe /c whoami /all",
        "message": "Accepted password for root",
        "url.original": "/a/b.php",
    },
    {
        "@timestamp": "2026-11-20T10:00:01Z",
        "user.name": "alice",
        "source.ip": "203.0.113.9",
        "destination.port": 8080,
        "process.command_line": "powershell -enc SQBFAFgA",
        "message": "Line one\nline TWO",
        "url.original": "/index.html",
    },
    {
        "@timestamp": "2026-11-20T10:00:02Z",
        "user.name": "bob",
        "source.ip": "fe80::1",
        "destination.port": 443,
        "process.command_line": "net user bob /add",
        "user.effective.name": "bob",
    },
]


def rows(tmp_path, detection: str, events=EVENTS, **kw) -> list[int]:
    text = RULE.format(detection=textwrap.indent(textwrap.dedent(detection), "    "))
    load = load_text(tmp_path, text, **kw)
    assert [v.status for v in load.verdicts] == ["supported"], load.verdicts
    return list(np.flatnonzero(load.rules[0].filter(frame(events))))


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        ("sel: {user.name: administrator}\ncondition: sel", [0]),  # case-insensitive equals
        ("sel: {user.name|cased: administrator}\ncondition: sel", []),
        ("sel: {user.name: 'adm*'}\ncondition: sel", [0]),  # wildcard
        ("sel: {user.name: 'b?b'}\ncondition: sel", [2]),
        ("sel: {process.command_line|contains: WHOAMI}\ncondition: sel", [0]),
        ("sel: {process.command_line|startswith: [net , cmd]}\ncondition: sel", [0, 2]),
        ("sel: {url.original|endswith: .php}\ncondition: sel", [0]),
        ("sel: {process.command_line|contains|all: [whoami, /all]}\ncondition: sel", [0]),
        ("sel: {process.command_line|contains|all: [whoami, /add]}\ncondition: sel", []),
        ("sel: {process.command_line|re: '^net\\s+user'}\ncondition: sel", [2]),
        ("sel: {process.command_line|re: '^NET'}\ncondition: sel", []),  # re is case-sensitive
        ("sel: {process.command_line|re|i: '^NET'}\ncondition: sel", [2]),
        ("sel: {message|re|m: '^line TWO$'}\ncondition: sel", [1]),
        ("sel: {message|re|s: 'one.line'}\ncondition: sel", [1]),
        ("sel: {source.ip|cidr: [10.0.0.0/8, 'fe80::/10']}\ncondition: sel", [0, 2]),
        ("sel: {destination.port|gt: 443}\ncondition: sel", [1]),
        ("sel: {destination.port|gte: 443}\ncondition: sel", [1, 2]),
        ("sel: {destination.port|lt: 443}\ncondition: sel", [0]),
        ("sel: {destination.port|lte: 443}\ncondition: sel", [0, 2]),
        ("sel: {destination.port: [22, 443]}\ncondition: sel", [0, 2]),
        ("sel: {user.effective.name|exists: true}\ncondition: sel", [2]),
        ("sel: {user.effective.name|exists: false}\ncondition: sel", [0, 1]),
        ("sel: {user.effective.name: null}\ncondition: sel", [0, 1]),
        ("sel: {user.effective.name|fieldref: user.name}\ncondition: sel", [2]),
        ("sel: {process.command_line|fieldref|endswith: user.effective.name}\ncondition: sel", []),
        ("sel: {process.command_line|windash|contains: ' -enc '}\ncondition: sel", [1]),
        ("sel: {process.command_line|windash|contains: ' /enc '}\ncondition: sel", [1]),
        ("sel: ['accepted password']\ncondition: sel", [0]),  # keywords search message
        ("a: {user.name: alice}\nb: {user.name: bob}\ncondition: 1 of them", [1, 2]),
        ("s_a: {user.name: alice}\ns_b: {source.ip: 203.0.113.9}\ncondition: all of s_*", [1]),
        ("s_a: {user.name: alice}\ns_b: {user.name: bob}\ncondition: 1 of s_*", [1, 2]),
        ("a: {user.name: alice}\nb: {user.name: bob}\ncondition: not (a or b)", [0]),
        ("a: {user.name: alice}\nb: {destination.port: 8080}\ncondition: a and not b", []),
        ("a:\n  - {user.name: alice}\n  - {user.name: bob}\ncondition: a", [1, 2]),
        ("a: {user.name: [alice, bob], destination.port: 443}\ncondition: a", [2]),
    ],
)
def test_modifiers_and_conditions(tmp_path, detection, expected):
    assert rows(tmp_path, detection) == expected


def test_base64_and_base64offset(tmp_path):
    encoded = base64.b64encode(b"xx IEX (New-Object Net.WebClient)").decode()
    events = [
        {
            "@timestamp": "2026-11-20T10:00:00Z",
            "process.command_line": f"powershell -enc {encoded}",
        },
        {"@timestamp": "2026-11-20T10:00:01Z", "process.command_line": "powershell -enc AAAA"},
    ]
    detection = "s: {process.command_line|base64offset|contains: 'IEX (New-Object'}\ncondition: s"
    assert rows(tmp_path, detection, events) == [0]
    full = base64.b64encode(b"AB").decode()
    events2 = [{"@timestamp": "2026-11-20T10:00:00Z", "message": f"x {full} y"}]
    assert rows(tmp_path, "s: {message|base64|contains: AB}\ncondition: s", events2) == [0]


def test_utf16_base64offset(tmp_path):
    encoded = base64.b64encode("x Invoke-Mimikatz -x".encode("utf-16le")).decode()
    events = [
        {"@timestamp": "2026-11-20T10:00:00Z", "process.command_line": f"powershell -e {encoded}"},
        {"@timestamp": "2026-11-20T10:00:01Z", "process.command_line": "powershell -e AAAA"},
    ]
    detection = (
        "s: {process.command_line|wide|base64offset|contains: Invoke-Mimikatz}\ncondition: s"
    )
    assert rows(tmp_path, detection, events) == [0]


def test_expand_uses_placeholders_from_the_overlay(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("overlay: sigma\nplaceholders: {admins: [alice, Administrator]}\n")
    detection = "s: {user.name|expand: '%admins%'}\ncondition: s"
    assert rows(tmp_path, detection, overlays=[overlay]) == [0, 1]


@pytest.mark.parametrize(
    ("detection", "why"),
    [
        ("s: {user.name|expand: '%nobody%'}\ncondition: s", "placeholder"),
        ("s: {process.command_line|re: '(?<=cmd)x'}\ncondition: s", "(?<=cmd)x"),
        ("s: {src_ip: 10.0.0.1}\ncondition: s", "field 'src_ip'"),
        ("s: {user.name: a}\ncondition: s | count() by source.ip > 3", "aggregation"),
    ],
)
def test_unsupported_constructs_are_reported_with_the_reason(tmp_path, detection, why):
    text = RULE.format(detection=textwrap.indent(detection, "    "))
    load = load_text(tmp_path, text)
    assert not load.rules
    [v] = load.verdicts
    assert v.status in ("unsupported", "invalid") and why in v.reason  # invalid: pySigma said
    assert load.errors and why in str(load.errors[0])


def test_invalid_sigma_is_reported_by_pysigma(tmp_path):
    load = load_text(tmp_path, "title: x\nlogsource: {product: linux}\ndetection: {condition: s}\n")
    assert load.errors and not load.rules
    assert load.verdicts[0].status == "invalid"
