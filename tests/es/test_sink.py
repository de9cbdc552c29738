"""The findings sink against the real server: idempotent re-runs, growth, per-item failures,
an unreachable or dying cluster, the rollover-safe id lookup, `secops es` and
`findings list --source es`."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from secops.cli.main import cli
from secops.errors import SinkError
from secops.pipeline import run
from secops.sink.elasticsearch import ElasticsearchSink
from tests.es.helpers import (
    SAMPLE,
    YEAR,
    CuttingProxy,
    closed_port,
    count,
    drop_alias,
    sample_args,
    settings,
)
from tests.es.story import write_story
from tests.helpers import EXAMPLE_TOPOLOGY


@pytest.fixture(scope="module")
def sample_findings() -> list[dict[str, Any]]:
    return run([str(SAMPLE)], topology_path=str(EXAMPLE_TOPOLOGY), year=YEAR).findings


@pytest.fixture
def alias(es_client: Elasticsearch) -> Iterator[str]:
    name = f"secops-test-{uuid.uuid4().hex[:10]}"
    yield name
    drop_alias(es_client, name)


def sink(es_url: str, alias: str, tmp_path: Path, **kw: Any) -> ElasticsearchSink:
    return ElasticsearchSink(settings(es_url, alias), dead_letter=tmp_path / "dead.jsonl", **kw)


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_indexing_twice_gives_the_same_count(es_url, es_client, alias, tmp_path, sample_findings):
    assert len(sample_findings) >= 10
    s = sink(es_url, alias, tmp_path)
    assert s.write(sample_findings) == len(sample_findings)
    assert count(es_client, alias) == len(sample_findings)
    assert s.write(sample_findings) == len(sample_findings)
    assert count(es_client, alias) == len(sample_findings)
    some = sample_findings[0]
    got = es_client.get(index=alias, id=some["finding"]["id"])["_source"]
    assert got["finding"]["topology"] == json.loads(json.dumps(some["finding"]["topology"]))
    assert got["event"]["risk_score"] == some["event"]["risk_score"]


def test_a_growing_finding_is_updated_not_duplicated(es_url, es_client, alias, tmp_path):
    first = run([str(write_story(tmp_path / "a"))], topology_path=str(EXAMPLE_TOPOLOGY), year=YEAR)
    grown = run(
        [str(write_story(tmp_path / "b", extra_failures=5))],
        topology_path=str(EXAMPLE_TOPOLOGY),
        year=YEAR,
    )
    s = sink(es_url, alias, tmp_path)
    s.write(first.findings)
    brute = next(
        f
        for f in first.findings
        if f.get("source", {}).get("ip") == "198.51.100.7" and f["rule"]["id"] == "ssh-brute-force"
    )
    fid = brute["finding"]["id"]
    before = es_client.get(index=alias, id=fid)["_source"]
    s.update(fid, {"finding": {"status": "acknowledged"}})
    s.write(grown.findings)
    after = es_client.get(index=alias, id=fid)["_source"]
    assert {f["finding"]["id"] for f in grown.findings} == {
        f["finding"]["id"] for f in first.findings
    }
    assert count(es_client, alias) == len(first.findings)
    assert after["finding"]["evidence"]["count"] == brute["finding"]["evidence"]["count"] + 5
    assert after["finding"]["first_seen"] == before["finding"]["first_seen"]
    assert after["finding"]["status"] == "acknowledged"  # triage survives the re-run


def test_rollover_does_not_duplicate(es_url, es_client, alias, tmp_path, sample_findings):
    s = sink(es_url, alias, tmp_path)
    s.write(sample_findings)
    es_client.indices.rollover(alias=alias)
    s.write(sample_findings)
    assert count(es_client, alias) == len(sample_findings)
    assert len(es_client.indices.get(index=f"{alias}-*")) == 2


def test_the_sink_rolls_over_past_the_configured_count(es_url, es_client, alias, tmp_path):
    first = run([str(write_story(tmp_path / "a"))], topology_path=str(EXAMPLE_TOPOLOGY), year=YEAR)
    n = len(first.findings)
    limited = ElasticsearchSink(
        settings(es_url, alias, rollover_max_docs=n + 1), dead_letter=tmp_path / "dead.jsonl"
    )
    limited.write(first.findings)  # n < n + 1: stays
    assert limited.rolled is not None and limited.rolled["rolled_over"] is False
    more = [
        {**f, "finding": {**f["finding"], "id": "x" + f["finding"]["id"]}} for f in first.findings
    ]
    limited.write(more)  # 2n >= n + 1: the next findings go to -000002
    assert limited.rolled["old_index"] == f"{alias}-000001"
    assert limited.rolled["new_index"] == f"{alias}-000002" and limited.rolled["rolled_over"]
    limited.write(first.findings)  # found by id in -000001, not written again in -000002
    assert count(es_client, alias) == 2 * n
    assert es_client.count(index=f"{alias}-000002")["count"] == 0


def test_es_rollover_command(es_url, es_client, alias, sample_findings, tmp_path):
    env = {"SECOPS_ES_URL": es_url, "SECOPS_ES_INDEX": alias}
    sink(es_url, alias, tmp_path).write(sample_findings)
    n = len(sample_findings)
    below = invoke("es", "rollover", "--max-docs", str(n + 1), env=env)
    assert below.exit_code == 0 and f"stays on {alias}-000001" in below.stderr
    dry = json.loads(
        invoke("es", "rollover", "--max-docs", str(n), "--dry-run", "--json", env=env).stdout
    )
    assert dry["dry_run"] and dry["conditions"] == {f"[max_docs: {n}]": True}
    assert invoke("es", "rollover", "--max-size", "1kb", env=env).exit_code == 0
    status = json.loads(invoke("es", "status", "--json", env=env).stdout)
    assert status["write_index"] == f"{alias}-000002" and status["findings"] == n
    res = CliRunner().invoke(cli, ["es", "rollover"], env=env)
    assert res.exit_code == 78 and "needs a limit" in res.stderr


def test_a_conflicting_document_is_reported_and_the_rest_lands(
    es_url, es_client, alias, tmp_path, sample_findings
):
    bad = copy.deepcopy(sample_findings[0])
    bad["finding"]["id"] = "conflict-0001"
    bad["event"]["risk_score"] = "very high"  # a float field
    docs = [*sample_findings[1:], bad]
    s = sink(es_url, alias, tmp_path)
    with pytest.raises(SinkError) as err:
        s.write(docs)
    message = str(err.value)
    assert "conflict-0001" in message and "risk_score" in message
    assert "1 of" in message and str(tmp_path / "dead.jsonl") in message
    assert count(es_client, alias) == len(docs) - 1
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert [d["id"] for d in dead] == ["conflict-0001"]
    assert dead[0]["type"] == "document_parsing_exception" and dead[0]["document"] == bad
    assert "risk_score" in dead[0]["reason"]


def test_unreachable_cluster_fails_loudly_and_keeps_the_findings(es_url, es_client, alias):
    dead_url = f"http://127.0.0.1:{closed_port()}"
    env = {"SECOPS_ES_INDEX": alias}
    res = CliRunner().invoke(
        cli, ["correlate", *sample_args(), "--es-url", dead_url, "--json"], env=env
    )
    assert res.exit_code == 1
    assert "cannot write findings to Elasticsearch at " + dead_url in res.stderr
    assert "local store" in res.stderr and "Traceback" not in res.stderr
    stored = json.loads(invoke("findings", "list", "--all", "--json").stdout)
    assert len(stored) >= 10
    # the next run, with the cluster back, completes the job
    res = invoke("correlate", *sample_args(), "--es-url", es_url, "--json", env=env)
    assert res.exit_code == 0, res.stderr
    assert count(es_client, alias) == len(stored)


def test_cluster_dying_mid_run(es_url, es_client, alias, tmp_path, sample_findings):
    proxy = CuttingProxy(es_url, cut_at=2)
    s = ElasticsearchSink(
        settings(proxy.url, alias), dead_letter=tmp_path / "d.jsonl", chunk_size=4
    )
    with pytest.raises(SinkError, match="cannot write findings to Elasticsearch"):
        s.write(sample_findings)
    landed = count(es_client, alias)
    assert 0 < landed < len(sample_findings)
    sink(es_url, alias, tmp_path, chunk_size=4).write(sample_findings)
    assert count(es_client, alias) == len(sample_findings)


def test_secrets_never_show(es_url, alias):
    res = CliRunner().invoke(
        cli,
        ["es", "status", "--es-url", f"http://elastic:hunter2@127.0.0.1:{closed_port()}"],
        env={"SECOPS_ES_API_KEY": "c2VjcmV0LWtleQ==", "SECOPS_ES_INDEX": alias},
    )
    assert res.exit_code == 1
    assert "hunter2" not in res.output + res.stderr
    assert "c2VjcmV0LWtleQ" not in res.output + res.stderr
    assert "hunter2" not in repr(settings("http://x", alias, password="hunter2"))
    for command in (["correlate"], ["es", "setup"], ["findings", "list"]):
        help_text = invoke(*command, "--help", env={"SECOPS_ES_URL": "http://u:hunter2@h:1"}).output
        assert "hunter2" not in help_text and "--es-url" in help_text


def test_es_setup_is_idempotent_and_status_reports(es_url, es_client, alias):
    env = {"SECOPS_ES_INDEX": alias}
    first = json.loads(invoke("es", "setup", "--es-url", es_url, "--json", env=env).stdout)
    second = json.loads(invoke("es", "setup", "--es-url", es_url, "--json", env=env).stdout)
    assert first["created_index"] is True and second["created_index"] is False
    assert list(es_client.indices.get(index=f"{alias}-*")) == [f"{alias}-000001"]
    status = json.loads(
        invoke("es", "status", "--json", env={**env, "SECOPS_ES_URL": es_url}).stdout
    )
    assert status["write_index"] == f"{alias}-000001" and status["template_current"]
    assert status["findings"] == 0 and status["health"] in ("green", "yellow")


def test_findings_list_from_es_matches_the_local_store(es_url, alias):
    env = {"SECOPS_ES_INDEX": alias, "SECOPS_ES_URL": es_url}
    assert invoke("correlate", *sample_args(), "--json", env=env).exit_code == 0
    for extra in ([], ["--all"], ["--severity", "critical"], ["--rule", "ssh-brute-force"]):
        local = json.loads(invoke("findings", "list", *extra, "--json", env=env).stdout)
        remote = json.loads(
            invoke("findings", "list", "--source", "es", *extra, "--json", env=env).stdout
        )
        assert [f["id"] for f in remote] == [f["id"] for f in local], extra
        assert local


def test_config_file_es_settings(es_url, es_client, alias, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secops.yaml").write_text(
        f"es:\n  urls: [{es_url}]\n  index: {alias}\n  dead_letter: rejected.jsonl\n  retries: 1\n"
    )
    monkeypatch.delenv("SECOPS_ES_URL", raising=False)
    res = invoke("correlate", *sample_args(), "--json")
    assert res.exit_code == 0, res.stderr
    assert count(es_client, alias) == len(json.loads(res.stdout)["findings"])
    (tmp_path / "secops.yaml").write_text(f"es:\n  urls: [{es_url}]\n  pasword: x\n")
    res = CliRunner().invoke(cli, ["es", "status"])
    assert res.exit_code == 78 and "unknown es setting(s) pasword" in res.stderr
