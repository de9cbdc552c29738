from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from secops.spool import Spool
from tests.helpers import spooled

SECOPS = str(Path(sys.executable).parent / "secops")


class Daemon:
    """A real `secops collect --listen` process on ephemeral ports."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        self.tmp = tmp
        self.spool = Spool(tmp / "data" / "spool")
        cmd = [
            SECOPS,
            "collect",
            "--listen",
            "--udp",
            "127.0.0.1:0",
            "--tcp",
            "127.0.0.1:0",
            "--data-dir",
            str(tmp / "data"),
            "--flush-seconds",
            "0.2",
            "--year",
            "2026",
            *extra,
        ]
        env = {**os.environ, "SECOPS_CONFIG": os.devnull, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stderr is not None
        self.before: list[dict] = []  # what was logged before listening (replays)
        while (doc := json.loads(line := self.proc.stderr.readline()))["event"] != "listening":
            assert doc["event"] in ("replayed", "replay-error"), line
            self.before.append(doc)
        self.addr = {k: _split(doc[k]) for k in ("udp", "tcp", "tls") if k in doc}

    def stop(self, code: int = 0) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == code
        assert self.proc.stderr is not None
        lines = [json.loads(x) for x in self.proc.stderr.read().splitlines() if x.startswith("{")]
        return next(x for x in lines if x["event"] == "stopped")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def messages(self) -> list[str]:
        frame = spooled(self.spool.root)
        return list(frame["message"].dropna())


def _split(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def tls_client(addr: tuple[str, int], cert: Path) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    return ctx.wrap_socket(socket.create_connection(addr), server_hostname="localhost")


def ssh_line(i: int, tag: str) -> str:
    return (
        f"<38>Nov 20 10:{i // 60 % 60:02d}:{i % 60:02d} web01 sshd[{1000 + i}]: "
        f"Failed password for invalid user {tag}{i} from 198.51.100.7 port {20000 + i} ssh2"
    )
