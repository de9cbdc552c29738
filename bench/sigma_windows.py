"""Events/s of the whole SigmaHQ Windows rule set (../shared/data/sigma-rules/sigmahq).

    python -m bench.sigma_windows [--events 100000] [--rules DIR]

The events are the records of SigmaHQ's regression .evtx files (Sysmon, Security, Defender,
TaskScheduler, WMI), read by the collector and normalised once, then repeated with shifted
times to --events rows; every rule the import supports runs on them (`correlate`), in one
process. Prints the load time, the correlation time and events/s; not a test (no timing is
asserted), run it by hand or through `make bench-sigma`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from secops.collect import iter_batches
from secops.correlate import correlate
from secops.normalise import iter_events
from secops.sigma.load import load_sigma

SIGMAHQ = (
    Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "sigma-rules" / "sigmahq"
)


def events(n: int, root: Path) -> pd.DataFrame:
    """The regression records (read from the .evtx files, normalised together as one JSON-lines
    input: ~200 one-record inputs cost a fixed ~0.1 s each), repeated to `n` rows."""
    paths = sorted(str(p) for p in (root / "regression_data").rglob("*.evtx"))
    lines = [line for b in iter_batches(paths) for line in b.lines.to_pylist()]
    with tempfile.TemporaryDirectory() as tmp:
        joined = Path(tmp) / "records.jsonl"
        joined.write_text("\n".join(lines) + "\n", encoding="utf-8")
        base = pd.concat(list(iter_events([str(joined)])), ignore_index=True)
    copies = -(-n // len(base))
    frames = []
    for i in range(copies):
        part = base.copy()
        part["@timestamp"] = part["@timestamp"] + pd.Timedelta(seconds=i)
        part["event.id"] = part["event.id"] + f"-{i}"
        frames.append(part)
    out = pd.concat(frames, ignore_index=True).head(n)
    return out.sort_values("@timestamp", kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sigma_windows")
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--rules", type=Path, default=SIGMAHQ / "rules" / "windows")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    load = load_sigma(sorted(args.rules.rglob("*.yml")))
    t1 = time.perf_counter()
    frame = events(args.events, SIGMAHQ)
    t2 = time.perf_counter()
    found = correlate(frame, load.rules)
    t3 = time.perf_counter()
    unsupported = sum(v.status != "supported" for v in load.verdicts)
    print(f"rules: {len(load.rules)} run, {unsupported} not supported; load {t1 - t0:.1f} s")
    print(f"events: {len(frame)} (normalised in {t2 - t1:.1f} s); candidates: {len(found)}")
    print(f"correlate: {t3 - t2:.1f} s = {len(frame) / (t3 - t2):,.0f} events/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
