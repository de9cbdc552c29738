"""Property: whatever a user types as a value (zone, year, port, duration, time, path, URL), on
the command line, in the environment or in secops.yaml, secops answers with an exit code from
{0, 1, 2, 78} and never a traceback."""

from __future__ import annotations

import os
import zoneinfo

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secops.cli.main import cli
from tests.helpers import EXAMPLE_TOPOLOGY, REPO

LOG = "Nov 20 10:00:00 web01 sshd[1]: Failed password for root from 198.51.100.7 port 4000 ssh2\n"
EXIT_CODES = {0, 1, 2, 78}
FUZZ = settings(
    max_examples=int(os.environ.get("SECOPS_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ZONES = sorted(zoneinfo.available_timezones())
tz_values = st.one_of(
    st.sampled_from(ZONES),
    st.sampled_from(["Mars/Olympus", "", " ", "../../etc/passwd", "UTC\x00", "Europe/", "/UTC"]),
    st.sampled_from(["utc", "+02:00", "localtime", "posixrules", "Factory", "EST5EDT", "."]),
    st.text(max_size=40),
)
year_values = st.one_of(
    st.integers(-(10**7), 10**7).map(str),
    st.sampled_from(["99999", "-5", "1969", "1970", "2200", "2201", "1e3", "2026.0", "0x7e2"]),
    st.text(max_size=12),
)
port_values = st.one_of(
    st.integers(-(10**6), 10**6).map(str), st.sampled_from(["22", "0", "65536", "-1"]), st.text()
)
duration_values = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,20}\s?(ms|s|m|h|d|w|y|)\Z"),
    st.sampled_from(["0s", "1w", "100000w", "36500d", "36501d", "1.5h", "PT1H", "∞"]),
    st.text(max_size=20),
)
time_values = st.one_of(
    duration_values,
    st.datetimes().map(lambda t: t.isoformat()),
    st.sampled_from(["2026-11-20", "2026-13-01", "0001-01-01T00:00:00+14:00", "9999-12-31"]),
)
path_values = st.text(max_size=300).filter(lambda p: not p.startswith("/") and ".." not in p)
url_values = st.one_of(
    st.builds("http://127.0.0.1:{}".format, st.integers(-10, 70000)),
    st.sampled_from(["http://", "https://[::1", "ftp://x", "http://a b", "http://h:0x1"]),
    st.sampled_from(["http://127.0.0.1:9200,", ",", "http://user:pw@127.0.0.1:1/"]),
    st.text(max_size=40),
)
env_text = st.text(max_size=40).filter(lambda v: "\x00" not in v)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    (tmp_path / "auth.log").write_text(LOG)
    rules = tmp_path / "rules"
    rules.mkdir()
    brute = REPO / "rules" / "credential-access" / "ssh-brute-force.yaml"
    (rules / "ssh-brute-force.yaml").write_text(brute.read_text())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def no_traceback(argv: list[str], env: dict[str, str] | None = None) -> None:
    res = CliRunner().invoke(cli, argv, env=env)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception  # hypothesis shows the value and the real traceback
    assert res.exit_code in EXIT_CODES, (argv, res.exit_code, res.output)
    assert "Traceback" not in res.output, (argv, res.output)


@FUZZ
@given(tz=tz_values, year=year_values)
def test_parse_tz_and_year_flags(scratch, tz, year):
    no_traceback(["parse", "-i", "auth.log", "-o", "events.jsonl", "--tz", tz, "--year", year])


@FUZZ
@given(tz=env_text, year=env_text)
def test_tz_and_year_from_env_and_file(scratch, tz, year):
    no_traceback(["parse", "-i", "auth.log", "-o", "-"], env={"SECOPS_TZ": tz, "SECOPS_YEAR": year})
    (scratch / "secops.yaml").write_text(f"tz: {tz!r}\nyear: {year!r}\n")
    try:
        no_traceback(["parse", "-i", "auth.log", "-o", "-"])
    finally:
        (scratch / "secops.yaml").unlink()


@FUZZ
@given(port=port_values)
def test_port(scratch, port):
    no_traceback(
        ["topology", "path", "-t", str(EXAMPLE_TOPOLOGY), "ws-alice", "web01", "--port", port]
    )


@FUZZ
@given(since=time_values)
def test_since(scratch, since):
    no_traceback(["findings", "list", "--since", since])
    no_traceback(["correlate", "-i", "auth.log", "--since", since, "--no-store"])


@settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 3))
@given(look_back=duration_values, settle=duration_values, url=url_values)
def test_run_durations_and_url(scratch, look_back, settle, url):
    argv = ["run", "--dry-run", "-i", "auth.log", "-r", "rules"]
    no_traceback([*argv, "--look-back", look_back, "--settle", settle, "--es-url", url])


@FUZZ
@given(path=path_values)
def test_paths(scratch, path):
    no_traceback(["topology", "validate", "-t", path])
    no_traceback(["--config", path, "rules", "list"])
    no_traceback(["rules", "list", "--config", path])
    no_traceback(["parse", "-i", "auth.log", "-o", path])
    no_traceback(["parse", "-i", path, "-o", "events.jsonl"])
    no_traceback(["parse", "-i", "auth.log", "-o", "-", "--dead-letter", path])


@FUZZ
@given(path=path_values.filter(lambda p: "\x00" not in p))
def test_paths_from_env(scratch, path):
    no_traceback(["topology", "validate"], env={"SECOPS_TOPOLOGY": path})
    no_traceback(["parse", "-i", "auth.log", "-o", "-"], env={"SECOPS_DEAD_LETTER": path})
