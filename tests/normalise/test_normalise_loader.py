"""collectors/*.yaml: the shipped parsers load; broken ones fail with file:line and a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from secops.errors import ContentErrors
from secops.normalise import load_parsers
from secops.normalise.loader import default_parsers_dir

GOOD = """\
id: {id}
kind: regex
applies_to:
  programs: [{program}]
patterns:
  - name: one
    regex: '^hello (?P<user__name>\\S+)'
    fields: {{event.action: hello}}
"""


def test_shipped_parsers_load_and_are_documented() -> None:
    parsers = load_parsers()
    ids = {p.id for p in parsers}
    assert {"sshd", "sudo", "su", "netfilter", "cisco_asa", "suricata", "access_log", "ecs"} <= ids
    readme = (default_parsers_dir() / "README.md").read_text()
    assert all(f"`{i}`" in readme for i in ids)


def test_env_var_points_at_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "greeter.yaml").write_text(GOOD.format(id="greeter", program="greet"))
    monkeypatch.setenv("SECOPS_COLLECTORS", str(tmp_path))
    assert [p.id for p in load_parsers()] == ["greeter"]


def test_all_errors_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(GOOD.format(id="ok", program="prog"))
    (tmp_path / "dup.yaml").write_text(GOOD.format(id="dup", program="prog"))
    (tmp_path / "misnamed.yaml").write_text(GOOD.format(id="other", program="p2"))
    (tmp_path / "badre.yaml").write_text(
        GOOD.format(id="badre", program="p3").replace("(?P<user__name>\\S+)", "(a)(?<=x)")
    )
    (tmp_path / "badfield.yaml").write_text(
        GOOD.format(id="badfield", program="p4").replace("user__name", "src_ip")
    )
    (tmp_path / "broken.yaml").write_text("id: broken\npatterns: [\n")
    with pytest.raises(ContentErrors) as err:
        load_parsers(tmp_path)
    text = str(err.value)
    assert f"{tmp_path / 'ok.yaml'}:3: program 'prog' already handled by parser 'dup'" in text
    assert f"{tmp_path / 'misnamed.yaml'}:1: id 'other' must equal the file name" in text
    assert f"{tmp_path / 'badre.yaml'}:6: pattern 'one': invalid RE2 regex" in text
    assert (
        f"{tmp_path / 'badfield.yaml'}:6: pattern 'one': group 'src_ip' captures unknown field"
        in text
    )
    assert f"{tmp_path / 'broken.yaml'}:3:1: invalid YAML" in text
    assert len(err.value.errors) == 5


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ContentErrors, match="parsers directory not found"):
        load_parsers(tmp_path / "absent")
