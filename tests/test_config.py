"""The plain validators of secops.config against hand-written answers (no click involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secops.config import (
    valid_duration,
    valid_path,
    valid_port,
    valid_since,
    valid_tz,
    valid_url,
    valid_urls,
    valid_year,
)
from secops.errors import ConfigError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "check,good,bad",
    [
        (valid_tz, [("UTC", "UTC"), ("Europe/Paris", "Europe/Paris")], ["Mars/Olympus", "", "../x"]),
        (valid_year, [(1678, 1678), ("2261", 2261), (" 2026 ", 2026)], [1677, 2262, "-5", True, "x"]),
        (valid_port, [(0, 0), ("65535", 65535)], [-1, 65536, "ssh", False]),
        (
            valid_duration,
            [("90s", timedelta(seconds=90)), ("1w", timedelta(days=7)), (60, timedelta(seconds=60)), ("60", timedelta(seconds=60)), ("250ms", timedelta(0, 0, 0, 250))],
            ["0s", "-1h", "1.5h", "1y", "36501d", "9" * 13 + "w", "", "60 seconds", 0, True],
        ),
        (valid_url, [("https://es:9200/", "https://es:9200"), ("http://[::1]:9", "http://[::1]:9")], ["es:9200", "ftp://x", "http://", "http://h:99999"]),
        (valid_urls, [("http://a:1, http://b:2", "http://a:1,http://b:2")], [",", "http://a", "http://a:1,x"]),
        (valid_path, [("any/relative/name", "any/relative/name")], ["a\x00b", "x" * 300]),
    ],
)  # fmt: skip
def test_validators(check, good, bad):
    for value, expected in good:
        assert check(value) == expected
    for value in bad:
        with pytest.raises(ConfigError):
            check(value)


def test_since_is_a_duration_ago_or_an_iso_time():
    assert valid_since("24h", NOW) == "2026-11-19T12:00:00Z"
    assert valid_since("2026-11-20", NOW) == "2026-11-20T00:00:00Z"
    assert valid_since("2026-11-20T08:00:00+02:00", NOW) == "2026-11-20T06:00:00Z"
    for bad in ("yesterday", "0001-01-01T00:00:00+14:00", "2026-13-01"):
        with pytest.raises(ConfigError, match="bad time"):
            valid_since(bad, NOW)


def test_a_bad_url_never_shows_its_password():
    with pytest.raises(ConfigError) as exc:
        valid_urls("http://bob:s3cret@es.example.com")
    assert "s3cret" not in str(exc.value) and "***@es.example.com" in str(exc.value)
