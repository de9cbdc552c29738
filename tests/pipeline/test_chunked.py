"""Correlating in time steps gives the findings of one whole run, byte for byte; inputs out of
time order are merged by time (tests/pipeline/test_order.py), with one parse report and one
dead letter each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import corpus
from secops.pipeline import RunResult, run
from secops.sink import JsonlSink
from tests.helpers import EXAMPLE_TOPOLOGY, REPO

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _run(inputs: list[Path], out: Path, step_rows: int, **kw) -> RunResult:
    """`run` with the findings written as JSON lines to `out`."""
    return run(
        [str(p) for p in inputs], sinks=[JsonlSink(out)], year=2026, now=NOW, workers=1,
        step_rows=step_rows, **kw,
    )  # fmt: skip


def _split(path: Path, parts: int) -> list[Path]:
    """The file cut into `parts` files in line order (each a batch of its own: many steps)."""
    lines = path.read_text().splitlines(keepends=True)
    size = -(-len(lines) // parts)
    out = []
    for i in range(parts):
        part = path.with_name(f"{path.stem}-{i:03d}.log")
        part.write_text("".join(lines[i * size : (i + 1) * size]))
        out.append(part)
    return out


def test_bench_corpus_in_steps_equals_one_run(tmp_path: Path) -> None:
    log, topology = tmp_path / "corpus.log", tmp_path / "topology"
    truth = corpus.generate(log, 80_000, seed=11)
    corpus.write_topology(topology, 10, 1, seed=11)
    parts = _split(log, 24)
    kw = {"topology_path": str(topology)}
    whole = _run(parts, tmp_path / "whole.jsonl", 0, **kw)
    steps = _run(parts, tmp_path / "steps.jsonl", 2_000, **kw)
    assert whole.correlation == {"mode": "whole", "reason": "step rows 0"}
    assert steps.correlation["mode"] == "chunked" and steps.correlation["steps"] >= 20
    assert 0 < steps.correlation["held_max_rows"] < whole.events / 4
    assert len(whole.raised) == len(truth.raised) and len(whole.cut) == len(truth.cut)
    assert (tmp_path / "steps.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert steps.report.to_dict() == whole.report.to_dict()
    assert steps.events == whole.events


def test_out_of_order_inputs_are_merged_by_time(tmp_path: Path) -> None:
    """A late-evening file with unparsable lines, then the bundled sample (a file per host,
    each over the whole day): read in time order, not in the order given."""
    late = tmp_path / "late.log"
    late.write_text(
        "".join(
            f"Nov 20 23:{m:02d}:00 web01 sshd[8]: Failed password for admin from 10.0.0.{m} "
            f"port 5000 ssh2\nnot a log line {m}\n"
            for m in range(60)
        )
    )
    sample = [late, REPO / "samples" / "logs"]
    kw = {"topology_path": str(EXAMPLE_TOPOLOGY)}
    counted: list[int] = []
    whole = _run(sample, tmp_path / "whole.jsonl", 0, dead_letter=tmp_path / "w.jsonl", **kw)
    steps = _run(
        sample, tmp_path / "steps.jsonl", 50, dead_letter=tmp_path / "s.jsonl",
        on_batch=counted.append, **kw,
    )  # fmt: skip
    assert steps.correlation["mode"] == "chunked" and steps.correlation["late_events"] == 0
    assert (tmp_path / "steps.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert len(whole.findings) > 5
    dead = (tmp_path / "s.jsonl").read_text().splitlines()
    assert sorted(dead) == sorted((tmp_path / "w.jsonl").read_text().splitlines()) and dead
    assert steps.report.lines_read == whole.report.lines_read
    assert sum(counted) == steps.events == whole.events  # progress counted once


def _story(folder: Path) -> list[Path]:
    """Two hours of one source failing SSH logins every 20 s (one episode, gaps < 5 min) amid
    other traffic, one file per 10 minutes."""
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    files: list[Path] = []
    for part in range(12):
        lines = []
        for s in range(part * 600, (part + 1) * 600, 5):
            at = (t0 + timedelta(seconds=s)).strftime("%b %d %H:%M:%S")
            if s % 20 == 0:
                lines.append(
                    f"{at} web01 sshd[7]: Failed password for root from 198.51.100.10 "
                    f"port {40000 + s % 999} ssh2"
                )
            lines.append(
                f"{at} web01 sshd[8]: Failed password for admin from 10.{s % 250}.{s // 250 % 250}.9 "
                "port 5000 ssh2"
            )
        files.append(folder / f"auth-{part:02d}.log")
        files[-1].write_text("\n".join(lines) + "\n")
    return files


def _brute(result: RunResult) -> dict:
    [found] = [
        f
        for f in result.findings
        if f["rule"]["id"] == "ssh-brute-force" and f["source"]["ip"] == "198.51.100.10"
    ]
    return found


def test_an_episode_over_many_steps_keeps_its_id_and_evidence(tmp_path: Path) -> None:
    files = _story(tmp_path)
    whole = _run(files, tmp_path / "whole.jsonl", 0)
    steps = _run(files, tmp_path / "steps.jsonl", 100)
    assert steps.correlation["mode"] == "chunked" and steps.correlation["steps"] >= 10
    assert (tmp_path / "steps.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    found = _brute(steps)
    assert found["finding"]["evidence"]["count"] == 360  # every failure of the two hours
    assert (found["event"]["start"], found["event"]["end"]) == (
        "2026-11-20T08:00:00Z",
        "2026-11-20T09:59:40Z",
    )
    assert found["finding"]["id"] == _brute(whole)["finding"]["id"]


@pytest.mark.parametrize(
    ("step_rows", "sources", "reason"),
    [(None, (), "small input"), (100, iter(()), "events from other sources")],
)
def test_what_runs_in_one_piece(tmp_path: Path, step_rows, sources, reason: str) -> None:
    files = [str(p) for p in _story(tmp_path)[:2]]
    result = run(files, year=2026, now=NOW, workers=1, step_rows=step_rows, sources=sources)
    assert result.correlation == {"mode": "whole", "reason": reason}
    assert len(result.findings) == 1
