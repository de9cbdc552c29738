"""Fixtures for tests that need a real Elasticsearch server.

``es_url`` resolution, in order:

1. ``SECOPS_TEST_ES_URL`` (set by ``scripts/with-elasticsearch.sh``, i.e. ``make test``);
2. if ``CI`` is set: fail -- CI must provide the server, never silently skip;
3. otherwise start one with ``scripts/elasticsearch.sh start`` for this session and
   release it at the end (it is stopped only if this session started it).

``es_secure`` is one secured node (TLS, the elastic password, the least-privilege role, user
and API key of ``scripts/elasticsearch.sh start --secure``) shared by every security test of
the session; the fixture starts it itself (also under CI: never skipped) and releases it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from tests.es.helpers import SecureNode

REPO = Path(__file__).resolve().parents[2]
ES_SCRIPT = REPO / "scripts" / "elasticsearch.sh"
SECURE_CLIENT = REPO / "build" / "elasticsearch-secure" / "client"


def _run_script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ES_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    url = os.environ.get("SECOPS_TEST_ES_URL", "").strip()
    if url:
        yield url.rstrip("/")
        return
    if os.environ.get("CI"):
        pytest.fail(
            "SECOPS_TEST_ES_URL is not set but CI is: run the suite through "
            "`bash scripts/with-elasticsearch.sh .venv/bin/pytest` (what `make test` does) "
            "so a real Elasticsearch is started; tests needing it are never skipped.",
            pytrace=False,
        )
    with _leased_node() as url:
        yield url


@contextmanager
def _leased_node(*flags: str) -> Iterator[str]:
    """Start (or reuse) a node with scripts/elasticsearch.sh under this process's lease."""
    lease = str(os.getpid())
    proc = _run_script(*flags, "start", "--lease", lease, timeout=900)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].startswith("http"):
        pytest.fail(
            f"could not start Elasticsearch with {ES_SCRIPT} {' '.join(flags)} start "
            f"(exit {proc.returncode}):\n{proc.stderr}{proc.stdout}",
            pytrace=False,
        )
    try:
        yield lines[-1].rstrip("/")
    finally:
        _run_script(*flags, "release", lease, timeout=120)


@pytest.fixture(scope="session")
def es_secure() -> Iterator[SecureNode]:
    with _leased_node("--secure") as url:
        yield SecureNode.read(url, SECURE_CLIENT)


@pytest.fixture(scope="session")
def es_client(es_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        yield client
    finally:
        client.close()
