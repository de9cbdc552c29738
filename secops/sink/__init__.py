"""Sinks: where finding documents go. One class per kind, registered in SINKS."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from secops.sink.elasticsearch import ElasticsearchSink
from secops.sink.jsonl import JsonlSink
from secops.sink.store import LocalStore, default_data_dir


class Sink(Protocol):
    name: str

    def write(self, findings: Iterable[dict[str, Any]]) -> int: ...


SINKS: dict[str, type] = {
    "store": LocalStore,
    "jsonl": JsonlSink,
    "elasticsearch": ElasticsearchSink,
}

__all__ = ["SINKS", "ElasticsearchSink", "JsonlSink", "LocalStore", "Sink", "default_data_dir"]
