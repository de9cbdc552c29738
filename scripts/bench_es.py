"""Measure the Elasticsearch paths against a running cluster:

    .venv/bin/python scripts/bench_es.py [URL] [--findings 100000,1000000] [--events 200000]

URL defaults to SECOPS_TEST_ES_URL (`make bench-es` runs it under scripts/with-elasticsearch.sh).

1. the findings sink: for each N, N findings (the bundled sample's, copied under new ids)
   written through ElasticsearchSink (id lookup, streaming_bulk, refresh) -> findings/s, and
   the primary store size per finding after a flush -> bytes/finding;
2. the event source: the sample parsed once, copied to M events, bulk-loaded into an index,
   then read back with PIT + search_after into conformed frames -> events/s.
Indices are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from elasticsearch import Elasticsearch, helpers

from secops.collect.elasticsearch import Search, iter_es_events
from secops.elastic import EsSettings
from secops.normalise import ParseReport
from secops.pipeline import run
from secops.sink.elasticsearch import ElasticsearchSink

REPO = Path(__file__).resolve().parents[1]


def bench_sink(client: Elasticsearch, url: str, n: int) -> tuple[float, float]:
    """(findings/s, primary store bytes per finding) for n findings."""
    base = run(
        [str(REPO / "samples/logs")], topology_path=str(REPO / "topology/example"), year=2026
    ).findings
    docs = [  # shallow copies: 1,000,000 deep copies would not fit in memory
        {**d, "finding": {**d["finding"], "id": f"{d['finding']['id'][:24]}{i:08d}"}}
        for i, d in ((i, base[i % len(base)]) for i in range(n))
    ]
    alias = f"secops-bench-{uuid.uuid4().hex[:8]}"
    sink = ElasticsearchSink(EsSettings(urls=(url,), index=alias), client=client)
    try:
        sink.write(docs[:10])  # template, index, alias
        t = time.perf_counter()
        sink.write(docs)
        rate = n / (time.perf_counter() - t)
        client.indices.flush(index=f"{alias}-*")
        stats = client.indices.stats(index=f"{alias}-*", metric="store,docs")["_all"]["primaries"]
        assert stats["docs"]["count"] == n, (stats["docs"]["count"], n)
        return rate, stats["store"]["size_in_bytes"] / n
    finally:
        for name in client.indices.get(index=f"{alias}-*"):
            client.indices.delete(index=name)
        client.indices.delete_index_template(name=alias)


def bench_source(client: Elasticsearch, m: int) -> float:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "secops"), "parse", "-i", str(REPO / "samples/logs"),
         "--year", "2026"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    events = [json.loads(line) for line in out.splitlines()]
    index = f"secops-bench-events-{uuid.uuid4().hex[:8]}"
    client.indices.create(index=index, mappings={"properties": {"@timestamp": {"type": "date"}}})

    def actions():
        for i in range(m):
            doc = dict(events[i % len(events)])
            doc["event"] = {**doc["event"], "id": f"{doc['event']['id']}-{i}"}
            yield {"_index": index, "_source": doc}

    try:
        helpers.bulk(client.options(request_timeout=120), actions(), chunk_size=5000)
        client.indices.refresh(index=index)
        report = ParseReport()
        t = time.perf_counter()
        read = sum(len(f) for f in iter_es_events(client, Search(index), report=report))
        rate = read / (time.perf_counter() - t)
        assert read == m, (read, m)
        return rate
    finally:
        client.indices.delete(index=index)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url", nargs="?", default=os.environ.get("SECOPS_TEST_ES_URL"))
    ap.add_argument("--findings", default="100000,1000000", help="comma-separated sizes")
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    if not args.url:
        ap.error("give the cluster URL (or run under scripts/with-elasticsearch.sh)")
    client = Elasticsearch(args.url, request_timeout=300)
    for n in (int(x) for x in args.findings.split(",") if x.strip()):
        rate, size = bench_sink(client, args.url, n)
        print(f"sink: {rate:,.0f} findings/s, {size:,.0f} bytes/finding on disk ({n:,})")
    print(f"source: {bench_source(client, args.events):,.0f} events/s ({args.events:,})")


if __name__ == "__main__":
    main()
