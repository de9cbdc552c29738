"""The Elasticsearch sink: finding documents through the write alias, `_id` = `finding.id`.

- Re-runs overwrite (same ids); a finding that grows is re-indexed into the index that already
  holds it (looked up by id across `<alias>-*`, so a rollover never duplicates it), keeping its
  `finding.first_seen` and triage `finding.status`.
- Connection errors, timeouts, 429 and 502-504 are retried with back-off (client and bulk
  helper); if the cluster stays unreachable, `SinkError` with a clear message.
- Per-item failures (e.g. a mapping conflict) are reported with the document id and reason and
  appended to a dead-letter file; the rest of the batch lands. The write then raises
  `SinkError` naming them, so the run exits non-zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secops.elastic import EsSettings, client_errors, connect, describe
from secops.errors import SinkError
from secops.sink.es_index import rollover, setup

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

CHUNK = 500
RETRY_ITEM_STATUS = (429, 502, 503, 504)


@dataclass
class ItemFailure:
    id: str
    status: int
    type: str
    reason: str

    def __str__(self) -> str:
        return f"{self.id}: {self.type}: {self.reason}"


@dataclass
class BulkResult:
    indexed: int = 0
    failures: list[ItemFailure] = field(default_factory=list)


class ElasticsearchSink:
    name = "elasticsearch"

    def __init__(
        self,
        settings: EsSettings,
        *,
        client: Elasticsearch | None = None,
        dead_letter: str | Path | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        self.settings = settings
        self.alias = settings.index
        self.dead_letter = Path(dead_letter or settings.dead_letter or "es-dead-letter.jsonl")
        self.chunk_size = chunk_size
        self._client = client
        self.last = BulkResult()
        self.rolled: dict[str, Any] | None = None

    @property
    def client(self) -> Elasticsearch:
        if self._client is None:
            self._client = connect(self.settings, SinkError)
        return self._client

    def write(self, findings: Iterable[dict[str, Any]]) -> int:
        docs = list(findings)
        self._ensure_index()
        self.last = result = BulkResult()
        for start in range(0, len(docs), self.chunk_size):
            self._write_chunk(docs[start : start + self.chunk_size], result)
        self._refresh()  # the next run's id lookup (a search) must see these
        self._roll_over()
        if result.failures:
            self._dead_letter(result.failures, docs)
            shown = "; ".join(str(f) for f in result.failures[:5])
            more = f" (+{len(result.failures) - 5} more)" if len(result.failures) > 5 else ""
            raise SinkError(
                f"Elasticsearch rejected {len(result.failures)} of {len(docs)} findings "
                f"({result.indexed} indexed): {shown}{more}; kept in {self.dead_letter}"
            )
        return result.indexed

    def _ensure_index(self) -> None:
        try:
            exists = self.client.indices.exists_alias(name=self.alias)
        except client_errors() as exc:
            raise self._unreachable(exc) from None
        if not exists:
            setup(self.client, self.alias)

    def _roll_over(self) -> None:
        """Past the configured size or count, new findings go to a new index (old ones are
        still found by id across `<alias>-*`)."""
        s = self.settings
        if s.rollover_max_docs or s.rollover_max_size:
            self.rolled = rollover(
                self.client,
                self.alias,
                max_docs=s.rollover_max_docs,
                max_size=s.rollover_max_size,
            )

    def _refresh(self) -> None:
        try:
            self.client.indices.refresh(index=f"{self.alias}-*", ignore_unavailable=True)
        except client_errors() as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: BaseException) -> SinkError:
        return SinkError(
            f"cannot write findings to Elasticsearch at {self.settings.where}: {describe(exc)} "
            "(the findings are in the local store; re-run when the cluster is back, "
            "ids are stable so nothing is duplicated)"
        )

    def _write_chunk(self, docs: list[dict[str, Any]], result: BulkResult) -> None:
        from elasticsearch import helpers

        now = _now()
        try:
            existing = self._existing([d["finding"]["id"] for d in docs])
            actions = list(self._actions(docs, existing, now))
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=self.chunk_size,
                max_retries=self.settings.retries,
                initial_backoff=max(self.settings.retry_backoff, 0.05),
                max_backoff=max(self.settings.retry_backoff * 16, 1),
                retry_on_status=RETRY_ITEM_STATUS,
                raise_on_error=False,
            ):
                info = item.get("index", {})
                if ok:
                    result.indexed += 1
                else:
                    result.failures.append(_failure(info))
        except client_errors() as exc:
            raise self._unreachable(exc) from None

    def _existing(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """id -> {_index, first_seen, status} of findings already in any `<alias>-*` index."""
        resp = self.client.search(
            index=f"{self.alias}-*",
            query={"ids": {"values": ids}},
            source_includes=["finding.first_seen", "finding.status", "finding.triage"],
            size=len(ids),
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        out = {}
        for hit in resp["hits"]["hits"]:
            fi = hit.get("_source", {}).get("finding", {})
            out[hit["_id"]] = {
                "_index": hit["_index"],
                "first_seen": fi.get("first_seen"),
                "status": fi.get("status"),
                "triage": fi.get("triage"),
            }
        return out

    def _actions(
        self, docs: list[dict[str, Any]], existing: dict[str, dict[str, Any]], now: str
    ) -> Iterator[dict[str, Any]]:
        for doc in docs:
            fid = doc["finding"]["id"]
            prior = existing.get(fid, {})
            # shallow copies of the two parts we change: the caller's documents stay as they are
            body = {**doc, "finding": {**doc["finding"]}, "event": {**doc["event"]}}
            body["finding"]["first_seen"] = prior.get("first_seen") or now
            for kept in ("status", "triage"):  # triage state outlives re-runs
                if prior.get(kept):
                    body["finding"][kept] = prior[kept]
            body["event"]["ingested"] = now
            yield {
                "_op_type": "index",
                "_index": prior.get("_index", self.alias),
                "_id": fid,
                "_source": body,
            }

    def update(self, finding_id: str, partial: dict[str, Any]) -> bool:
        """Merge `partial` into the stored finding in place (e.g. triage status); False if absent."""
        try:
            where = self._existing([finding_id]).get(finding_id)
            if where is None:
                return False
            self.client.update(
                index=where["_index"], id=finding_id, doc=partial, refresh="wait_for"
            )
        except client_errors() as exc:
            raise self._unreachable(exc) from None
        return True

    def _dead_letter(self, failures: list[ItemFailure], docs: list[dict[str, Any]]) -> None:
        by_id = {d["finding"]["id"]: d for d in docs}
        try:
            self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
            with open(self.dead_letter, "a", encoding="utf-8") as out:
                for f in failures:
                    record = {
                        "id": f.id,
                        "status": f.status,
                        "type": f.type,
                        "reason": f.reason,
                        "time": _now(),
                        "document": by_id.get(f.id),
                    }
                    out.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        except OSError as exc:
            raise SinkError(
                f"cannot write the dead-letter file: {exc}", str(self.dead_letter)
            ) from None


def from_config(es_config: dict[str, Any] | None) -> ElasticsearchSink:
    """The sink for an `es:` mapping of secops.yaml (environment SECOPS_ES_* applies)."""
    return ElasticsearchSink(EsSettings.resolve(es_config or {}))


def _failure(info: dict[str, Any]) -> ItemFailure:
    error = info.get("error") or {}
    if isinstance(error, dict):
        kind, reason = error.get("type", "error"), error.get("reason", "")
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason = f"{reason} ({cause['reason']})"
    else:
        kind, reason = "error", str(error)
    return ItemFailure(str(info.get("_id")), int(info.get("status", 0)), kind, reason)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def query_findings(
    client: Elasticsearch,
    alias: str = "secops-findings",
    *,
    include_suppressed: bool = False,
    rule: str | None = None,
    severity: list[str] | None = None,
    since: str | None = None,
    limit: int | None = 200,
) -> list[dict[str, Any]]:
    """Findings from the cluster, in the local store's order (raised first, highest risk)."""
    filters: list[dict[str, Any]] = []
    if not include_suppressed:
        filters.append({"term": {"finding.suppressed": False}})
    if rule:
        filters.append({"term": {"rule.id": rule}})
    if severity:
        filters.append({"terms": {"finding.severity": list(severity)}})
    if since:
        filters.append({"range": {"event.end": {"gte": since}}})
    try:
        resp = client.search(
            index=alias,
            query={"bool": {"filter": filters}},
            sort=[
                {"finding.suppressed": "asc"},
                {"event.risk_score": "desc"},
                {"event.start": "asc"},
                {"finding.id": "asc"},
            ],
            size=limit or 10_000,
        )
    except client_errors() as exc:
        hint = (
            " (run 'secops es setup', then correlate with --es-url)"
            if "404" in describe(exc)
            else ""
        )
        raise SinkError(f"cannot read findings from Elasticsearch: {describe(exc)}{hint}") from None
    return [hit["_source"] for hit in resp["hits"]["hits"]]
