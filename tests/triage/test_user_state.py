"""A user's exceptions are user state: `false-positive --accept` writes them under the data dir
(or where --exceptions / SECOPS_EXCEPTIONS / secops.yaml say), never into the repository, and
the next run reads them from there. Oracle: `git status --porcelain` of the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from secops.cli.main import cli
from tests.helpers import EXAMPLE_TOPOLOGY, REPO


def git_status() -> str:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    res = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode:
        pytest.skip(f"not a git checkout: {res.stderr.strip()}")
    return res.stdout


def secops(*args: str, env: dict[str, str] | None = None) -> dict:
    res = CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def correlate(logs: Path) -> list[dict]:
    """The story through correlate with every user setting at its default."""
    args = ["-i", str(logs), "-t", str(EXAMPLE_TOPOLOGY), "--year", "2026"]
    return secops("correlate", *args)["findings"]


def lookalike(findings: list[dict]) -> dict:
    return next(f for f in findings if f["source.ip"] == "10.20.1.15")


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root, where the old default (./exceptions) used to write."""
    monkeypatch.chdir(REPO)
    return REPO


def test_accept_writes_under_the_data_dir_not_the_repo(story: Path, in_repo: Path) -> None:
    data = Path(os.environ["SECOPS_DATA_DIR"])
    before = git_status()
    fid = lookalike(correlate(story))["id"]
    out = secops("findings", "false-positive", fid, "--accept", "--note", "inventory scan")
    assert out["exceptions"] == str(data / "exceptions")
    written = Path(out["written"])
    assert written.parent == data / "exceptions" and written.is_file()
    assert git_status() == before  # nothing tracked changed, nothing new in the repository
    assert not (in_repo / "exceptions").exists()
    # the next run reads the user's folder by default and cuts the look-alike
    again = lookalike(correlate(story))
    assert again["suppressed"] and again["reason"] == f"exception:{written.stem}"


def test_the_folder_follows_the_one_resolution(
    story: Path, in_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--exceptions > SECOPS_EXCEPTIONS > secops.yaml 'exceptions' > <data dir>/exceptions."""
    before = git_status()
    fid = lookalike(correlate(story))["id"]
    (tmp_path / "secops.yaml").write_text("exceptions: from-file\n")
    file_env = {"SECOPS_CONFIG": str(tmp_path / "secops.yaml")}
    cases = [
        ({**file_env}, [], tmp_path / "from-file"),
        ({**file_env, "SECOPS_EXCEPTIONS": str(tmp_path / "from-env")}, [], tmp_path / "from-env"),
        (
            {**file_env, "SECOPS_EXCEPTIONS": str(tmp_path / "from-env")},
            ["--exceptions", str(tmp_path / "from-flag")],
            tmp_path / "from-flag",
        ),
    ]
    for env, flags, folder in cases:
        out = secops("findings", "false-positive", fid, "--accept", *flags, env=env)
        assert Path(out["written"]).parent == folder, (env, flags)
    assert git_status() == before


def test_the_working_directory_is_not_read(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """./exceptions (the old default) is not user state: a run ignores it unless pointed at it."""
    monkeypatch.chdir(tmp_path)
    fid = lookalike(correlate(story))["id"]
    secops("findings", "false-positive", fid, "--accept", "--exceptions", "exceptions")
    assert any((tmp_path / "exceptions").glob("*.yaml"))
    assert not lookalike(correlate(story))["suppressed"]
    pointed = secops("correlate", "-i", str(story), "-t", str(EXAMPLE_TOPOLOGY), "--year", "2026",
                     "--exceptions", "exceptions")["findings"]  # fmt: skip
    assert lookalike(pointed)["suppressed"]


def test_the_shipped_example_lives_apart() -> None:
    """The example exception sits in examples/ (test_exceptions loads it), not in a default path."""
    assert any((REPO / "examples" / "exceptions").glob("*.yaml"))
    assert not (REPO / "exceptions").exists()
