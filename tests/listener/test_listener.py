"""The collector daemon on real sockets: UDP, TCP (both framings), TLS, bad peers, SIGTERM."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.listener.daemon import Daemon, ssh_line, tls_client


def _tcp(addr: tuple[str, int]) -> socket.socket:
    return socket.create_connection(addr, timeout=10)


def _ack(sock: socket.socket) -> None:
    """Half-close and wait for the daemon's close: everything sent is then in the spool."""
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(4096):
        pass
    sock.close()


def test_udp_tcp_tls_garbage_and_sigterm(tmp_path: Path, tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    d = Daemon(
        tmp_path,
        "--idle-timeout",
        "1.5",
        "--max-frame",
        "4096",
        "--tls",
        "127.0.0.1:0",
        "--cert",
        str(cert),
        "--key",
        str(key),
    )
    try:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(200):
            udp.sendto(ssh_line(i, "udp").encode(), d.addr["udp"])
            if i % 50 == 0:
                time.sleep(0.01)
        lf = _tcp(d.addr["tcp"])
        lf.sendall("".join(ssh_line(i, "lf") + "\n" for i in range(300)).encode())
        octet = _tcp(d.addr["tcp"])
        octet.sendall(b"".join(_octets(ssh_line(i, "oc")) for i in range(300)))
        secure = tls_client(d.addr["tls"], cert)
        secure.sendall(b"".join(_octets(ssh_line(i, "tls")) for i in range(300)))
        # bad peers: oversized frames (both framings), garbage, a stalled half frame
        bad = _tcp(d.addr["tcp"])
        bad.sendall(b"999999 " + b"x" * 999_999 + b"A" * 20000 + b"\n" + b"\x00\xff garbage\n")
        bad.sendall((ssh_line(1, "afterbad") + "\n").encode())
        stall = _tcp(d.addr["tcp"])
        stall.sendall(b"500 <38>Nov 20 10:00:00 web01 sshd[1]: never finished")
        for s in (lf, octet, secure, bad):
            _ack(s)
        time.sleep(2.0)  # the stalled peer is closed after --idle-timeout
        with pytest.raises(ConnectionResetError):  # reset, not closed: nothing acknowledged
            stall.recv(10)
        stats = d.stop()
    finally:
        if d.proc.poll() is None:
            d.kill()
    messages = d.messages()
    for tag in ("lf", "oc", "tls"):
        got = [m for m in messages if f"user {tag}" in m]
        assert len(got) == 300 == len(set(got)), tag
    assert sum("user afterbad" in m for m in messages) == 1
    udp_got = sum("user udp" in m for m in messages)
    assert udp_got + stats["udp_dropped"] >= 195  # loopback at this rate: no loss expected
    assert stats["oversized"] == 2
    assert stats["timeouts"] == 1
    assert stats["dead_lettered"] >= 1
    assert (d.spool.root / "dead-letter.jsonl").exists()


def test_a_half_closed_peer_is_acknowledged_only_once_spooled(daemon: Daemon) -> None:
    sock = _tcp(daemon.addr["tcp"])
    sock.sendall("".join(ssh_line(i, "ack") + "\n" for i in range(2000)).encode())
    _ack(sock)
    # no SIGTERM, no wait: the close itself says the frames are in the spool
    got = [m for m in daemon.messages() if "user ack" in m]
    assert len(got) == 2000 == len(set(got))


def _octets(text: str) -> bytes:
    data = text.encode()
    return str(len(data)).encode() + b" " + data
