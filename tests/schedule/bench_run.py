"""One `secops run` over five minutes of traffic at 5,000 events/s (a benchmark, not a test):

    .venv/bin/python tests/schedule/bench_run.py [--rate 5000] [--minutes 5]

A synthetic day gives the line shapes (sshd, ASA, netfilter, web access); a warm-up run sets
the checkpoint, then rate x minutes x 60 lines with timestamps in those minutes are appended
and one real `secops run` process correlates them. Prints its JSON log line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECOPS = str(Path(sys.executable).parent / "secops")
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _templates(logs: Path) -> dict[str, list[str]]:
    """Per file: the part of each syslog line after its RFC 3164 time stamp."""
    out = {}
    for name in ("web01/auth.log", "fw01/asa.log", "web01/kern.log", "jump01/auth.log"):
        lines = (logs / name).read_text().splitlines()
        out[name.replace("/", "-")] = [line[16:] for line in lines if len(line) > 16]
    return out


def _cmd(tmp: Path, now: datetime) -> list[str]:
    return [
        SECOPS,
        "run",
        "--input",
        str(tmp / "live"),
        "--data-dir",
        str(tmp / "data"),
        "--topology",
        str(REPO / "topology/example"),
        "--year",
        "2026",
        "--now",
        now.isoformat(),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--minutes", type=int, default=5)
    args = ap.parse_args()
    env = {**os.environ, "SECOPS_CONFIG": os.devnull}
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        subprocess.run(
            [sys.executable, "-m", "secops.synth", str(tmp / "gen"), "--hours", "1"],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        shapes = _templates(tmp / "gen" / "logs")
        (tmp / "live").mkdir()
        for name in shapes:
            (tmp / "live" / name).touch()
        warm = subprocess.run(_cmd(tmp, START), env=env, capture_output=True, text=True)
        assert warm.returncode == 0, warm.stderr
        n = args.rate * args.minutes * 60
        per_file = n // len(shapes)
        for name, rest in shapes.items():
            with open(tmp / "live" / name, "w") as out:
                for i in range(per_file):
                    t = START + timedelta(seconds=i * args.minutes * 60 / per_file)
                    out.write(f"{t:%b %d %H:%M:%S} {rest[i % len(rest)]}\n")
        now = START + timedelta(minutes=args.minutes, seconds=61)
        t0 = time.perf_counter()
        done = subprocess.run(_cmd(tmp, now), env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr
        line = json.loads(done.stderr.strip().splitlines()[-1])
    print(json.dumps(line, indent=1))
    print(
        f"{n:,} lines over {args.minutes} min at {args.rate:,}/s: one run took {wall:.1f} s wall "
        f"({n / wall:,.0f} lines/s)"
    )


if __name__ == "__main__":
    main()
