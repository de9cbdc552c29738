"""Smoke test: the real Elasticsearch the suite runs against is up and usable."""

from __future__ import annotations

import uuid

from elasticsearch import Elasticsearch


def test_cluster_is_healthy(es_client: Elasticsearch) -> None:
    health = es_client.cluster.health(wait_for_status="yellow", timeout="30s")
    assert health["status"] in ("green", "yellow")
    assert health["number_of_nodes"] == 1


def test_server_major_version_is_9(es_client: Elasticsearch) -> None:
    # The integ-test distribution has no `GET /` (info) handler, so ask the nodes API.
    nodes = es_client.nodes.info(node_id="_local")["nodes"]
    versions = {node["version"] for node in nodes.values()}
    assert versions, "no node answered"
    assert all(v.split(".")[0] == "9" for v in versions), versions


def test_index_by_id_is_idempotent(es_client: Elasticsearch) -> None:
    index = f"secops-smoke-{uuid.uuid4().hex[:12]}"
    doc = {"event": {"id": "evt-1", "kind": "event"}, "host": {"name": "web-1"}}
    try:
        first = es_client.index(index=index, id="evt-1", document=doc, refresh="wait_for")
        assert first["result"] == "created"

        got = es_client.get(index=index, id="evt-1")
        assert got["found"] is True
        assert got["_source"] == doc

        second = es_client.index(index=index, id="evt-1", document=doc, refresh="wait_for")
        assert second["result"] == "updated"
        assert second["_version"] == 2
        assert es_client.count(index=index)["count"] == 1
    finally:
        es_client.options(ignore_status=404).indices.delete(index=index)
