"""What a detector hands on: a candidate finding, before topology judgement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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

    @property
    def count(self) -> int:
        return int(len(self.rows))
