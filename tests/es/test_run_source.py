"""`secops run --es-source`: scheduled runs correlate events already in Elasticsearch."""

from __future__ import annotations

import json

from click.testing import CliRunner

from secops.cli.main import cli
from tests.es.test_source import index, load  # noqa: F401  (fixture and helper)
from tests.helpers import EXAMPLE_TOPOLOGY

FAIL = "Nov 20 10:{m:02d}:{s:02d} web01 sshd[{pid}]: Failed password for root from 198.51.100.7 port {port} ssh2\n"


def test_scheduled_runs_read_their_window_from_es(es_url, es_client, index, tmp_path):  # noqa: F811
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(FAIL.format(m=i // 6, s=i % 6 * 10, pid=i, port=40000 + i) for i in range(14))
    )
    events = tmp_path / "events.jsonl"
    res = CliRunner().invoke(cli, ["parse", "-i", str(log), "--year", "2026", "-o", str(events)])
    assert res.exit_code == 0, res.stderr
    load(es_client, index, [json.loads(line) for line in events.read_text().splitlines()])
    env = {"SECOPS_ES_URL": es_url, "SECOPS_DATA_DIR": str(tmp_path / "data")}
    common = ["run", "--es-source", index, "-t", str(EXAMPLE_TOPOLOGY), "--settle", "1m"]
    first = CliRunner().invoke(cli, [*common, "--now", "2026-11-20T10:01:30Z"], env=env)
    assert first.exit_code == 0, first.stderr
    second = CliRunner().invoke(cli, [*common, "--now", "2026-11-20T10:05:00Z"], env=env)
    assert second.exit_code == 0, second.stderr
    listed = CliRunner().invoke(cli, ["findings", "list", "--json"], env=env)
    findings = json.loads(listed.stdout)
    assert [(f["rule"], f["source.ip"], f["events"]) for f in findings] == [
        ("ssh-brute-force", "198.51.100.7", 14)
    ]
