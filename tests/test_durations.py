"""One duration grammar (secops.validate.duration_ms) for rule windows, SLAs, options, settings
and Elasticsearch look-backs: ms s m h d w, a bare number is seconds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from secops.cli.main import cli
from secops.collect.elasticsearch import Search
from secops.correlate.rule import parse_duration
from secops.errors import CollectError, ConfigError, RuleError
from secops.triage import load_sla
from secops.validate import duration_ms

GOOD = [
    ("250ms", 250),
    ("90s", 90_000),
    (" 10 m ", 600_000),
    ("2h", 7_200_000),
    ("7d", 604_800_000),
    ("1w", 604_800_000),
    ("5200w", 5200 * 604_800_000),
    (60, 60_000),  # a bare number is seconds: a YAML integer ...
    ("60", 60_000),  # ... or digits alone
]
BAD = ["0s", "0", 0, -1, "-1h", "1.5h", 1.5, "1y", "1M", "36501d", "9" * 16, "", "5 minutes", True]


@pytest.mark.parametrize(("text", "ms"), GOOD)
def test_good_durations(text, ms):
    assert duration_ms(text) == ms
    assert parse_duration(text) == ms  # rule windows, gaps and example steps


@pytest.mark.parametrize("text", BAD)
def test_bad_durations_name_the_grammar(text):
    with pytest.raises(ConfigError, match=r"bad duration .*a bare number is seconds"):
        duration_ms(text)
    with pytest.raises(RuleError, match="rules/x.yaml:4: bad duration"):
        parse_duration(text, "rules/x.yaml", 4)


def test_zero_only_where_asked_for():
    assert duration_ms("0s", zero=True) == 0
    with pytest.raises(ConfigError):
        duration_ms("0s")


def test_sla_takes_the_grammar_and_refuses_a_bare_number():
    sla = load_sla({"critical": {"ack": "1w", "resolve": "500ms"}, "high": {"ack": "0s"}})
    assert sla["critical"].ack == timedelta(weeks=1)
    assert sla["critical"].resolve == timedelta(milliseconds=500)
    assert sla["high"].ack == timedelta(0)
    for bare in (15, "15"):  # minutes in the SLA's old grammar, seconds in the one grammar
        with pytest.raises(ConfigError, match=r"sla.high.ack '?15'? has no unit.*15m"):
            load_sla({"high": {"ack": bare}})


@pytest.mark.parametrize(
    ("since", "math"),
    [
        ("1w", "now-1w"),
        ("14d", "now-2w"),
        ("90m", "now-90m"),
        ("3600", "now-1h"),
        ("61s", "now-61s"),
    ],
)
def test_elasticsearch_date_math_is_built_from_the_parsed_value(since, math):
    assert Search("logs-*", since=since).body_query()["bool"]["filter"][0] == {
        "range": {"@timestamp": {"gte": math}}
    }


def test_elasticsearch_date_math_has_no_milliseconds():
    assert Search("x", since="2026-11-20T10:00:00Z").body_query()["bool"]["filter"][0] == {
        "range": {"@timestamp": {"gte": "2026-11-20T10:00:00Z"}}
    }
    with pytest.raises(CollectError, match="whole seconds"):
        Search("x", since="1500ms").body_query()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--look-back", "soon"],
        ["findings", "list", "--since", "garbage"],
        ["findings", "list", "--since", "5 minutes"],
    ],
)
def test_the_cli_refuses_a_bad_duration_at_the_edge(args, tmp_path):
    res = CliRunner().invoke(cli, args, env={"SECOPS_DATA_DIR": str(tmp_path)})
    assert res.exit_code == 78, res.output
    assert "Invalid value for '--" in res.stderr


def test_the_cli_takes_weeks(tmp_path):
    res = CliRunner().invoke(
        cli, ["findings", "list", "--since", "1w", "--json"], env={"SECOPS_DATA_DIR": str(tmp_path)}
    )
    assert res.exit_code == 0, res.output


def test_a_run_looks_back_a_week(tmp_path):
    res = CliRunner().invoke(
        cli, ["run", "--look-back", "1w", "--json"], env={"SECOPS_DATA_DIR": str(tmp_path)}
    )
    assert res.exit_code == 0, res.output
    window = json.loads(res.stdout.splitlines()[-1])["window"]
    start, end = (
        datetime.fromisoformat(window[k].replace("Z", "+00:00")) for k in ("start", "end")
    )
    assert end - start == timedelta(weeks=1)
