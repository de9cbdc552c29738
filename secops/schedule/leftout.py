"""What a scheduled run spooled but did not correlate, and why: said every run.

A run correlates the window [start, end]. Of the events it spooled:
- those older than `start` are never correlated (the look-back, bounded by max_look_back,
  does not reach them; later runs start later still);
- those timestamped at or before the last checkpoint are late (they arrived after the run
  that covered their time): they are in the window, but a finding that ends before the
  checkpoint is not written (only findings that changed since it are), so the findings they
  alone make are counted;
- those newer than `end` (now - settle, or a clock ahead) wait for a later run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np


def left_out(
    times: np.ndarray,
    window: tuple[int, int],
    checkpoint_ms: int | None,
    bounded: bool,
    look_back_ms: int,
    dropped: int = 0,
) -> list[dict[str, Any]]:
    """One entry per kind of event left out ({"what", "events", "reason"}), only when some
    were. `bounded`: the window start is the max_look_back bound (not checkpoint - look-back);
    `dropped`: findings with late evidence that were not written (`late_findings`)."""
    start, end = window
    older = int((times < start).sum())
    late = 0 if checkpoint_ms is None else int(((times >= start) & (times <= checkpoint_ms)).sum())
    newer = int((times > end).sum())
    out = []
    if older:
        why = (
            f"the look-back is bounded by max_look_back ({_span(end - start)})"
            if bounded
            else f"the window starts one look-back ({_span(look_back_ms)}) before the checkpoint"
        )
        out.append(
            {
                "what": "events_older_than_look_back",
                "events": older,
                "reason": f"older than the window start {_iso(start)}: {why}; never correlated "
                "by a scheduled run (raise --max-look-back, or replay them with "
                "'secops correlate')",
            }
        )
    if late:
        out.append(
            {
                "what": "late_events",
                "events": late,
                "reason": f"timestamped at or before the last checkpoint {_iso(checkpoint_ms)}: "
                "they arrived after the run that covered their time; correlated in this "
                "window, but a finding that ends before the checkpoint is not written "
                f"({dropped} such findings with late evidence)",
                "findings_not_written": dropped,
            }
        )
    if newer:
        out.append(
            {
                "what": "events_after_window",
                "events": newer,
                "reason": f"newer than the window end {_iso(end)} (now - settle, or a clock "
                "ahead): left for a later run",
            }
        )
    return out


def late_findings(
    detected: list[dict[str, Any]], written: list[dict[str, Any]], late_ids: set[str]
) -> int:
    """Findings not written (they end before the checkpoint) whose evidence holds a late event."""
    if not late_ids:
        return 0
    kept = {f["finding"]["id"] for f in written}
    return sum(
        1
        for f in detected
        if f["finding"]["id"] not in kept
        and not late_ids.isdisjoint(f["finding"]["evidence"].get("event_ids", []))
    )


def counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    """The entries as flat counters for the run's log line (0 where nothing was left out)."""
    out = {k: 0 for k in ("events_older_than_look_back", "late_events", "events_after_window")}
    out |= {e["what"]: e["events"] for e in entries}
    out["late_findings_not_written"] = sum(e.get("findings_not_written", 0) for e in entries)
    return out


def _span(ms: int) -> str:
    hours = ms / 3_600_000
    return f"{hours:g} h" if hours >= 1 else f"{ms / 60_000:g} min"


def _iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    t = datetime.fromtimestamp(ms / 1000, UTC)
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")
