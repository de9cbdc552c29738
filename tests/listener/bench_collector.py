"""Collector throughput on loopback (a benchmark, not a test):

    .venv/bin/python tests/listener/bench_collector.py [--messages 200000] [--udp-rate 20000]

TCP: one client sends N RFC 3164 lines at full speed, half-closes and waits for the daemon's
close (everything is spooled then): messages/s end to end. UDP: N/4 datagrams paced at a
stated rate: how many reached the spool, how many the daemon counted as dropped.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from tests.helpers import spooled  # noqa: E402
from tests.listener.daemon import Daemon, ssh_line  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--udp-rate", type=int, default=20_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(Path(tmp), "--flush-lines", "20000")
        payload = "".join(ssh_line(i, "b") + "\n" for i in range(args.messages)).encode()
        t0 = time.perf_counter()
        with socket.create_connection(d.addr["tcp"]) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(4096):
                pass
        tcp_s = time.perf_counter() - t0
        n_udp = args.messages // 4
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t0 = time.perf_counter()
        for i in range(n_udp):
            udp.sendto(ssh_line(i, "u").encode(), d.addr["udp"])
            if i % 100 == 99:
                ahead = t0 + (i + 1) / args.udp_rate - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
        udp_s = time.perf_counter() - t0
        time.sleep(2)
        stats = d.stop()
        got = spooled(d.spool.root)
        udp_got = int(got["message"].str.contains("user u", regex=False).sum())
    print(
        f"TCP: {args.messages:,} messages in {tcp_s:.2f} s = {args.messages / tcp_s:,.0f} msg/s "
        f"(sent, read, normalised and spooled)"
    )
    print(
        f"UDP: {n_udp:,} datagrams at {n_udp / udp_s:,.0f}/s: {udp_got:,} spooled, "
        f"{stats['udp_dropped']:,} dropped by the daemon, "
        f"{n_udp - udp_got - stats['udp_dropped']:,} lost before it (kernel buffer), "
        f"loss {(n_udp - udp_got) / n_udp:.2%}"
    )


if __name__ == "__main__":
    main()
