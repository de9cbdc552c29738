"""Shared pieces of the Elasticsearch tests: the bundled sample's findings, a per-test alias,
and a TCP proxy that can be cut to simulate a cluster dying mid-run."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from secops.elastic import EsSettings
from tests.helpers import EXAMPLE_TOPOLOGY, REPO

SAMPLE = REPO / "samples" / "logs"
YEAR = 2026


@dataclass(frozen=True)
class SecureNode:
    """A node started with `scripts/elasticsearch.sh start --secure` and what a client needs."""

    url: str
    ca_certs: str
    api_key: str = field(repr=False)
    elastic_password: str = field(repr=False)
    secops_password: str = field(repr=False)

    @classmethod
    def read(cls, url: str, client_dir: Path) -> SecureNode:
        def secret(name: str) -> str:
            return (client_dir / name).read_text(encoding="utf-8").strip()

        return cls(
            url=url,
            ca_certs=str(client_dir / "ca.crt"),
            api_key=secret("secops.api_key"),
            elastic_password=secret("elastic.password"),
            secops_password=secret("secops.password"),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key, self.elastic_password, self.secops_password)

    def admin(self) -> Elasticsearch:
        """A client as the elastic superuser (to make keys and roles, and to check)."""
        return Elasticsearch(
            self.url,
            basic_auth=("elastic", self.elastic_password),
            ca_certs=self.ca_certs,
            request_timeout=60,
        )

    def env(self, **override: str) -> dict[str, str]:
        """SECOPS_ES_* for the secops API key; `override` replaces or adds variables."""
        base = {
            "SECOPS_ES_URL": self.url,
            "SECOPS_ES_CA_CERTS": self.ca_certs,
            "SECOPS_ES_API_KEY": self.api_key,
        }
        return {**base, **override}


def sample_args() -> list[str]:
    return ["-i", str(SAMPLE), "-t", str(EXAMPLE_TOPOLOGY), "--year", str(YEAR)]


def settings(url: str, alias: str, **kw: Any) -> EsSettings:
    return EsSettings(urls=(url,), index=alias, retries=1, retry_backoff=0.05, **kw)


def drop_alias(client: Elasticsearch, alias: str) -> None:
    quiet = client.options(ignore_status=404)
    names = list(client.indices.get(index=f"{alias}-*", expand_wildcards="all"))
    if names:  # the cluster refuses wildcard deletes (action.destructive_requires_name)
        quiet.indices.delete(index=",".join(names))
    quiet.indices.delete_index_template(name=alias)


def count(client: Elasticsearch, alias: str) -> int:
    client.indices.refresh(index=f"{alias}-*")
    return client.count(index=f"{alias}-*")["count"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to the cluster; dies (listener and every connection) when the
    client starts its `cut_at`-th `_bulk` request, like a node killed mid-run."""

    def __init__(self, upstream: str, cut_at: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.cut_at = cut_at
        self.bulks = 0
        self.dead = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.dead.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.conns += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while data := src.recv(65536):
                if upstream and b"/_bulk" in data.split(b"\r\n", 1)[0]:
                    self.bulks += 1
                    if self.bulks >= self.cut_at:
                        self.kill()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def kill(self) -> None:
        self.dead.set()
        for s in [self.listener, *self.conns]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
