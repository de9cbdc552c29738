"""The click-free validators: the value in its type, or a ConfigError naming option and value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from secops import validate
from secops.errors import ConfigError


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_known_time_zones_pass(name: str) -> None:
    assert validate.tz_name(name) == name


@pytest.mark.parametrize("name", ["Nowhere", "", "Europe/", "../etc/passwd", None])
def test_unknown_time_zones_name_the_option(name: object) -> None:
    with pytest.raises(ConfigError) as caught:
        validate.tz_name(name, "--tz")
    assert caught.value.exit_code == 78
    assert str(caught.value).startswith(f"--tz {str(name)!r}: unknown time zone")


def test_years_are_those_a_nanosecond_timestamp_holds() -> None:
    lo, hi = validate.YEARS
    assert validate.year(lo) == lo and validate.year(str(hi)) == hi and validate.year(None) is None
    # the oracle: the whole first and last accepted years fit, the next ones do not
    pd.Timestamp(year=lo, month=1, day=1).as_unit("ns")
    pd.Timestamp(year=hi, month=12, day=31, hour=23, minute=59, second=59).as_unit("ns")
    for bad, month in ((lo - 1, 1), (hi + 1, 12)):
        with pytest.raises(ValueError):  # OutOfBoundsDatetime
            pd.Timestamp(year=bad, month=month, day=1).as_unit("ns")
        with pytest.raises(ConfigError, match="year out of range"):
            validate.year(bad)
    with pytest.raises(ConfigError, match="not an integer"):
        validate.year("twenty")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5514", ("127.0.0.1", 5514)),
        ("[::1]:6514", ("::1", 6514)),
        (":514", ("0.0.0.0", 514)),
        ("localhost:0", ("localhost", 0)),
        ("off", None),
        (None, None),
    ],
)
def test_listen_addresses(text: str | None, expected: object) -> None:
    assert validate.listen_address(text, "--tcp") == expected


@pytest.mark.parametrize("text", ["127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1", "h:x", "h:"])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate.listen_address(text, "--tcp")
    assert str(caught.value).startswith(f"--tcp {text!r}: ")


def test_ports_and_positive_numbers() -> None:
    assert validate.port("65535", "--port") == 65535
    with pytest.raises(ConfigError, match="out of range"):
        validate.port(65536, "--port")
    assert validate.positive("0.5", "--flush-seconds") == 0.5
    assert validate.positive(5000, "--flush-lines", int) == 5000
    for value, kind in ((0, int), (-1.5, float), (2.5, int), ("x", float)):
        with pytest.raises(ConfigError):
            validate.positive(value, "--n", kind)


def test_writable_locations(tmp_path: Path) -> None:
    assert validate.writable_dir(tmp_path / "a" / "b", "--spool-dir").is_dir()
    assert validate.writable_file(tmp_path / "c" / "dead.jsonl", "--dead-letter").is_file()
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="--spool-dir .*cannot write here"):
        validate.writable_dir(blocker / "spool", "--spool-dir")
    with pytest.raises(ConfigError, match="--dead-letter .*cannot append"):
        validate.writable_file(blocker / "dead.jsonl", "--dead-letter")
