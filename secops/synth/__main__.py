"""`python -m secops.synth OUT_DIR [--seed N] [--hours H] [--topology PATH] ...`"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from secops.synth.generator import DEFAULT_START, generate


def _default_topology() -> Path:
    here = Path("topology/example")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "topology" / "example"


def _start(text: str) -> datetime:
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m secops.synth",
        description="Write a deterministic synthetic scenario (logs + expected.yaml).",
    )
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hours", type=float, default=6)
    ap.add_argument(
        "--start", type=_start, default=DEFAULT_START, help="ISO 8601, default 2026-11-20T00:00:00Z"
    )
    ap.add_argument(
        "--noise-per-hour",
        type=int,
        default=None,
        help="noise lines per hour (default 2000; 1500 when OUT_DIR is named 'samples')",
    )
    ap.add_argument(
        "--topology", type=Path, default=None, help="topology directory (default topology/example)"
    )
    ap.add_argument(
        "--iso-timestamps",
        action="store_true",
        help="RFC 3339 syslog timestamps (rsyslog RSYSLOG_FileFormat) instead of RFC 3164",
    )
    args = ap.parse_args(argv)
    noise = args.noise_per_hour
    if noise is None:
        noise = 1500 if args.out_dir.name == "samples" else 2000
    try:
        sc = generate(
            args.out_dir,
            topology_path=args.topology or _default_topology(),
            seed=args.seed,
            start=args.start,
            hours=args.hours,
            noise_per_hour=noise,
            rfc3164=not args.iso_timestamps,
        )
    except Exception as exc:  # noqa: BLE001 - bad topology (ContentErrors), unwritable dir...; report, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {len(sc.files)} files, {sc.lines} lines, {len(sc.expected)} expectations to {args.out_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
