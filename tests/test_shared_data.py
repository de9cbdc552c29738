"""tests.helpers.shared: a skip outside CI; under CI a failure when the data was asked for
(SECOPS_TEST_SHARED_DATA) or its folder is there but incomplete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import helpers

FILE = ("loghub", "OpenSSH", "OpenSSH_2k.log")
SKIP, FAIL = pytest.skip.Exception, pytest.fail.Exception


@pytest.mark.parametrize(
    ("layout", "env", "want"),
    [
        ("missing", {}, SKIP),
        ("missing", {"CI": "true"}, SKIP),  # a clean clone: nothing beside it
        ("missing", {"CI": "true", "SECOPS_TEST_SHARED_DATA": "x"}, FAIL),  # asked for
        ("incomplete", {}, SKIP),
        ("incomplete", {"CI": "true"}, FAIL),
    ],
)
def test_absent_shared_data_skips_or_fails(tmp_path, monkeypatch, layout, env, want) -> None:
    data = tmp_path / "data"
    if layout == "incomplete":
        (data / "loghub").mkdir(parents=True)
    monkeypatch.setattr(helpers, "SHARED_DATA", data)
    for name in ("CI", "SECOPS_TEST_SHARED_DATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(want, match="shared test data not present: .*OpenSSH_2k.log"):
        helpers.shared(*FILE)


def test_present_shared_data_is_returned(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(helpers, "SHARED_DATA", tmp_path)
    monkeypatch.setenv("CI", "true")
    path = tmp_path.joinpath(*FILE)
    path.parent.mkdir(parents=True)
    path.write_text("x\n")
    assert helpers.shared(*FILE) == path
