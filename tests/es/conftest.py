"""Fixtures for tests that need a real Elasticsearch server.

``es_url`` resolution, in order:

1. ``SECOPS_TEST_ES_URL`` (set by ``scripts/with-elasticsearch.sh``, i.e. ``make test``);
2. if ``CI`` is set: fail -- CI must provide the server, never silently skip;
3. otherwise start one with ``scripts/elasticsearch.sh start`` for this session and
   release it at the end (it is stopped only if this session started it).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

REPO = Path(__file__).resolve().parents[2]
ES_SCRIPT = REPO / "scripts" / "elasticsearch.sh"


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
    lease = str(os.getpid())
    proc = _run_script("start", "--lease", lease, timeout=900)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].startswith("http"):
        pytest.fail(
            f"could not start Elasticsearch with {ES_SCRIPT} start "
            f"(exit {proc.returncode}):\n{proc.stderr}{proc.stdout}",
            pytrace=False,
        )
    try:
        yield lines[-1].rstrip("/")
    finally:
        _run_script("release", lease, timeout=120)


@pytest.fixture(scope="session")
def es_client(es_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(es_url, request_timeout=30)
    try:
        yield client
    finally:
        client.close()
