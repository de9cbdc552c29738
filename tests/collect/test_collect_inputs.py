"""Inputs: files, directories, .gz (by magic bytes), stdin, JSON array files, bad paths."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secops import collect
from secops.collect import expand_inputs, iter_batches
from secops.errors import CollectError
from secops.normalise import ParseReport, iter_events

SSH = "Nov 20 10:00:08 host2 sshd[1]: Failed password for root from 192.0.2.10 port 40000 ssh2"
SUDO = "Nov 20 10:00:06 web1 sudo: alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id"
EVE = json.dumps(
    {
        "timestamp": "2026-11-20T10:00:00Z",
        "event_type": "alert",
        "src_ip": "1.1.1.1",
        "alert": {"signature": "X", "signature_id": 1},
    }
)
ACCESS = '10.0.0.9 - - [20/Nov/2026:10:00:09 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'


def _lines(paths: list[str]) -> list[tuple[str, int, str]]:
    return [
        (b.path, b.first_line + i, line)
        for b in iter_batches(paths, batch_lines=2)
        for i, line in enumerate(b.lines.to_pylist())
    ]


def test_crlf_bad_utf8_and_nul_are_decoded(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntw\xffo\r\nth\x00ree")
    assert [line for _, _, line in _lines([str(path)])] == ["one", "tw\ufffdo", "th\ufffdree"]
    assert [n for _, n, _ in _lines([str(path)])] == [1, 2, 3]


def test_gzip_detected_by_magic_bytes_not_name(tmp_path: Path) -> None:
    plain = tmp_path / "rotated.log.1"
    plain.write_bytes(gzip.compress(f"{SSH}\n{SUDO}\n".encode()))
    report = ParseReport()
    events = list(iter_events([str(plain)], report=report))
    assert report.parsed == 2 and sum(len(e) for e in events) == 2


def test_truncated_gzip_keeps_what_was_readable(tmp_path: Path) -> None:
    data = gzip.compress((SSH + "\n").encode() * 1000)
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    report = ParseReport()
    events = pd.concat(list(iter_events([str(path)], report=report)), ignore_index=True)
    # the oracle: what zlib itself recovers from the cut stream, whole lines and the cut one
    readable = zlib.decompressobj(wbits=31).decompress(path.read_bytes())
    whole = readable.count(b"\n")
    assert whole > 100
    assert (report.parsed, len(events)) == (whole, whole)
    assert report.lines_read == whole + (not readable.endswith(b"\n"))
    assert report.lines_read == report.parsed + report.dead_lettered + report.blank


def test_directory_is_recursive_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.log").write_text(SSH + "\n")
    (tmp_path / "a.log").write_text(SUDO + "\n")
    (tmp_path / "b" / "c").mkdir()
    (tmp_path / "b" / "c" / "x.gz").write_bytes(gzip.compress((ACCESS + "\n").encode()))
    assert expand_inputs([str(tmp_path)]) == [
        str(tmp_path / "a.log"),
        str(tmp_path / "b" / "c" / "x.gz"),
        str(tmp_path / "b" / "z.log"),
    ]


def test_mixed_format_directory(tmp_path: Path) -> None:
    (tmp_path / "syslog").write_text(f"{SSH}\n{SUDO}\n\n")
    (tmp_path / "eve.json").write_text(EVE + "\n")
    (tmp_path / "access.log").write_text(ACCESS + "\n")
    (tmp_path / "mixed.log").write_text(f"{EVE}\n{SSH}\n{ACCESS}\nnot a log line\n")
    report = ParseReport()
    events = list(iter_events([str(tmp_path)], report=report))
    assert (report.lines_read, report.parsed, report.dead_lettered, report.blank) == (9, 7, 1, 1)
    assert report.coverage[str(tmp_path / "mixed.log")] == {
        "access_log": 1,
        "sshd": 1,
        "suricata": 1,
        "unparsed": 1,
    }
    datasets = {d for frame in events for d in frame["event.dataset"]}
    assert datasets == {"sshd", "sudo", "suricata", "access_log"}


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps([json.loads(EVE), json.loads(EVE)], indent=2))
    report = ParseReport()
    frames = list(iter_events([str(path)], report=report))
    assert report.lines_read == 2 and report.parsed == 2
    assert frames[0]["event.id"].is_unique


def test_stdin_through_a_subprocess(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from secops.normalise import iter_events, ParseReport\n"
        "r = ParseReport()\n"
        "n = sum(len(f) for f in iter_events(['-'], report=r))\n"
        "print(json.dumps({'n': n, 'cov': r.coverage}))\n"
    )
    data = gzip.compress(f"{SSH}\n{SUDO}\ngarbage\n".encode())
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=data,
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    result = json.loads(out.stdout)
    assert result == {"n": 2, "cov": {"-": {"sshd": 1, "sudo": 1, "unparsed": 1}}}


def test_missing_path_names_the_path(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.log")
    with pytest.raises(CollectError) as err:
        list(iter_events([missing]))
    assert missing in str(err.value)


def test_batches_split_long_inputs(tmp_path: Path) -> None:
    path = tmp_path / "many.log"
    path.write_text((SSH + "\n") * 25)
    frames = list(iter_events([str(path)], batch_lines=10))
    assert [len(f) for f in frames] == [10, 10, 5]
    ids = [i for f in frames for i in f["event.id"]]
    assert len(set(ids)) == 25


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"a", b"\r", b"\n", b"\xc3\xa9", b"\xff", b"\x00", b" "]), max_size=16
    )
)
def test_lines_cut_with_numpy_equal_the_decoded_split(parts: list[bytes]) -> None:
    """The fast cut (numpy over bytes) gives exactly the lines the decoding split gives:
    CRLF endings, a last line without newline, invalid UTF-8 and NUL replaced."""
    data = b"".join(parts)
    assert collect._lines(data).to_pylist() == collect._split(data)
