"""Correlate: events frame + rules -> candidate findings. Rules never see raw text."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from secops.correlate import sequence as _sequence  # noqa: F401  (registers the sequence kind)
from secops.correlate.candidate import Candidate, Carry
from secops.correlate.kinds import CARRIED, KINDS
from secops.correlate.load import default_rules_dir, load_rules
from secops.correlate.rule import Rule
from secops.correlate.windows import from_time, to_millis

__all__ = ["Candidate", "Rule", "correlate", "default_rules_dir", "load_rules", "run_rule"]


def run_rule(
    rule: Rule, frame: pd.DataFrame, times: np.ndarray | None = None, carry: Carry | None = None
) -> list[Candidate]:
    if times is None:
        times = to_millis(frame["@timestamp"])
    if carry is not None:  # only the kinds in CARRIED are handed one
        return CARRIED[rule.type](rule, frame, times, carry)
    return KINDS[rule.type](rule, frame, times)


def correlate(
    frame: pd.DataFrame,
    rules: list[Rule],
    since: Mapping[str, int] | None = None,
    carried: Mapping[str, Carry] | None = None,
) -> list[Candidate]:
    """Run every rule over the frame (positional index expected) and return all candidates.

    `since` (rule id -> ms): a rule sees only the events from that time on (the others count
    as events without a time, which every detector drops); `carried` (rule id -> its open
    episodes whose first rows were summarised, `secops.steps`): those episodes continue."""
    frame = frame.reset_index(drop=True)
    times = to_millis(frame["@timestamp"]) if len(frame) else np.zeros(0, dtype=np.int64)
    out: list[Candidate] = []
    for rule in rules:
        start = (since or {}).get(rule.id)
        own = from_time(times, start)
        out.extend(run_rule(rule, frame, own, (carried or {}).get(rule.id)))
    return out
