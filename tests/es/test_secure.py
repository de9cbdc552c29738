"""secops against a node as a SOC runs it (`scripts/elasticsearch.sh start --secure`): HTTPS
with the distribution's own CA, an API key whose role may only touch `secops-*`, basic auth.
A wrong or expired key, a certificate that does not match and a role without write rights
each end a scheduled run with one line and a non-zero exit, the findings in the local store
and the checkpoint where it was; no secret ever shows."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from elasticsearch import AuthorizationException, Elasticsearch

from secops.cli.main import cli
from tests.es.helpers import SecureNode, count, drop_alias, sample_args
from tests.helpers import EXAMPLE_TOPOLOGY

FAIL = (
    "Nov 20 10:{m:02d}:{s:02d} web01 sshd[{pid}]: Failed password for root from "
    "198.51.100.7 port {port} ssh2\n"
)
NOW = "2026-11-20T10:05:00Z"
WRONG_KEY = base64.b64encode(b"wrongkeyid0123456789:wrongsecret0123456789ab").decode()
READ_ONLY = {
    "secops_reader": {
        "cluster": ["monitor"],
        "indices": [{"names": ["secops-*"], "privileges": ["read", "view_index_metadata"]}],
    }
}
WRITER = {
    "secops_writer": {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [
            {
                "names": ["secops-*"],
                "privileges": ["read", "write", "create_index", "manage", "view_index_metadata"],
            }
        ],
    }
}


@pytest.fixture(scope="module")
def admin(es_secure: SecureNode) -> Iterator[Elasticsearch]:
    client = es_secure.admin()
    yield client
    client.close()


@pytest.fixture
def alias(admin: Elasticsearch) -> Iterator[str]:
    name = f"secops-sec-{uuid.uuid4().hex[:10]}"
    yield name
    drop_alias(admin, name)


def invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env)


def new_key(admin: Elasticsearch, roles: dict[str, Any], **kw: Any) -> str:
    name = f"secops-test-{uuid.uuid4().hex[:8]}"
    return admin.security.create_api_key(name=name, role_descriptors=roles, **kw)["encoded"]


def assert_no_secret(node: SecureNode, *texts: str, extra: tuple[str, ...] = ()) -> None:
    joined = "\n".join(texts)
    for secret in (*node.secrets, *extra):
        assert secret not in joined
        # nor the secret half of an encoded API key (its id, like a user name, may show)
        decoded = base64.b64decode(secret + "===").decode(errors="replace")
        if ":" in decoded:
            assert decoded.split(":", 1)[1] not in joined


def test_setup_status_and_findings_over_https_with_the_api_key(es_secure, admin, alias, tmp_path):
    env = es_secure.env(SECOPS_ES_INDEX=alias, SECOPS_DATA_DIR=str(tmp_path / "data"))
    setup = invoke(["es", "setup", "--json"], env)
    assert setup.exit_code == 0, setup.stderr
    assert json.loads(setup.stdout)["created_index"] is True
    res = invoke(["correlate", *sample_args(), "--json"], env)
    assert res.exit_code == 0, res.stderr
    stored = json.loads(invoke(["findings", "list", "--all", "--json"], env).stdout)
    assert len(stored) >= 10
    assert count(admin, alias) == len(stored)
    status = invoke(["es", "status"], env)
    assert status.exit_code == 0, status.stderr
    assert f"findings: {len(stored)}" in status.stdout and es_secure.url in status.stdout
    as_json = invoke(["es", "status", "--json"], env)
    assert json.loads(as_json.stdout)["template_current"] is True
    # a triage action updates the stored document in place, with the same key
    fid = stored[0]["id"]
    ack = invoke(["findings", "ack", fid, "--note", "on it", "--analyst", "carol"], env)
    assert ack.exit_code == 0 and "updated in Elasticsearch too" in ack.stderr, ack.output
    admin.indices.refresh(index=alias)
    hits = admin.search(index=alias, query={"ids": {"values": [fid]}})["hits"]["hits"]
    assert [h["_source"]["finding"]["status"] for h in hits] == ["acknowledged"]
    # the key may roll the alias over (manage on secops-*)
    rolled = invoke(["es", "rollover", "--max-docs", "1", "--json"], env)
    assert rolled.exit_code == 0, rolled.output
    assert json.loads(rolled.stdout)["new_index"] == f"{alias}-000002"
    texts = (setup.output, res.output, status.output, as_json.output, ack.output, rolled.output)
    assert_no_secret(es_secure, *texts)


def test_scheduled_runs_read_events_with_the_key(es_secure, admin, alias, tmp_path):
    """--es-source over HTTPS: the key reads `secops-*` (events kept there, or the role extended
    to the events' pattern), and the findings go through the same key."""
    events = tmp_path / "events.jsonl"
    parsed = invoke(
        ["parse", "-i", str(write_log(tmp_path)), "--year", "2026", "-o", str(events)], {}
    )
    assert parsed.exit_code == 0, parsed.stderr
    source = f"{alias}-events"
    docs = [json.loads(line) for line in events.read_text().splitlines()]
    admin.indices.create(index=source, mappings={"properties": {"@timestamp": {"type": "date"}}})
    admin.bulk(
        operations=[x for d in docs for x in ({"index": {"_index": source}}, d)], refresh=True
    )
    try:
        env = es_secure.env(SECOPS_ES_INDEX=alias, SECOPS_DATA_DIR=str(tmp_path / "data"))
        args = ["run", "--es-source", source, "-t", str(EXAMPLE_TOPOLOGY), "--now", NOW]
        res = invoke(args, env)
        assert res.exit_code == 0, res.output
        assert json.loads(res.stderr)["events_in_window"] == 14
        hits = admin.search(index=alias, query={"match_all": {}})["hits"]["hits"]
        assert [h["_source"]["finding"]["evidence"]["count"] for h in hits] == [14]
    finally:
        admin.options(ignore_status=404).indices.delete(index=source)


def test_the_client_secrets_are_readable_by_their_owner_only(es_secure):
    folder = Path(es_secure.ca_certs).parent
    for name in ("env", "secops.api_key", "elastic.password", "secops.password", "curl.cfg"):
        assert (folder / name).stat().st_mode & 0o077 == 0, name
    assert folder.stat().st_mode & 0o077 == 0
    assert f"SECOPS_ES_API_KEY={es_secure.api_key}" in (folder / "env").read_text()


def test_basic_auth_as_the_secops_user(es_secure, admin, alias, tmp_path):
    env = {
        "SECOPS_ES_URL": es_secure.url,
        "SECOPS_ES_CA_CERTS": es_secure.ca_certs,
        "SECOPS_ES_USERNAME": "secops",
        "SECOPS_ES_PASSWORD": es_secure.secops_password,
        "SECOPS_ES_INDEX": alias,
        "SECOPS_DATA_DIR": str(tmp_path / "data"),
    }
    res = invoke(["correlate", *sample_args(), "--json"], env)
    assert res.exit_code == 0, res.stderr
    assert count(admin, alias) == len(json.loads(res.stdout)["findings"])
    wrong = invoke(["es", "status"], {**env, "SECOPS_ES_PASSWORD": "not-the-password"})
    assert wrong.exit_code == 1
    assert "HTTP 401" in wrong.stderr and "not-the-password" not in wrong.output


def test_the_key_may_not_leave_secops_indices(es_secure, admin, alias):
    key_client = Elasticsearch(
        es_secure.url, api_key=es_secure.api_key, ca_certs=es_secure.ca_certs
    )
    key_client.index(index=f"{alias}-000001", id="1", document={"a": 1}, refresh=True)
    with pytest.raises(AuthorizationException):
        key_client.index(index=f"other-{alias}", id="1", document={"a": 1})
    with pytest.raises(AuthorizationException):
        key_client.search(index=".security")
    with pytest.raises(AuthorizationException):
        key_client.security.get_user()
    with pytest.raises(AuthorizationException):
        key_client.cluster.put_settings(persistent={"cluster.routing.allocation.enable": "all"})
    assert admin.count(index=f"{alias}-000001")["count"] == 1


def other_ca(tmp_path: Path) -> str:
    """A CA of our own (openssl), which did not sign the node's certificate."""
    ca = tmp_path / "other-ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=not-the-secops-ca", "-keyout", str(tmp_path / "k"), "-out", str(ca)],
        check=True,
        capture_output=True,
    )
    return str(ca)


def checkpoint(data: Path) -> Any:
    files = sorted((data / "state").rglob("*.json"))
    return [json.loads(f.read_text()).get("checkpoint_ms") for f in files]


def write_log(tmp_path: Path) -> Path:
    """14 failed SSH logins from one address: one brute-force finding."""
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(FAIL.format(m=i // 6, s=i % 6 * 10, pid=i, port=40000 + i) for i in range(14))
    )
    return log


def scheduled_run(node: SecureNode, tmp_path: Path, alias: str, env: dict[str, str]) -> Result:
    log = write_log(tmp_path)
    args = ["--debug", "run", "-i", str(log), "-t", str(EXAMPLE_TOPOLOGY), "--year", "2026"]
    args += ["--now", NOW]
    return invoke(args, {"SECOPS_ES_INDEX": alias, **env})


def expired_key(admin: Elasticsearch) -> str:
    key = new_key(admin, WRITER, expiration="1s")
    time.sleep(2)
    return key


CASES = {
    "wrong key": (
        lambda node, admin, tmp: {"SECOPS_ES_API_KEY": WRONG_KEY},
        "HTTP 401",
    ),
    "expired key": (lambda node, admin, tmp: {"SECOPS_ES_API_KEY": expired_key(admin)}, "HTTP 401"),
    "certificate that does not match": (
        lambda node, admin, tmp: {"SECOPS_ES_CA_CERTS": other_ca(tmp)},
        "CERTIFICATE_VERIFY_FAILED",
    ),
    "role without write rights": (
        lambda node, admin, tmp: {"SECOPS_ES_API_KEY": new_key(admin, READ_ONLY)},
        "HTTP 403",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_run_says_why_keeps_findings_and_checkpoint(
    case, es_secure, admin, alias, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    make_env, reason = CASES[case]
    data = tmp_path / "data"
    # the alias exists (set up by the secops key), so a reader gets as far as the write
    assert invoke(["es", "setup"], es_secure.env(SECOPS_ES_INDEX=alias)).exit_code == 0
    override = make_env(es_secure, admin, tmp_path)
    env = es_secure.env(SECOPS_DATA_DIR=str(data), **override)
    res = scheduled_run(es_secure, tmp_path, alias, env)
    assert res.exit_code == 4, res.output
    (line,) = res.stderr.splitlines()  # one line, the run's log line
    error = json.loads(line)["error"]
    assert error.startswith("cannot write findings to Elasticsearch at " + es_secure.url)
    assert reason in error and "local store" in error
    stored = json.loads(invoke(["findings", "list", "--all", "--json"], env).stdout)
    assert [f["rule"] for f in stored] == ["ssh-brute-force"]
    assert checkpoint(data) in ([], [None])
    assert count(admin, alias) == 0
    assert_no_secret(es_secure, res.output, extra=tuple(override.values()))
    # the same run with the right credentials goes through and moves the checkpoint
    ok = scheduled_run(es_secure, tmp_path, alias, es_secure.env(SECOPS_DATA_DIR=str(data)))
    assert ok.exit_code == 0, ok.output
    assert count(admin, alias) == 1 and checkpoint(data) not in ([], [None])
