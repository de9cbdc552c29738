"""No poison pill: 200,000 mutated real lines through the batch normaliser and the parallel
reader, and every line accounted for.

The oracle is computed here, not by the code under test: the input file's bytes split at LF
(one CR before it dropped, bad UTF-8 and NUL as U+FFFD) give the lines read; each one must come
out exactly once, as an event (its `event.original`), a dead letter (its file, line number and
a reason) or a blank line. SECOPS_FUZZ_LINES and SECOPS_FUZZ_SEED run a longer or another fuzz.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from secops.normalise import ParseReport, iter_events
from secops.normalise.batch import Options
from secops.normalise.detect import MAX_LINE_BYTES
from secops.parallel import read_parallel
from secops.schema import EVENT_COLUMNS, dtype
from tests.helpers import shared
from tests.normalise.mutate import SHARED_FILES, lines_of, mutate, seed_lines, shared_lines

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
LINES = int(os.environ.get("SECOPS_FUZZ_LINES", "200000"))
SEED = int(os.environ.get("SECOPS_FUZZ_SEED", "19"))
#: one line in this many is 64 KiB to 1 MB+ (they cost most; ~12 in 200,000)
HUGE = 1 / 16_000
PORTS = ("source.port", "destination.port")

#: the runs over the four quarters of the corpus: different years, zones and batch sizes
SERIAL_RUNS: dict[str, dict[str, Any]] = {
    "run-date year, UTC, 64k batches": {},
    "--year 2300": {"year": 2300, "batch_lines": 7_000},
    "--year 2026, Europe/Berlin, 997-line batches": {
        "year": 2026,
        "tz": "Europe/Berlin",
        "batch_lines": 997,
    },
}
PARALLEL = "parallel reader, 1 MiB chunks, 2 workers"


@dataclass(frozen=True)
class Corpus:
    files: dict[str, Path]  # run name -> input file


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    seeds, _ = seed_lines()  # without the shared data: the golden and sample lines only
    rng = random.Random(SEED)
    folder = tmp_path_factory.mktemp("fuzz")
    names = [*SERIAL_RUNS, PARALLEL]
    per_file = LINES // len(names)
    files = {}
    for i, name in enumerate(names):
        path = folder / f"input-{i}.log"
        lines = [mutate(rng.choice(seeds), rng, huge=HUGE) for _ in range(per_file)]
        path.write_bytes(b"\n".join(lines) + rng.choice((b"\n", b"", b"\r\n")))
        files[name] = path
    return Corpus(files)


def check_accounting(
    path: Path, events: pd.DataFrame, report: ParseReport, dead_letter: Path
) -> dict[str, int]:
    """Every line read is an event, a dead letter or blank, exactly once; returns the counts
    of dead-letter reasons."""
    expected = lines_of(path.read_bytes())
    assert report.lines_read == len(expected)
    assert report.parsed + report.dead_lettered + report.blank == report.lines_read
    assert len(events) == report.parsed
    letters = [json.loads(x) for x in dead_letter.read_text(encoding="utf-8").splitlines()]
    assert len(letters) == report.dead_lettered
    numbers = [d["line"] for d in letters]
    assert len(set(numbers)) == len(numbers), "a line dead-lettered twice"
    for d in letters:
        assert d["file"] == str(path)
        assert 1 <= d["line"] <= len(expected)
        assert isinstance(d["reason"], str) and d["reason"].strip()
        assert d["raw"] == expected[d["line"] - 1][:MAX_LINE_BYTES]
    dead = set(numbers)
    rest = [line for no, line in enumerate(expected, 1) if no not in dead]
    originals = Counter(events["event.original"].astype(object))
    assert None not in originals and pd.NA not in originals
    leftover = Counter(rest) - originals
    assert not (originals - Counter(rest)), "an event whose line was not read"
    assert all(not line.strip() for line in leftover.elements()), "a line neither kept nor dead"
    assert sum(leftover.values()) == report.blank
    check_events(events)
    return dict(Counter(d["reason"] for d in letters))


def check_events(events: pd.DataFrame) -> None:
    assert list(events.columns[: len(EVENT_COLUMNS)]) == EVENT_COLUMNS
    for col in EVENT_COLUMNS:
        assert events[col].dtype == dtype(col), col
    assert events["@timestamp"].notna().all()
    assert events["event.id"].is_unique
    for col in PORTS:
        ports = events[col].dropna()
        assert ((ports >= 0) & (ports <= 65535)).all(), (col, ports[(ports < 0) | (ports > 65535)])


@pytest.mark.parametrize("name", sorted(SERIAL_RUNS))
def test_every_mutated_line_is_accounted_for(corpus: Corpus, tmp_path: Path, name: str) -> None:
    path = corpus.files[name]
    dead = tmp_path / "dead.jsonl"
    report = ParseReport()
    frames = iter_events([str(path)], report=report, now=NOW, dead_letter=dead, **SERIAL_RUNS[name])
    events = pd.concat(list(frames), ignore_index=True)
    reasons = check_accounting(path, events, report, dead)
    assert report.parsed > 0 and reasons  # the corpus keeps real lines and breaks others


def test_the_parallel_reader_accounts_for_every_line_as_the_serial_one(
    corpus: Corpus, tmp_path: Path
) -> None:
    path = corpus.files[PARALLEL]
    opts = Options(year=None, tz="UTC", now=NOW, keep_original=True)
    dead, serial_dead = tmp_path / "dead.jsonl", tmp_path / "serial-dead.jsonl"
    report = ParseReport()
    chunks = read_parallel(
        [str(path)],
        report,
        prepare=lambda frame: frame,
        workers=2,
        opts=opts,
        dead_letter=dead,
        chunk_bytes=1 << 20,
    )
    events = pd.concat([frame for frame, _ in chunks], ignore_index=True)
    check_accounting(path, events, report, dead)
    serial = ParseReport()
    want = pd.concat(
        list(iter_events([str(path)], report=serial, now=NOW, dead_letter=serial_dead)),
        ignore_index=True,
    )
    assert report.to_dict() | {"dead_letter_path": None} == serial.to_dict() | {
        "dead_letter_path": None
    }
    assert dead.read_text(encoding="utf-8") == serial_dead.read_text(encoding="utf-8")
    assert sorted(events["event.id"]) == sorted(want["event.id"])


@pytest.mark.parametrize("name", SHARED_FILES)
def test_the_shared_data_seeds_the_fuzz(name: str) -> None:
    """Loghub OpenSSH/Linux and the Suricata alerts are in the corpus (skipped, with the path,
    when ../shared/data is absent: the fuzz then runs on the golden and sample lines)."""
    lines = shared_lines(shared(*name.split("/")))
    seeds, missing = seed_lines()
    assert lines and set(lines) <= set(seeds) and not missing
