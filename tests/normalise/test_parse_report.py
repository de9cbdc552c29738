"""The parse report accounts for every line of every input and warns about the inputs a SOC
user must not miss: a binary file (dead-lettered, named), an empty input, a format nothing
parses. Real files; the oracle counts lines with bytes.count, not with the collector."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from secops.cli.main import cli
from secops.normalise import ParseReport, iter_events
from tests.helpers import REPO

SSH = "Nov 20 10:00:{s:02d} web02 sshd[1]: Failed password for root from 192.0.2.10 port 4 ssh2"


def lines_in(data: bytes) -> int:
    """Lines as a reader of the file counts them: newlines, plus an unterminated last line."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def binary_blob() -> bytes:
    """Machine code look-alike: random bytes with NULs, some newlines, some blank lines."""
    rng = random.Random(19)
    return b"\x7fELF\x02\x01\x01\x00" + rng.randbytes(30_000) + b"\n\n\x00\x00\n"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "binary": binary_blob(),
        "empty": b"",
        "log": ("\n".join(SSH.format(s=i) for i in range(5)) + "\n\n\r\n").encode(),
        # a log with one corrupted line (NULs after a crash) is a log, not a binary file
        "corrupted": (SSH.format(s=1) + "\n\x00\x00\x00\xff\n" + SSH.format(s=2)).encode(),
        "unknown": b"hello\nworld\n",
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


def test_every_line_of_every_input_is_accounted_for(inputs: dict[str, Path]) -> None:
    report = ParseReport()
    for _ in iter_events([str(p) for p in inputs.values()], report=report, year=2026):
        pass
    for path in inputs.values():
        counts = report.coverage[str(path)]
        assert sum(counts.values()) == lines_in(path.read_bytes()), (path.name, counts)
    total = sum(lines_in(p.read_bytes()) for p in inputs.values())
    assert report.lines_read == total
    assert report.lines_read == report.parsed + report.dead_lettered + report.blank


def test_warnings_name_binary_empty_and_unknown_inputs(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    dead = tmp_path / "dead.jsonl"
    report = ParseReport()
    for _ in iter_events([str(p) for p in inputs.values()], report=report, dead_letter=dead):
        pass
    warnings = report.warnings()
    binary = next(w for w in warnings if w.startswith(str(inputs["binary"])))
    assert "binary file, dead-lettered" in binary and f"(kept in {dead})" in binary
    assert f"{inputs['empty']}: empty input, no line read" in warnings
    assert any(w.startswith(f"{inputs['unknown']}: no line parsed (2 unparsed)") for w in warnings)
    assert not any(str(inputs["corrupted"]) in w or str(inputs["log"]) in w for w in warnings)
    records = [json.loads(line) for line in dead.read_text().splitlines()]
    from_binary = [r for r in records if r["file"] == str(inputs["binary"])]
    assert len(from_binary) == report.coverage[str(inputs["binary"])]["unparsed"]
    assert any(r["reason"] == "binary data (NUL or invalid UTF-8 bytes)" for r in from_binary)
    corrupted = [r for r in records if r["file"] == str(inputs["corrupted"])]
    assert [(r["line"], r["reason"]) for r in corrupted] == [
        (2, "binary data (NUL or invalid UTF-8 bytes)")
    ]


def test_the_cli_warns_on_stderr(inputs: dict[str, Path], tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli,
        ["parse", "-i", str(inputs["binary"]), "-i", str(inputs["empty"]),
         "-o", str(tmp_path / "events.jsonl")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"warning: {inputs['binary']}: binary file, dead-lettered" in res.stderr
    assert f"warning: {inputs['empty']}: empty input" in res.stderr
    assert "(counted only: --dead-letter FILE keeps them)" in res.stderr
    read = lines_in(inputs["binary"].read_bytes())
    assert f"lines read {read:,}: parsed 0 (0.0%)" in res.stderr


def test_the_bundled_sample_gives_no_warning() -> None:
    report = ParseReport()
    for _ in iter_events([str(REPO / "samples" / "logs")], report=report, year=2026):
        pass
    assert report.warnings() == [] and report.dead_lettered == 0
