"""A local store filled from the bundled sample through the CLI, with some triage on it; and
headless Chromium (Debian's package) for the browser checks."""

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

FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
).split()


def invoke(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample correlated into a fresh store; one finding acked, one resolved."""
    logs = REPO / "samples" / "logs"
    if not logs.is_dir():
        pytest.skip("the bundled sample (samples/logs) is not there")
    data = tmp_path_factory.mktemp("store")
    empty = tmp_path_factory.mktemp("no-exceptions")
    invoke(
        "correlate", "-i", str(logs), "-t", str(EXAMPLE_TOPOLOGY), "--year", "2026",
        "--exceptions", str(empty), "--data-dir", str(data), "--json",
    )  # fmt: skip
    found = json.loads(invoke("findings", "list", "--data-dir", str(data), "--json"))
    invoke("findings", "ack", found[0]["id"], "--analyst", "carol", "--data-dir", str(data))
    invoke("findings", "resolve", found[1]["id"], "--analyst", "carol", "--data-dir", str(data))
    return data


class Browser:
    def __init__(self, exe: str, profile: Path) -> None:
        self.exe, self.profile = exe, profile

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [self.exe, *FLAGS, f"--user-data-dir={self.profile}", "--enable-logging=stderr"]
        return subprocess.run(
            [*cmd, "--v=0", *args], capture_output=True, text=True, timeout=120, check=False
        )

    def dom(self, page: Path) -> tuple[str, list[str]]:
        """The DOM after load (scripts run) and the page's console lines."""
        res = self.run("--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri())
        assert res.returncode == 0, res.stderr[-2000:]
        console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
        return res.stdout, console

    def screenshot(self, page: Path, out: Path, size: str = "1280,3000") -> Path:
        res = self.run(
            f"--window-size={size}", "--hide-scrollbars", f"--screenshot={out}",
            page.resolve().as_uri(),
        )  # fmt: skip
        assert res.returncode == 0 and out.exists(), res.stderr[-2000:]
        return out


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    """Debian's chromium; in CI (CI set) its absence fails, elsewhere it skips."""
    exe = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    if exe is None:
        message = "headless Chromium is needed: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Browser(exe, tmp_path_factory.mktemp("chromium-profile"))
