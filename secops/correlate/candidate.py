"""What a detector hands on: a candidate finding, before topology judgement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from secops.correlate.rule import Rule


@dataclass(frozen=True)
class Candidate:
    """One episode of one rule for one key.

    `rows` are positions in the events frame the detector ran on (the evidence, time-ordered);
    `steps` maps a sequence step id to its rows; `anchor` (ms) is the window anchor that,
    with the rule id and the key, makes the finding id.
    """

    rule: Rule
    key: tuple[tuple[str, Any], ...]
    start: int
    end: int
    rows: np.ndarray
    anchor: int
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    prefix: Carried | None = None  # the episode's first rows, summarised (not in `rows`)
    fired: bool = True  # False: an open episode handed on unfired (`detect_open`)

    @property
    def count(self) -> int:
        return int(len(self.rows)) + (self.prefix.count if self.prefix is not None else 0)


@dataclass(frozen=True)
class Carried:
    """The first rows of an episode still open, summarised instead of held (time steps):
    what its finding id and document need of them (`secops.judge.carry` makes and merges
    them). `ids`: every event id when `count` <= CARRIED_IDS, else the first EVIDENCE_IDS
    and the last CARRIED_IDS - EVIDENCE_IDS; distinct values in evidence order (`first`:
    capped, `sources`, `targets`, `hosts`, `users`: all) or ascending (`smallest`: capped)."""

    start: int  # first event (ms): the window anchor
    count: int
    fired: bool  # the rule's condition was met in the episode up to the step that cut it
    ids: tuple[Any, ...]
    first: dict[str, tuple[Any, ...]]
    smallest: dict[str, tuple[Any, ...]]
    users: tuple[str, ...]
    sources: tuple[dict[str, Any], ...]
    targets: tuple[dict[str, Any], ...]
    hosts: tuple[Any, ...]


@dataclass
class Carry:
    """Per rule: its open episodes carried as summaries; `keys` holds their key columns (one
    row each, the dtypes of the detectors' rows), `summaries` the summary of each."""

    keys: pd.DataFrame
    summaries: list[Carried]
