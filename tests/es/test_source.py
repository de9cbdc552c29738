"""Elasticsearch as an event source: PIT + search_after pages into the common stream.

The bundled sample parsed by `secops parse`, indexed, and read back through `--es-source` gives
the same findings as the files; Filebeat system.auth and Suricata documents map onto the same
vocabulary; documents of no known shape are counted and dead-lettered like unparsable lines.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch, helpers

from secops.cli.main import cli
from secops.collect.elasticsearch import Search, iter_es_events, user_query
from secops.normalise import ParseReport
from tests.es.helpers import SAMPLE, YEAR, sample_args
from tests.helpers import EXAMPLE_TOPOLOGY


@pytest.fixture
def index(es_client: Elasticsearch) -> Iterator[str]:
    name = f"secops-test-events-{uuid.uuid4().hex[:10]}"
    yield name
    es_client.options(ignore_status=404).indices.delete(index=name)


def load(client: Elasticsearch, index: str, docs: list[dict[str, Any]]) -> None:
    client.indices.create(index=index, mappings={"properties": {"@timestamp": {"type": "date"}}})
    ok, errors = helpers.bulk(client, ({"_index": index, "_source": d} for d in docs))
    assert ok == len(docs) and not errors
    client.indices.refresh(index=index)


def correlate_json(*args: str, es_url: str) -> dict[str, Any]:
    res = CliRunner().invoke(
        cli,
        ["correlate", *args, "--no-store", "--no-es-sink", "--json"],
        env={"SECOPS_ES_URL": es_url},
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def outcome(summary: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (f["id"], f["rule"], f["severity"], f["risk"], f["suppressed"], f["events"])
        for f in summary["findings"]
    )


def test_sample_read_back_from_es_gives_the_same_findings(es_url, es_client, index, tmp_path):
    events = tmp_path / "events.jsonl"
    res = CliRunner().invoke(
        cli, ["parse", "-i", str(SAMPLE), "--year", str(YEAR), "-o", str(events)]
    )
    assert res.exit_code == 0, res.stderr
    docs = [json.loads(line) for line in events.read_text().splitlines()]
    load(es_client, index, docs)
    from_files = correlate_json(*sample_args(), es_url=es_url)
    from_es = correlate_json(
        "--es-source", index, "--since", "3650d", "-t", str(EXAMPLE_TOPOLOGY), es_url=es_url
    )
    assert from_es["events"] == from_files["events"] == len(docs)
    assert from_files["raised"] >= 5 and from_files["cut"] >= 1
    assert outcome(from_es) == outcome(from_files)
    assert from_es["parse"]["coverage"] == {f"es:{index}": {"secops": len(docs), "unparsed": 0}}


def _filebeat_auth(i: int, event: str, user: str, ip: str) -> dict[str, Any]:
    return {
        "@timestamp": f"2026-11-20T10:00:{i:02d}.000Z",
        "event": {"dataset": "system.auth", "module": "system", "category": ["authentication"]},
        "system": {"auth": {"ssh": {"event": event, "method": "password"}}},
        "source": {"ip": ip, "port": 40000 + i},
        "user": {"name": user},
        "host": {"hostname": "web01", "name": "web01.example.com"},
        "process": {"name": "sshd", "pid": 100 + i},
        "message": f"{event} password for {user} from {ip}",
    }


def _suricata_alert() -> dict[str, Any]:
    return {
        "@timestamp": "2026-11-20T10:05:00.000Z",
        "event": {"dataset": "suricata.eve", "kind": "alert", "module": "suricata"},
        "suricata": {
            "eve": {
                "event_type": "alert",
                "app_proto": "http",
                "alert": {"signature": "ET EXPLOIT x", "signature_id": 2024001, "severity": 1},
            }
        },
        "source": {"ip": "203.0.113.66", "port": 5555},
        "destination": {"ip": "10.10.0.10", "port": 80},
        "network": {"transport": "TCP"},
    }


def test_filebeat_and_suricata_shapes_map_to_the_vocabulary(es_url, es_client, index, tmp_path):
    docs = [_filebeat_auth(i, "Failed", "root", "198.51.100.7") for i in range(12)]
    docs += [
        _filebeat_auth(30, "Invalid", "oracle", "198.51.100.8"),
        _suricata_alert(),
        {"@timestamp": "2026-11-20T10:06:00Z", "message": "a line nobody parsed"},
        {"event": {"action": "ssh_login"}, "message": "no timestamp"},
    ]
    load(es_client, index, docs)
    report = ParseReport()
    dead = tmp_path / "dead.jsonl"
    search = Search(index, page_size=5)  # no time filter: the undated document is read too
    client = Elasticsearch(es_url)
    frames = list(iter_es_events(client, search, report=report, dead_letter=dead))
    assert len(frames) == 4  # 16 documents, pages of 5
    events = __import__("pandas").concat(frames, ignore_index=True)
    assert len(events) == 14 and report.parsed == 14 and report.dead_lettered == 2
    assert report.coverage[f"es:{index}"] == {"system.auth": 13, "suricata": 1, "unparsed": 2}
    failed = events[events["event.action"] == "ssh_login"]
    assert len(failed) == 12 and set(failed["event.outcome"]) == {"failure"}
    assert set(failed["host.name"]) == {"web01.example.com"}
    assert events["@timestamp"].is_monotonic_increasing
    invalid = events[events["event.action"] == "ssh_invalid_user"]
    assert invalid["user.name"].tolist() == ["oracle"]
    alert = events[events["event.action"] == "ids_alert"].iloc[0]
    assert alert["rule.name"] == "ET EXPLOIT x" and alert["rule.id"] == "2024001"
    assert alert["network.transport"] == "tcp" and alert["network.protocol"] == "http"
    reasons = sorted(json.loads(line)["reason"] for line in dead.read_text().splitlines())
    assert reasons[0].startswith("missing or invalid @timestamp")
    assert reasons[1].startswith("unrecognised ECS shape")
    assert client.search(index=index, size=0)["hits"]["total"]["value"] == len(docs)
    summary = correlate_json(
        "--es-source",
        index,
        "--since",
        "3650d",
        "--query",
        "event.dataset: system.auth",
        es_url=es_url,
    )
    assert summary["events"] == 13
    assert [f["rule"] for f in summary["findings"]] == ["ssh-brute-force"]


def test_user_query_forms():
    assert user_query('{"term": {"host.name": "web01"}}') == {"term": {"host.name": "web01"}}
    q = user_query("host.name: web01 and not user.name: root")
    assert q["query_string"]["query"] == "host.name: web01 AND NOT user.name: root"


def test_unreachable_source_is_a_clear_error(tmp_path: Path):
    res = CliRunner().invoke(
        cli,
        ["correlate", "--es-source", "logs-*", "--no-es-sink", "--no-store"],
        env={"SECOPS_ES_URL": "http://127.0.0.1:9", "SECOPS_ES_API_KEY": "s3cr3t"},
    )
    assert res.exit_code == 1
    assert "cannot read events from 'logs-*'" in res.stderr and "s3cr3t" not in res.stderr


def test_a_duration_ago_is_date_math_on_the_cluster_clock(es_url, es_client, index):
    """since='2h' / '90m' / '1w' (the one duration grammar) is turned into date math that the
    real cluster evaluates against documents dated 30 minutes, 3 hours and 10 days ago."""
    now = datetime.now(UTC)
    ages = [timedelta(minutes=30), timedelta(hours=3), timedelta(days=10)]
    docs = []
    for i, age in enumerate(ages):
        doc = _filebeat_auth(i, "Failed", "root", "198.51.100.7")
        doc["@timestamp"] = (now - age).isoformat().replace("+00:00", "Z")
        docs.append(doc)
    load(es_client, index, docs)
    client = Elasticsearch(es_url)
    for since, want in (("90m", 1), ("2h", 1), ("1w", 2), ("14d", 3), ("7200", 1)):
        report = ParseReport()
        list(iter_es_events(client, Search(index, since=since), report=report))
        assert report.parsed == sum(age < timedelta(seconds=_seconds(since)) for age in ages)
        assert report.parsed == want, since


def _seconds(text: str) -> int:
    """A hand-written reference for the few durations above."""
    unit = {"m": 60, "h": 3600, "d": 86400, "w": 604800}.get(text[-1], 1)
    return int(text.rstrip("mhdw")) * unit
