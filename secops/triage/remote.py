"""Triage updates to a remote copy of the finding (Elasticsearch), when one is configured.

Only the protocol lives here: any sink-like object with `update(finding_id, partial_doc)`.
The Elasticsearch sink (`secops.sink.elasticsearch`) is used when an Elasticsearch URL is
configured (`es: {urls: ...}` in secops.yaml, or SECOPS_ES_URL).
"""

from __future__ import annotations

import os
from typing import Any, Protocol


class Updatable(Protocol):
    def update(self, finding_id: str, partial_doc: dict[str, Any]) -> Any: ...


def push_update(sink: Updatable | None, finding_id: str, partial_doc: dict[str, Any]) -> bool:
    """Update the finding document in place (never a second document); False when no sink."""
    if sink is None:
        return False
    sink.update(finding_id, partial_doc)
    return True


def remote_sink(es_config: dict[str, Any] | None) -> Updatable | None:
    """The Elasticsearch sink when a URL is configured (its client is imported only then)."""
    configured = (es_config or {}).get("url") or (es_config or {}).get("urls")
    if not (configured or os.environ.get("SECOPS_ES_URL")):
        return None
    from secops.sink.elasticsearch import from_config

    return from_config(es_config)


def partial_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The part of the finding document a triage action changes."""
    fi = doc["finding"]
    return {"finding": {"status": fi["status"], "triage": fi.get("triage", {})}}
