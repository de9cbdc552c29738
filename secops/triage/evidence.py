"""The evidence events of a stored finding, re-read from the logs by their stable `event.id`.

The store keeps the finding document (evidence ids, not the events); the events themselves live
in the logs (or the spool, or Elasticsearch). `event.id` is a hash of the raw record, so
re-parsing the same inputs finds the same events.

A finding keeps the first and last few ids of a long episode (`evidence.omitted` counts the
rest); the rest is re-read by the finding's key and time range (`finding.key`, `event.start`
.. `event.end`) among the events its rule's conditions pick, when the rule is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from secops.correlate.rule import Rule, conditions_of
from secops.normalise import ParseReport, iter_events

COLUMNS = (
    "@timestamp",
    "host.name",
    "event.action",
    "event.outcome",
    "source.ip",
    "destination.ip",
    "destination.port",
    "user.name",
    "rule.name",
    "message",
    "event.id",
)


def evidence_events(
    doc: dict[str, Any],
    inputs: list[str],
    *,
    year: int | None = None,
    tz: str = "UTC",
    rule: Rule | None = None,
) -> list[dict[str, Any]]:
    """The finding's evidence events found in `inputs`, time-ordered, a few columns each;
    with `rule` (the finding's), also the omitted ones (key + time range + its conditions)."""
    evidence = doc["finding"]["evidence"]
    wanted = set(evidence["event_ids"])
    rest = _by_key(doc, rule) if evidence.get("omitted") else None
    found = []
    for batch in iter_events(inputs, year=year, tz=tz, report=ParseReport(), keep_original=False):
        pick = np.array(batch["event.id"].isin(wanted).to_numpy(dtype=bool))
        if rest is not None and len(batch):
            pick |= rest(batch)
        hits = batch[pick]
        if len(hits):
            found.append(hits[[c for c in COLUMNS if c in hits.columns]])
    if not found:
        return []
    frame = pd.concat(found, ignore_index=True).drop_duplicates("event.id")
    frame = frame.sort_values("@timestamp", kind="stable")
    return [
        {str(k): (None if pd.isna(v) else str(v)) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _by_key(doc: dict[str, Any], rule: Rule | None) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """Rows of the finding's key within its time range that one of `rule`'s conditions picks
    (None without the rule: the key alone would also take events the rule never read)."""
    key = doc["finding"].get("key") or {}
    if rule is None or not key:
        return None
    conditions = conditions_of(rule)
    start, end = pd.Timestamp(doc["event"]["start"]), pd.Timestamp(doc["event"]["end"])

    def rows(batch: pd.DataFrame) -> np.ndarray:
        ts = batch["@timestamp"]
        mask = np.array(((ts >= start) & (ts <= end)).fillna(False).to_numpy(dtype=bool))
        for name, value in key.items():
            if name not in batch.columns:
                return np.zeros(len(batch), dtype=bool)
            mask &= (batch[name].astype("string") == str(value)).fillna(False).to_numpy(bool)
        if conditions and mask.any():
            picked = np.zeros(len(batch), dtype=bool)
            for condition in conditions:
                try:
                    picked |= np.asarray(condition(batch), dtype=bool)
                except KeyError:  # a topology column the parsed events do not carry
                    picked |= True
            mask &= picked
        return mask

    return rows
