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
    last: int = 0  # sequences: the latest start of the episode's matches (ms)

    @property
    def count(self) -> int:
        return int(len(self.rows)) + (self.prefix.count if self.prefix is not None else 0)

    @property
    def step_counts(self) -> dict[str, int]:
        """Per sequence step, its events in the evidence (the prefix's too)."""
        before = self.prefix.steps if self.prefix is not None else {}
        return {s: int(len(r)) + before.get(s, 0) for s, r in self.steps.items()}

    @property
    def first_rows(self) -> np.ndarray:
        """The rows whose sources and hosts the finding names: the first step's, or all."""
        return next(iter(self.steps.values())) if self.steps else self.rows

    @property
    def last_rows(self) -> np.ndarray:
        """The rows whose targets the finding names: the last step's, or all."""
        return list(self.steps.values())[-1] if self.steps else self.rows


@dataclass(frozen=True)
class Carried:
    """The first rows of an episode still open, summarised instead of held (time steps):
    what its finding id and document need of them (`secops.judge.carry` makes and merges
    them). `ids`: every event id when `count` <= CARRIED_IDS, else the first EVIDENCE_IDS
    and the last CARRIED_IDS - EVIDENCE_IDS; distinct values in evidence order (`first`:
    capped, `sources`, `targets`, `hosts`, `users`: all) or ascending (`smallest`: capped).
    Sequences also keep their events per step (`steps`), the latest start and the end of
    their matches (`last`, `end`), and per step the ids of their events at or after the
    floor a next step reads from (`recent`: those rows are held, not summarised)."""

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
    steps: dict[str, int] = field(default_factory=dict)
    last: int = 0
    end: int = 0
    recent: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class Carry:
    """Per rule: its open episodes carried as summaries; `keys` holds their key columns (one
    row each, the dtypes of the detectors' rows), `summaries` the summary of each."""

    keys: pd.DataFrame
    summaries: list[Carried]
    upto: int | None = None  # sequences: matches ending at or before it are in `summaries`
