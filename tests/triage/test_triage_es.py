"""With Elasticsearch configured, a triage action updates the finding document in place."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from click.testing import CliRunner
from elasticsearch import Elasticsearch

from secops.cli.main import cli
from tests.es.helpers import drop_alias
from tests.helpers import EXAMPLE_TOPOLOGY


def test_triage_updates_the_es_document_never_a_second_one(
    story: Path, tmp_path: Path, es_url: str, es_client: Elasticsearch
) -> None:
    alias = f"secops-test-triage-{uuid.uuid4().hex[:8]}"
    env = {"SECOPS_ES_URL": es_url, "SECOPS_ES_INDEX": alias}
    data, exc = str(tmp_path / "data"), tmp_path / "exceptions"
    exc.mkdir()

    def invoke(*args: str) -> str:
        res = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.stdout

    try:
        invoke(
            "correlate", "-i", str(story), "-t", str(EXAMPLE_TOPOLOGY), "--year", "2026",
            "--exceptions", str(exc), "--data-dir", data, "--json",
        )  # fmt: skip
        fid = json.loads(invoke("findings", "list", "--data-dir", data, "--json"))[0]["id"]
        invoke("findings", "ack", fid, "--note", "on it", "--analyst", "carol", "--data-dir", data)
        es_client.indices.refresh(index=alias)
        hits = es_client.search(index=alias, query={"ids": {"values": [fid]}})["hits"]["hits"]
        assert len(hits) == 1
        fi = hits[0]["_source"]["finding"]
        assert fi["status"] == "acknowledged"
        assert fi["triage"]["history"][0]["note"] == "on it"
        assert fi["topology"]  # the rest of the document is still there
    finally:
        drop_alias(es_client, alias)
