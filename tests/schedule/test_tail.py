"""Following files between runs: growth, partial lines, rotation, truncation, .gz; sink down."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secops.errors import SinkError
from secops.normalise import load_parsers
from secops.normalise.batch import Registry
from secops.schedule import EXIT_SINK, RunSettings, run_once, tail
from secops.schedule.state import State, load_state
from secops.spool import Spool
from tests.helpers import spooled

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def line(i: int) -> str:
    return f"Nov 20 10:{i // 60 % 60:02d}:{i % 60:02d} web01 sshd[{i}]: Failed password for root from 198.51.100.7 port {i} ssh2\n"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(load_parsers())


class Follower:
    def __init__(self, tmp: Path, registry: Registry) -> None:
        self.tmp, self.registry, self.state = tmp, registry, State()
        self.spool = Spool(tmp / "spool")

    def run(self) -> int:
        pending = tail.plan([str(self.tmp / "logs")], self.state)
        got = tail.ingest(
            pending,
            self.state,
            self.spool,
            self.tmp / "state",
            registry=self.registry,
            year=2026,
            tz="UTC",
            now=NOW,
            dead_letter=None,
        )
        return got.lines

    def messages(self) -> list[str]:
        return sorted(spooled(self.spool.root)["source.port"].astype(int).tolist())


def test_growth_partial_lines_rotation_truncation_and_gz(
    tmp_path: Path, registry: Registry
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    f = Follower(tmp_path, registry)
    log = logs / "auth.log"
    log.write_text("".join(line(i) for i in range(10)) + line(10)[:20])  # a line being written
    assert f.run() == 10
    with open(log, "a") as out:
        out.write(line(10)[20:] + line(11))
    assert f.run() == 2
    assert f.run() == 0
    os.rename(log, logs / "auth.log.1")  # rotation: rename, then a new file
    with open(logs / "auth.log.1", "a") as out:
        out.write(line(12))  # written to the old inode after the rename
    log.write_text(line(13))
    assert f.run() == 2
    with gzip.open(logs / "auth.log.2.gz", "wt") as gz:  # auth.log.1 compressed ...
        gz.write((logs / "auth.log.1").read_text() + line(14))
    (logs / "auth.log.1").unlink()
    assert f.run() == 1  # ... read on from the old offset: only the line it did not have
    log.write_text(line(15))  # truncated and rewritten (copytruncate)
    assert f.run() == 1
    assert f.messages() == list(range(16))


def test_a_sink_down_leaves_the_checkpoint_and_the_next_run_catches_up(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "auth.log").write_text("".join(line(i) for i in range(12)))
    settings = RunSettings(
        state_dir=tmp_path / "state",
        spool_dir=tmp_path / "spool",
        inputs=[str(tmp_path / "logs")],
        year=2026,
    )

    class Down:
        name = "down"

        def write(self, findings: list) -> int:
            raise SinkError("connection refused", "http://127.0.0.1:1")

    class Up:
        name = "up"
        got: list = []

        def write(self, findings: list) -> int:
            self.got.extend(findings)
            return len(findings)

    soon = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)  # the window reaches the 10:00 lines
    out = run_once(settings, [Down()], now=soon)
    assert out.exit_code == EXIT_SINK and "connection refused" in (out.error or "")
    assert load_state(tmp_path / "state" / "state.json").checkpoint_ms is None
    up = Up()
    again = run_once(settings, [up], now=soon)
    assert again.exit_code == 0
    assert any(f["rule"]["id"] == "ssh-brute-force" for f in up.got)
    assert load_state(tmp_path / "state" / "state.json").checkpoint_ms is not None
