"""Inputs out of time order are merged by time, not read again in one piece: the findings of a
run in small steps are those of one whole run over the same files, byte for byte (the oracle:
`step_rows=0`), as long as each file is out of order by no more than the skew; events later
than that are counted as late and still correlated where the rows held back allow."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import corpus
from secops import parallel
from secops.pipeline import RunResult, run
from secops.sink import JsonlSink

NOW = datetime(2026, 11, 27, tzinfo=UTC)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 128 KB: every file is read in several chunks, merged with the others."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 128 << 10)


def _run(inputs: list[Path], out: Path, step_rows: int, **kw) -> RunResult:
    return run(
        [str(p) for p in inputs], sinks=[JsonlSink(out)], year=2026, now=NOW, workers=1,
        step_rows=step_rows, **kw,
    )  # fmt: skip


def _same_as_whole(tmp_path: Path, inputs: list[Path], steps_min: int = 20, **kw) -> RunResult:
    """The run in steps of 500 rows, checked against one whole run of the same files."""
    whole = _run(inputs, tmp_path / "whole.jsonl", 0, **kw)
    steps = _run(inputs, tmp_path / "steps.jsonl", 500, **kw)
    assert whole.correlation["mode"] == "whole"
    assert steps.correlation["mode"] == "chunked" and steps.correlation["steps"] >= steps_min
    assert steps.correlation["late_events"] == 0
    assert len(whole.findings) >= 30
    assert (tmp_path / "steps.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert steps.report.to_dict() == whole.report.to_dict() and steps.events == whole.events
    return steps


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, corpus.Truth]:
    """A day of the bench corpus (time order) and its topology."""
    folder = tmp_path_factory.mktemp("day")
    log, topology = folder / "corpus.log", folder / "topology"
    truth = corpus.generate(log, 24_000, seed=7)
    corpus.write_topology(topology, 10, 1, seed=7)
    return log, topology, truth


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines))
    return path


def test_files_each_over_the_whole_period(tmp_path: Path, day) -> None:
    """Four files dealt line by line from one day: each spans the whole day."""
    log, topology, truth = day
    lines = log.read_text().splitlines(keepends=True)
    files = [_write(tmp_path / f"host-{i}.log", lines[i::4]) for i in range(4)]
    steps = _same_as_whole(tmp_path, files, topology_path=str(topology))
    assert len(steps.raised) == len(truth.raised)
    # bounded: never the whole input at once (each file contributes about a chunk)
    assert steps.correlation["held_max_rows"] < steps.events / 3


def test_files_listed_newest_first(tmp_path: Path, day) -> None:
    log, topology, truth = day
    lines = log.read_text().splitlines(keepends=True)
    size = -(-len(lines) // 6)
    parts = [lines[i * size : (i + 1) * size] for i in range(6)]
    files = [_write(tmp_path / f"part-{5 - i}.log", parts[i]) for i in range(6)][::-1]
    steps = _same_as_whole(tmp_path, files, topology_path=str(topology))
    assert len(steps.raised) == len(truth.raised)


def test_gzip_files_newest_first(tmp_path: Path, day) -> None:
    """A rotated log set (`auth.log.3.gz` ... `auth.log`) listed newest first: each read whole
    (gzip), placed by its first event time."""
    log, topology, _truth = day
    lines = log.read_text().splitlines(keepends=True)
    size = -(-len(lines) // 4)
    parts = [lines[i * size : (i + 1) * size] for i in range(4)]
    files = [_write(tmp_path / "auth.log", parts[3])]
    for age, part in enumerate(parts[2::-1], start=1):
        path = tmp_path / f"auth.log.{age}.gz"
        path.write_bytes(gzip.compress("".join(part).encode()))
        files.append(path)
    _same_as_whole(tmp_path, files, steps_min=3, topology_path=str(topology))


def _skewed(text: str, offsets: dict[str, int]) -> list[str]:
    """Syslog lines as a relay hands them on: in arrival order, each stamped by the clock of
    its host (`offsets`: seconds ahead; other lines as they are)."""
    out, cache = [], {}
    for line in text.splitlines(keepends=True):
        parts = line.split(" ", 4)
        host = parts[3] if line[:3].isalpha() and len(parts) > 4 else ""
        if not line[:3].isalpha() or host not in offsets:
            out.append(line)
            continue
        key = (line[:15], host)
        if key not in cache:
            at = datetime.strptime(f"2026 {line[:15]}", "%Y %b %d %H:%M:%S")
            at += timedelta(seconds=offsets[host])
            cache[key] = f"{at:%b} {at.day:>2} {at:%H:%M:%S}"
        out.append(cache[key] + line[15:])
    return out


def test_relay_with_two_minutes_of_skew(tmp_path: Path, day) -> None:
    """One relay file interleaving 12 hosts whose clocks are within ±2 min of true time."""
    log, topology, _truth = day
    hosts = [corpus.asset_name(i) for i in range(10)] + [corpus.FW_HOST, corpus.ASA_HOST]
    offsets = {h: (-120, -75, -30, 0, 45, 90, 120)[i % 7] for i, h in enumerate(hosts)}
    relay = _write(tmp_path / "relay.log", _skewed(log.read_text(), offsets))
    _same_as_whole(tmp_path, [relay], topology_path=str(topology))


def _late_story(path: Path, late_s: list[int]) -> Path:
    """Two hours of failed logins from ever new sources (one a second) and one brute force
    (12 failures 10 s apart from 08:30:00); the failures at `late_s` seconds into the brute
    force reach the relay 3 minutes late."""
    t0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    brute = 30 * 60
    rows: list[tuple[int, str]] = []
    for s in range(7200):
        rows.append((s, _fail(t0 + timedelta(seconds=s), f"10.{s // 250}.{s % 250}.9", "admin")))
    for j in range(12):
        s = brute + 10 * j
        arrives = s + 180 if 10 * j in late_s else s
        rows.append((arrives, _fail(t0 + timedelta(seconds=s), "198.51.100.10", "root")))
    rows.append((brute + 3600, _fail(t0 + timedelta(seconds=60), "198.51.100.99", "root")))
    rows.sort(key=lambda r: r[0])
    return _write(path, [line for _, line in rows])


def _fail(at: datetime, ip: str, user: str) -> str:
    stamp = f"{at:%b} {at.day:>2} {at:%H:%M:%S}"
    return f"{stamp} web01 sshd[7]: Failed password for {user} from {ip} port 4000 ssh2\n"


def _brute(result: RunResult) -> dict:
    [found] = [
        f
        for f in result.findings
        if f["rule"]["id"] == "ssh-brute-force" and f["source"]["ip"] == "198.51.100.10"
    ]
    return found


def test_beyond_the_skew_is_late_counted_and_still_correlated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a skew of 1 min, four failures 3 min late and one an hour late: counted as late
    (not lost, not a whole run); the four still join their brute force, which is the whole
    run's finding; the one an hour late is before every rule's resume point."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 8 << 10)  # a step every ~80 s of the story
    log = _late_story(tmp_path / "relay.log", late_s=[80, 90, 100, 110])
    whole = _run([log], tmp_path / "whole.jsonl", 0)
    steps = _run([log], tmp_path / "steps.jsonl", 20, max_skew="1m")
    assert steps.correlation["mode"] == "chunked" and steps.correlation["steps"] >= 20
    # the hour and some of the four (one that heads a chunk places its chunk: not late)
    assert 2 <= steps.correlation["late_events"] <= 5
    assert steps.correlation["max_skew_ms"] == 60_000
    assert steps.correlation["earliest_late"] == "2026-11-20T08:01:00Z"
    assert steps.events == whole.events == 7200 + 13
    assert _brute(steps) == _brute(whole)
    assert _brute(steps)["finding"]["evidence"]["count"] == 12
    # the default skew (5 min) takes 3 minutes in its stride: only the hour is late
    again = _run([log], tmp_path / "again.jsonl", 20)
    assert again.correlation["late_events"] == 1
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()


def test_max_skew_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 8 << 10)
    monkeypatch.setenv("SECOPS_MAX_SKEW", "90s")
    log = _late_story(tmp_path / "relay.log", late_s=[])
    steps = _run([log], tmp_path / "steps.jsonl", 20)
    assert steps.correlation["max_skew_ms"] == 90_000
    assert steps.correlation["late_events"] == 1
