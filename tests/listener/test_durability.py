"""What the collector acknowledged is never lost (issue 19).

- invalid settings are refused (exit 78, one line naming the option) before any port is bound;
- one bad message does not fail its flush: the others are spooled, it is dead-lettered;
- a flush that cannot be stored is not acknowledged (the peer gets a reset), its messages are
  kept in <data-dir>/pending, the daemon exits 1, and the next start replays them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from secops.collect.durable import BatchStore, isolate
from secops.normalise import registry_for
from tests.listener.daemon import SECOPS, Daemon

DAY = "2026-10-11"
BSD = "<38>Oct 11 22:14:15 web01 sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2"


def rfc5424(i: int, year: int = 2026) -> str:
    return (
        f"<38>1 {year}-10-11T22:14:{i % 60:02d}.003Z web01 sshd {1000 + i} - - "
        f"Failed password for invalid user u{i} from 198.51.100.7 port {20000 + i} ssh2"
    )


def _send(addr: tuple[str, int], lines: list[str]) -> bool:
    """One session: lines, EOF, then wait. True: acknowledged (closed); False: reset."""
    with socket.create_connection(addr, timeout=10) as sock:
        sock.sendall("".join(f"{line}\n" for line in lines).encode())
        sock.shutdown(socket.SHUT_WR)
        try:
            while sock.recv(4096):
                pass
        except ConnectionResetError:
            return False
        return True


def _collect(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [SECOPS, "collect", "--listen", "--data-dir", str(tmp / "data"), *args]
    env = {**os.environ, "SECOPS_CONFIG": os.devnull}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def _batch_store(where: Path, tz: str) -> BatchStore:
    """A real store; with a zone that does not exist, an RFC 3164 line (BSD) is a real poison:
    it needs the zone (the CLI refuses such a zone; a library caller may not check), RFC 5424
    lines carry theirs."""
    return BatchStore(
        where / "spool",
        where / "dead.jsonl",
        where / "pending",
        registry_for(None),
        year=2026,
        tz=tz,
    )


def _accounted(stats: dict) -> int:
    parts = ("events_spooled", "dead_lettered", "blank", "pending", "lost")
    return sum(stats[k] for k in parts)


@pytest.fixture
def held_port() -> object:
    """A TCP port this test holds: a daemon that tried to bind it would fail to listen."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--tz", "Nowhere"),
        ("--year", "2300"),
        ("--flush-seconds", "0"),
        ("--max-frame", "-1"),
        ("--udp", "127.0.0.1:70000"),
    ],
)
def test_invalid_settings_are_refused_before_binding(
    tmp_path: Path, held_port: int, option: str, value: str
) -> None:
    got = _collect(tmp_path, "--tcp", f"127.0.0.1:{held_port}", option, value)
    # the port is held: had the daemon bound anything first, it would say "cannot listen"
    assert got.returncode == 78, got.stderr
    assert got.stderr.count("\n") == 1, got.stderr
    assert option in got.stderr and value in got.stderr, got.stderr
    assert "cannot listen" not in got.stderr and "listening" not in got.stderr


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1", "127.0.0.1:http", ":-5"])
def test_a_bad_port_is_one_line_not_a_traceback(tmp_path: Path, address: str) -> None:
    got = _collect(tmp_path, "--udp", "off", "--tcp", address)
    assert got.returncode == 78, got.stderr
    assert got.stderr.startswith("secops: error: --tcp ") and got.stderr.count("\n") == 1
    assert "Traceback" not in got.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _collect(tmp_path, "--flush-lines", "many").returncode == 2
    assert subprocess.run([SECOPS, "collect"], capture_output=True).returncode == 2


def test_fifty_good_and_one_in_2326_spool_fifty_and_dead_letter_one(daemon: Daemon) -> None:
    lines = (
        [rfc5424(i) for i in range(25)] + [rfc5424(99, 2326)] + [rfc5424(i) for i in range(25, 50)]
    )
    assert _send(daemon.addr["tcp"], lines)  # acknowledged: all of it is durable now
    assert sorted(daemon.messages()) == sorted(
        line.split(" - - ")[1] for line in lines if "2326" not in line
    )
    dead = [
        json.loads(x) for x in (daemon.spool.root / "dead-letter.jsonl").read_text().splitlines()
    ]
    assert [(d["reason"], d["raw"]) for d in dead] == [("missing or invalid timestamp", lines[25])]
    stats = daemon.stop()
    assert (stats["received"], stats["events_spooled"], stats["dead_lettered"]) == (51, 50, 1)
    assert stats["flush_errors"] == 0 and _accounted(stats) == 51


def test_a_failed_flush_is_not_acknowledged_kept_pending_and_replayed(tmp_path: Path) -> None:
    first = Daemon(tmp_path)
    blocker = first.spool.root / f"date={DAY}"  # a file where the partition directory goes
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    lines = [rfc5424(i) for i in range(20)]
    try:
        assert not _send(first.addr["tcp"], lines)  # reset: not acknowledged
        stats = first.stop(code=1)  # the exit code says a flush failed
    finally:
        if first.proc.poll() is None:
            first.kill()
    assert stats["flush_errors"] >= 1 and stats["events_spooled"] == 0
    assert stats["pending"] == 20 == stats["received"] == _accounted(stats)
    pending = sorted((tmp_path / "data" / "pending").glob("*.jsonl"))
    kept = [json.loads(x)["raw"] for p in pending for x in p.read_text().splitlines()]
    assert sorted(kept) == sorted(lines)  # not lost: every message, raw
    assert first.spool.count() == 0

    blocker.unlink()  # the disk is fixed; the next start stores what was kept
    second = Daemon(tmp_path)
    try:
        assert [d["event"] for d in second.before] == ["replayed"] * len(pending)
        assert sum(d["messages"] for d in second.before) == 20
        stats = second.stop()
    finally:
        if second.proc.poll() is None:
            second.kill()
    assert stats["replayed"] == 20 and stats["flush_errors"] == 0
    assert sorted(second.messages()) == sorted(line.split(" - - ")[1] for line in lines)
    assert not list((tmp_path / "data" / "pending").glob("*.jsonl"))


def test_sigterm_resets_a_peer_that_has_not_finished(daemon: Daemon) -> None:
    sock = socket.create_connection(daemon.addr["tcp"], timeout=10)
    sock.sendall("".join(f"{rfc5424(i)}\n" for i in range(10)).encode())
    time.sleep(0.5)  # read (and flushed), but the peer has not sent its EOF
    daemon.proc.send_signal(signal.SIGTERM)
    with pytest.raises(ConnectionResetError):
        sock.recv(10)  # never a clean close: the peer must not take it for an ack
    sock.close()
    assert daemon.proc.wait(timeout=30) == 0
    assert len(daemon.messages()) == 10  # what was read is still spooled


def test_one_message_that_makes_normalising_raise_is_dead_lettered_alone(tmp_path: Path) -> None:
    store = _batch_store(tmp_path, "Nowhere")
    texts = [rfc5424(i) for i in range(30)]
    texts.insert(17, BSD)
    done = store.store(texts, "batch")
    assert (done.events, done.dead, done.isolated, done.blank) == (30, 1, 1, 0)
    dead = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert [(d["line"], d["raw"]) for d in dead] == [(18, texts[17])]
    assert dead[0]["reason"].startswith("normalising raised ZoneInfoNotFoundError")
    assert store.spool.count() == 30


def test_isolate_finds_every_poison_item_and_keeps_the_rest() -> None:
    poison = {0, 13, 77, 99}
    calls = []

    def run(part: list[int], first: int) -> list[int]:
        calls.append(len(part))
        if poison & set(part):
            raise ValueError(sorted(poison & set(part)))
        return list(part)

    results, errors = isolate(list(range(100)), run)
    assert [x for part in results for x in part] == [i for i in range(100) if i not in poison]
    assert [pos for pos, _ in errors] == sorted(poison)
    assert len(calls) <= 2 * len(poison) * 7 + 1  # about 2k log2(n), not n


def test_an_oversized_frame_is_dead_lettered_before_the_ack(tmp_path: Path) -> None:
    d = Daemon(tmp_path, "--max-frame", "4096")
    try:
        with socket.create_connection(d.addr["tcp"], timeout=10) as sock:
            big = b"<38>1 " + b"x" * 99_994  # 100,000 bytes, octet-counted
            sock.sendall(b"100000 " + big + b"A" * 5000 + b"\n" + f"{rfc5424(1)}\n".encode())
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(10) == b""  # acknowledged: both are durable now
        dead = [
            json.loads(x) for x in (d.spool.root / "dead-letter.jsonl").read_text().splitlines()
        ]
        assert [x["reason"] for x in dead] == [
            "frame over --max-frame: 100000 bytes (the first 1024 kept)",
            "frame over --max-frame: 5000 bytes (the first 1024 kept)",  # the LF-framed one
        ]
        assert dead[0]["raw"] == big[:1024].decode() and dead[1]["raw"] == "A" * 1024
        assert len(d.messages()) == 1
        stats = d.stop()
    finally:
        if d.proc.poll() is None:
            d.kill()
    assert (stats["received"], stats["oversized"], stats["dead_lettered"]) == (3, 2, 2)
    assert _accounted(stats) == 3


def test_a_batch_that_cannot_even_be_kept_is_counted_lost_and_not_acknowledged(
    tmp_path: Path,
) -> None:
    d = Daemon(tmp_path)
    blocker = d.spool.root / f"date={DAY}"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    pending = tmp_path / "data" / "pending"
    pending.rmdir()
    pending.write_text("not a directory either")
    try:
        assert not _send(d.addr["tcp"], [rfc5424(i) for i in range(7)])  # reset: send again
        stats = d.stop(code=1)
    finally:
        if d.proc.poll() is None:
            d.kill()
    assert (stats["received"], stats["lost"], stats["pending"]) == (7, 7, 0)
    assert _accounted(stats) == 7


def test_isolating_a_poison_message_keeps_the_event_ids_of_a_clean_batch(tmp_path: Path) -> None:
    # identical lines are numbered by occurrence; the parts that raised must not count theirs
    texts = [rfc5424(1)] * 3 + [rfc5424(2)] * 3
    clean = _batch_store(tmp_path / "clean", "UTC")
    clean.store(texts, "clean")
    poisoned = _batch_store(tmp_path / "poisoned", "Nowhere")
    done = poisoned.store(texts[:4] + [BSD] + texts[4:], "poisoned")
    assert (done.events, done.isolated) == (6, 1)
    assert sorted(poisoned.spool.event_ids()) == sorted(clean.spool.event_ids())
    assert clean.spool.event_ids().nunique() == 6
