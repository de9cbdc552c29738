"""Triage updates to a remote copy of the finding (Elasticsearch), when one is configured.

Only the protocol lives here: any sink-like object with `update(finding_id, partial_doc)`.
The Elasticsearch sink is another module's (`secops.sink.elasticsearch`); it is used only when
that module exists and an Elasticsearch URL is configured (`es: {urls: ...}` in secops.yaml, or
SECOPS_ES_URL).
"""

from __future__ import annotations

import importlib
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
    """The Elasticsearch sink when `secops.sink.elasticsearch` exists and a URL is configured."""
    configured = (es_config or {}).get("url") or (es_config or {}).get("urls")
    if not (configured or os.environ.get("SECOPS_ES_URL")):
        return None
    try:
        module = importlib.import_module("secops.sink.elasticsearch")
    except ModuleNotFoundError:
        return None
    for name in ("from_config", "ElasticsearchSink", "EsSink"):
        factory = getattr(module, name, None)
        if factory is not None:
            sink = factory(es_config)
            return sink if hasattr(sink, "update") else None
    return None


def partial_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The part of the finding document a triage action changes."""
    fi = doc["finding"]
    return {"finding": {"status": fi["status"], "triage": fi.get("triage", {})}}
