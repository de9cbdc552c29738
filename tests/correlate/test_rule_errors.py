"""Invalid rules fail with file:line and a reason; a loader reports every bad file at once."""

from __future__ import annotations

import textwrap

import pytest

from secops.content import parse_yaml
from secops.correlate import load_rules
from secops.correlate.rule import Rule
from secops.errors import ContentError, ContentErrors, RuleError

HEAD = """\
id: r1
title: t
severity: high
runbook: do things
threat: {tactic: {id: TA0006, name: Credential Access}, techniques: [T1110]}
"""


def build(body: str) -> Rule:
    return Rule.from_dict(parse_yaml(HEAD + textwrap.dedent(body), "r1.yaml"), "r1.yaml")


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        (
            "type: threshold\nfilter: {src_ip: 1.2.3.4}\ngroup_by: source.ip\nwindow: 5m\nthreshold: 3\n",
            "unknown field 'src_ip' (did you mean 'source.ip'?",
            7,
        ),
        ("type: thresold\n", "unknown rule type 'thresold'", 6),
        (
            "type: threshold\nfilter: {}\ngroup_by: source.ip\nwindow: 5 minutes\nthreshold: 3\n",
            "bad duration",
            9,
        ),
        (
            "type: threshold\nfilter: {}\ngroup_by: source.ip\nwindow: 5m\nthreshold: 0\n",
            "positive integer",
            10,
        ),
        ("type: threshold\nfilter: {}\nwindow: 5m\nthreshold: 3\n", "needs 'group_by'", None),
        ("type: match\nfilter: {user.name: {regex: '(a'}}\n", "invalid regex", 7),
        ("type: match\nfilter: {user.name: {startswit: a}}\n", "did you mean 'startswith'", 7),
        ("type: match\nfilter: {source.ip: {cidr: 10.0.0.0/33}}\n", "bad CIDR", 7),
        (
            "type: match\nfilter: {}\ntopology:\n  suppress:\n    - {source_tag: monitoring}\n",
            "needs a 'reason'",
            10,
        ),
        (
            "type: match\nfilter: {}\ntopology:\n  require:\n    - {target_expose: true}\n",
            "did you mean 'target_exposes'",
            10,
        ),
        (
            "type: sequence\nmaxspan: 5m\nsteps:\n  - {filter: {}, by: source.ip}\n",
            "at least two steps",
            8,
        ),
        ("type: match\nfilter: {}\nwindw: 5m\n", "did you mean 'window'", 8),
    ],
)
def test_rule_errors_name_file_line_and_reason(body, message, line):
    with pytest.raises(RuleError) as info:
        build(body)
    assert message in str(info.value)
    assert str(info.value).startswith("r1.yaml")
    if line is not None:
        assert info.value.location.line == line, str(info.value)


def test_loader_collects_every_error(tmp_path):
    (tmp_path / "a.yaml").write_text(HEAD.replace("r1", "a") + "type: nope\n")
    (tmp_path / "b.yaml").write_text("id: [\n")
    (tmp_path / "wrong-name.yaml").write_text(HEAD.replace("r1", "c") + "type: match\nfilter: {}\n")
    with pytest.raises(ContentErrors) as info:
        load_rules(tmp_path)
    text = str(info.value)
    assert len(info.value.errors) == 3
    assert "a.yaml:6" in text and "unknown rule type" in text
    assert "b.yaml" in text and "invalid YAML" in text
    assert "rename to 'c.yaml'" in text
    assert info.value.exit_code == 78


def test_unsafe_yaml_tags_are_refused(tmp_path):
    """Refused before anything runs: the tag would have created the file."""
    pwned = tmp_path / "pwned"
    with pytest.raises(ContentError, match="unsupported tag") as info:
        parse_yaml(f"!!python/object/apply:os.system ['touch {pwned}']", "x.yaml")
    assert str(info.value).startswith("x.yaml:1:1: ")
    assert not pwned.exists()
