"""A 3-node Elasticsearch cluster on 127.0.0.1 for the failover test: three processes of the
distribution scripts/elasticsearch.sh installed, different ports, one data path each. A node
can be killed with SIGKILL and started again on its own data and ports."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import Elasticsearch

from tests.es.helpers import closed_port as free_port
from tests.helpers import REPO

JAVA = os.environ.get("ES_JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
ES_USER = os.environ.get("SECOPS_ES_USER", "secops-es")
HEAP = os.environ.get("SECOPS_ES_CLUSTER_HEAP", "256m")


def es_base() -> Path:
    """Where elasticsearch.sh keeps the distribution (build/elasticsearch or its /var/tmp twin)."""
    state = REPO / "build" / "elasticsearch"
    base_file = state / "base"
    return Path(base_file.read_text().strip()) if base_file.exists() else state


@dataclass
class Node:
    name: str
    http: int
    transport: int
    home: Path  # this node's data, logs, tmp and pid file

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def pid(self) -> int | None:
        try:
            pid = int((self.home / "es.pid").read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid


class Cluster:
    def __init__(self, size: int = 3) -> None:
        base = es_base()
        self.es_home = next(base.glob("elasticsearch-*/bin/elasticsearch")).parents[1]
        self.root = base / f"cluster-{uuid.uuid4().hex[:8]}"
        self.name = f"secops-{self.root.name}"
        self.nodes = [
            Node(f"n{i}", free_port(), free_port(), self.root / f"n{i}") for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def start(self, node: Node) -> None:
        for sub in ("data", "logs", "tmp"):
            (node.home / sub).mkdir(parents=True, exist_ok=True)
        as_root = os.geteuid() == 0
        if as_root:
            ids = pwd.getpwnam(ES_USER)
            for path in (self.root, node.home, *node.home.iterdir()):
                os.chown(path, ids.pw_uid, ids.pw_gid)
        seeds = ",".join(f"127.0.0.1:{n.transport}" for n in self.nodes)
        masters = ",".join(n.name for n in self.nodes)
        settings = [
            f"-Ecluster.name={self.name}",
            f"-Enode.name={node.name}",
            "-Enetwork.host=127.0.0.1",
            f"-Ehttp.port={node.http}",
            f"-Etransport.port={node.transport}",
            f"-Ediscovery.seed_hosts={seeds}",
            f"-Ecluster.initial_master_nodes={masters}",
            f"-Epath.data={node.home / 'data'}",
            f"-Epath.logs={node.home / 'logs'}",
            "-Expack.security.enabled=false",
            "-Expack.ml.enabled=false",
            "-Ecluster.routing.allocation.disk.threshold_enabled=false",
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": JAVA,
            "ES_JAVA_OPTS": f"-Xms{HEAP} -Xmx{HEAP} -XX:-AlwaysPreTouch",
            "ES_TMPDIR": str(node.home / "tmp"),
            "ES_PATH_CONF": str(self.es_home / "config"),
        }
        prefix = ["runuser", "-u", ES_USER, "--"] if as_root else []
        command = [*prefix, "env", *(f"{k}={v}" for k, v in env.items())]
        command += [
            str(self.es_home / "bin" / "elasticsearch"),
            "-d",
            "-p",
            str(node.home / "es.pid"),
        ]
        with open(node.home / "launcher.out", "ab") as out:
            subprocess.run(
                [*command, *settings],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=300,
                cwd=node.home,
            )

    def start_all(self) -> None:
        """All at once: the launcher returns when its node has started, which takes a while."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(self.start, self.nodes))

    def kill(self, node: Node) -> None:
        """SIGKILL, like a crashed host; waits until the process is gone."""
        pid = node.pid()
        assert pid is not None, f"{node.name} is not running"
        os.kill(pid, signal.SIGKILL)
        while node.pid() is not None:
            time.sleep(0.05)

    def wait(self, client: Elasticsearch, status: str, nodes: int, timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                health = client.cluster.health(
                    wait_for_status=status, wait_for_nodes=str(nodes), timeout="10s"
                )
                if not health["timed_out"]:
                    return dict(health)
            except Exception:  # noqa: BLE001 - not up yet: ask again until the deadline
                health = None
            if time.monotonic() > deadline:
                raise AssertionError(f"cluster not {status} with {nodes} nodes: {health}")
            time.sleep(1)

    def stop(self) -> None:
        for node in self.nodes:
            pid = node.pid()
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        for node in self.nodes:
            while node.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            pid = node.pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
