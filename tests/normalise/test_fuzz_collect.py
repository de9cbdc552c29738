"""The collector under fuzz: any bytes, any batch size, any cut into byte ranges give the
lines of the collector's contract (computed independently in `mutate.lines_of`); syslog
framing on any byte stream returns frames or ends, never anything else."""

from __future__ import annotations

import asyncio
import gzip
import os
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secops.collect import iter_batches, iter_range, split_ranges
from secops.collect.framing import Oversized, read_frame
from secops.normalise import ParseReport, iter_events
from tests.normalise.mutate import lines_of, mutate, seed_lines

SEEDS = seed_lines()[0]
_pieces = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\n", b"\r\n", b"\r", b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b" ", b"["]),
    st.builds(
        lambda i, seed: mutate(SEEDS[i % len(SEEDS)], random.Random(seed)),
        st.integers(0, 10**6),
        st.integers(0, 2**32),
    ),
)
_data = st.lists(_pieces, max_size=30).map(b"".join)
#: SECOPS_FUZZ_EXAMPLES runs a longer search
EXAMPLES = int(os.environ.get("SECOPS_FUZZ_EXAMPLES", "80"))
_fixture_ok = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _read(batches) -> tuple[list[str], list[int]]:
    lines, firsts = [], []
    for batch in batches:
        firsts.append(batch.first_line)
        lines.extend(batch.lines.to_pylist())
    return lines, firsts


@_fixture_ok
@given(data=_data, batch_lines=st.integers(1, 40), zipped=st.booleans())
def test_any_bytes_in_any_batches_are_the_lines_of_the_contract(
    tmp_path_factory, data: bytes, batch_lines: int, zipped: bool
) -> None:
    if data.lstrip()[:1] == b"[":  # a JSON array file reads as its elements
        data = b"x" + data
    path = tmp_path_factory.mktemp("collect") / "in.log"
    path.write_bytes(gzip.compress(data) if zipped else data)
    lines, firsts = _read(iter_batches([str(path)], batch_lines=batch_lines))
    assert lines == lines_of(data)
    assert firsts == list(range(1, len(lines) + 1, batch_lines))


@_fixture_ok
@given(data=_data, chunk_bytes=st.integers(1, 300), batch_lines=st.integers(1, 40))
def test_byte_ranges_read_alone_give_the_lines_of_the_whole(
    tmp_path_factory, data: bytes, chunk_bytes: int, batch_lines: int
) -> None:
    """What the parallel reader does: cut at line boundaries, each range read on its own."""
    if data.lstrip()[:1] == b"[":
        data = b"x" + data
    path = tmp_path_factory.mktemp("ranges") / "in.log"
    path.write_bytes(data)
    lines: list[str] = []
    for start, end in split_ranges(str(path), chunk_bytes):
        got, firsts = _read(iter_range(str(path), start, end, batch_lines))
        assert firsts == list(range(1, len(got) + 1, batch_lines))
        lines.extend(got)
    assert lines == lines_of(data)


async def _frames(data: bytes, max_frame: int) -> list[bytes]:
    reader = asyncio.StreamReader(limit=max_frame + 2)  # as the listener opens its peers
    reader.feed_data(data)
    reader.feed_eof()
    frames: list[bytes] = []
    try:
        while (frame := await read_frame(reader, max_frame)) is not None:
            frames.append(frame)
    except asyncio.IncompleteReadError:  # a counted frame cut by the end of the stream
        pass
    return frames


_frame_data = st.lists(
    st.one_of(
        _pieces,
        st.builds(
            lambda n, body: f"{n} ".encode() + body, st.integers(0, 120), st.binary(max_size=60)
        ),
        st.sampled_from([b"999999999 ", b"0 ", b"12", b"1234567890 x", b"\n\n"]),
    ),
    max_size=20,
).map(b"".join)


@settings(max_examples=2 * EXAMPLES, deadline=None)
@given(data=_frame_data, max_frame=st.integers(1, 100))
def test_framing_of_any_byte_stream_returns_frames_and_ends(data: bytes, max_frame: int) -> None:
    frames = asyncio.run(_frames(data, max_frame))
    assert len(frames) <= len(data)
    for frame in frames:
        assert isinstance(frame, Oversized) or len(frame) <= max_frame + 1


def test_a_line_of_digits_only_longer_than_max_frame_is_oversized() -> None:
    """b"000" with max_frame 1 (found by the fuzz): a line of digits ending the stream or
    the line was handed on whole, past the frame limit."""
    for data in (b"000", b"000\n"):
        [frame] = asyncio.run(_frames(data, 1))
        assert isinstance(frame, Oversized) and frame.size == 3
    assert asyncio.run(_frames(b"12\n", 2)) == [b"12"]


def test_a_file_that_only_starts_like_gzip_is_read_as_text(tmp_path: Path) -> None:
    """b"\\x1f\\x8b" and then text (found by the fuzz): read as gzip, it failed at once and
    the whole file was read as no line at all, with no dead letter and no count."""
    line = "Nov 20 10:00:00 h sshd[1]: Failed password for root from 192.0.2.10 port 22 ssh2"
    fake = tmp_path / "fake.log"
    fake.write_bytes(b"\x1f\x8b not gzip\n" + line.encode() + b"\n")
    real = tmp_path / "real.log.gz"
    real.write_bytes(gzip.compress(line.encode() + b"\n"))
    report = ParseReport()
    events = list(iter_events([str(fake), str(real)], report=report, year=2026))
    assert (report.lines_read, report.parsed, report.dead_lettered) == (3, 2, 1)
    assert sum(len(e) for e in events) == 2
