"""A 3-node cluster loses a node in the middle of a large run: the sink goes on against the
other nodes of its list, every finding is indexed exactly once (count and ids); the node comes
back and the cluster is green again. Run once (module-scoped cluster, one test)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch, helpers

from secops.elastic import EsSettings
from secops.pipeline import run
from secops.sink.elasticsearch import ElasticsearchSink
from tests.es.cluster import Cluster
from tests.es.helpers import SAMPLE, YEAR
from tests.helpers import EXAMPLE_TOPOLOGY

#: 5,000 in CI (3 node starts dominate); SECOPS_TEST_CLUSTER_FINDINGS=100000 for the full run
FINDINGS = int(os.environ.get("SECOPS_TEST_CLUSTER_FINDINGS", "5000"))
CHUNK = 250
KILL_AT_CHUNK = 3  # of FINDINGS / CHUNK (20 by default)


class KillingSink(ElasticsearchSink):
    """The sink, which tells when its n-th bulk chunk starts."""

    def __init__(self, *args: Any, at_chunk: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.chunks, self.at_chunk, self.reached = 0, at_chunk, threading.Event()

    def _write_chunk(self, docs: list[dict[str, Any]], result: Any) -> None:
        self.chunks += 1
        if self.chunks == self.at_chunk:
            self.reached.set()
        super()._write_chunk(docs, result)


@pytest.fixture(scope="module")
def cluster(es_url: str) -> Iterator[Cluster]:  # es_url: the distribution is installed
    c = Cluster(3)
    try:
        c.start_all()
        with Elasticsearch(c.urls, request_timeout=30) as client:
            c.wait(client, "green", 3)
        yield c
    finally:
        c.stop()


def many_findings(n: int) -> list[dict[str, Any]]:
    """n findings with distinct ids, made from the bundled sample's."""
    base = run([str(SAMPLE)], topology_path=str(EXAMPLE_TOPOLOGY), year=YEAR).findings
    out = []
    for i in range(n):
        doc = base[i % len(base)]
        out.append({**doc, "finding": {**doc["finding"], "id": f"f{i:07d}"}})
    return out


def test_a_node_killed_mid_run(cluster: Cluster, tmp_path) -> None:
    alias = f"secops-cluster-{uuid.uuid4().hex[:8]}"
    findings = many_findings(FINDINGS)
    settings = EsSettings(
        urls=tuple(cluster.urls), index=alias, retries=5, retry_backoff=0.2, request_timeout=30
    )
    sink = KillingSink(
        settings, dead_letter=tmp_path / "dead.jsonl", chunk_size=CHUNK, at_chunk=KILL_AT_CHUNK
    )
    sink._ensure_index()  # the write index and its replica exist before the run
    admin = Elasticsearch(cluster.urls, request_timeout=30)
    cluster.wait(admin, "green", 3)
    (shards,) = [
        r for r in admin.cat.shards(index=f"{alias}-*", format="json") if r["prirep"] == "p"
    ]
    victim = next(n for n in cluster.nodes if n.name == shards["node"])
    survivor = next(n for n in cluster.nodes if n is not victim)
    watch = Elasticsearch(survivor.url, request_timeout=30)

    def kill_when_reached() -> None:  # races the chunk's requests, like a host that dies
        if sink.reached.wait(600):
            cluster.kill(victim)  # the node holding the primary shard

    killer = threading.Thread(target=kill_when_reached, daemon=True)
    killer.start()
    t0 = time.monotonic()
    try:
        written = sink.write(findings)
    finally:
        sink.reached.set()
    elapsed = time.monotonic() - t0
    killer.join(30)
    assert victim.pid() is None and sink.chunks == FINDINGS // CHUNK > KILL_AT_CHUNK
    assert written == FINDINGS and not (tmp_path / "dead.jsonl").exists()
    watch.indices.refresh(index=f"{alias}-*")
    assert watch.count(index=f"{alias}-*")["count"] == FINDINGS
    ids = {h["_id"] for h in helpers.scan(watch, index=f"{alias}-*", _source=False, size=5000)}
    assert ids == {f["finding"]["id"] for f in findings}
    print(f"{FINDINGS} findings in {elapsed:.1f} s with a node killed: {FINDINGS / elapsed:,.0f}/s")
    cluster.start(victim)
    health = cluster.wait(watch, "green", 3)
    assert health["number_of_nodes"] == 3 and health["unassigned_shards"] == 0
    assert watch.count(index=f"{alias}-*")["count"] == FINDINGS
