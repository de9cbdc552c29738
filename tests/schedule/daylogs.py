"""A day of sample logs that grows as a fake clock advances (for the scheduled-run proofs)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 11, 20, tzinfo=UTC)
_SYSLOG = re.compile(rb"^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d)")
_ACCESS = re.compile(rb"\[(\d+)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d)")
_EVE = re.compile(rb'"timestamp":"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)')
_MONTHS = {
    m: i + 1 for i, m in enumerate(b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())
}


def generate(out: Path, seed: int = 11, noise_per_hour: int = 400, hours: float = 24) -> Path:
    """`python -m secops.synth` (a day by default); returns the logs directory."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "secops.synth",
            str(out),
            "--seed",
            str(seed),
            "--hours",
            str(hours),
            "--noise-per-hour",
            str(noise_per_hour),
            "--topology",
            str(REPO / "topology/example"),
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    return out / "logs"


def _seconds(line: bytes, last: float) -> float:
    if m := _SYSLOG.match(line):
        day = datetime(2026, _MONTHS[m[1]], int(m[2]), int(m[3]), int(m[4]), int(m[5]), tzinfo=UTC)
        return day.timestamp()
    if m := _ACCESS.search(line):
        day = datetime(
            int(m[3]), _MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]), int(m[6]), tzinfo=UTC
        )
        return day.timestamp()
    if m := _EVE.search(line):
        return datetime(*(int(x) for x in m.groups()), tzinfo=UTC).timestamp()
    return last


@dataclass
class GrowingFile:
    """One source file: its full lines and their times; `grow(t)` appends lines up to t."""

    target: Path
    lines: list[bytes]
    times: np.ndarray
    written: int = 0

    def grow(self, until: float) -> None:
        n = int(np.searchsorted(self.times, until, side="right"))
        if n > self.written:
            with open(self.target, "ab") as f:
                f.write(b"".join(self.lines[self.written : n]))
            self.written = n


def growing(logs: Path, live: Path) -> list[GrowingFile]:
    out = []
    for src in sorted(p for p in logs.rglob("*") if p.is_file()):
        lines = src.read_bytes().splitlines(keepends=True)
        times, last = [], 0.0
        for line in lines:
            last = _seconds(line, last)
            times.append(last)
        target = live / src.relative_to(logs)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
        # lines are time-ordered per file; a running maximum keeps searchsorted honest
        out.append(GrowingFile(target, lines, np.maximum.accumulate(np.array(times))))
    return out
