"""The evidence events of a stored finding, re-read from the logs by their stable `event.id`.

The store keeps the finding document (evidence ids, not the events); the events themselves live
in the logs (or the spool, or Elasticsearch). `event.id` is a hash of the raw record, so
re-parsing the same inputs finds the same events.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

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
    doc: dict[str, Any], inputs: list[str], *, year: int | None = None, tz: str = "UTC"
) -> list[dict[str, Any]]:
    """The finding's evidence events found in `inputs`, time-ordered, a few columns each."""
    wanted = set(doc["finding"]["evidence"]["event_ids"])
    found = []
    for batch in iter_events(inputs, year=year, tz=tz, report=ParseReport(), keep_original=False):
        hits = batch[batch["event.id"].isin(wanted)]
        if len(hits):
            found.append(hits[[c for c in COLUMNS if c in hits.columns]])
    if not found:
        return []
    frame = pd.concat(found, ignore_index=True).drop_duplicates("event.id")
    frame = frame.sort_values("@timestamp", kind="stable")
    return [
        {k: (None if pd.isna(v) else str(v)) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
