"""Property tests per line format (hypothesis), beside the big seeded fuzz of test_fuzz.py:
a parser never raises and accounts for every line; times parse as Python's datetime says or
not at all; RFC 5424 structured data of any content leaves the message intact."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from secops.collect import LineBatch
from secops.normalise import registry_for
from secops.normalise.batch import BatchResult, Options, normalise_batch
from secops.normalise.events import EventIds
from secops.normalise.timestamps import parse_timestamps
from tests.normalise.mutate import MUTATIONS, lines_of

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden"
REGISTRY = registry_for(None)
#: SECOPS_FUZZ_EXAMPLES runs a longer search
EXAMPLES = int(os.environ.get("SECOPS_FUZZ_EXAMPLES", "40"))
#: what nanoseconds hold, a day inside each end (secops.schema.in_ns_range)
FIRST, LAST = pd.Timestamp("1677-09-23", tz="UTC"), pd.Timestamp("2262-04-10", tz="UTC")


def golden_lines(name: str) -> list[str]:
    return [str(case["line"]) for case in yaml.safe_load((GOLDEN / f"{name}.yaml").read_text())]


def normalise(lines: list[str], **options: object) -> BatchResult:
    opts = Options(**{"year": None, "tz": "UTC", "now": NOW, "keep_original": True, **options})
    batch = LineBatch("fuzz.log", 1, pa.array(lines, pa.string()))
    return normalise_batch(batch, REGISTRY, opts, EventIds())  # type: ignore[arg-type]


def assert_accounted(result: BatchResult, n: int) -> None:
    assert result.lines == n
    parsed = sum(result.parsed.values())
    assert parsed + len(result.dead) + result.blank == n
    assert len(result.events) == parsed
    lines = result.dead["line"].tolist()
    assert len(set(lines)) == len(lines) and all(1 <= x <= n for x in lines)
    assert all(isinstance(r, str) and r for r in result.dead["reason"])
    assert result.events["@timestamp"].notna().all()


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.yaml")))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_mutated_lines_of_each_format_are_parsed_or_dead_lettered(name: str, data) -> None:
    seeds = golden_lines(name)
    rng = data.draw(st.randoms(use_true_random=False))
    picked = data.draw(st.lists(st.sampled_from(seeds), min_size=1, max_size=40))
    funcs = [m for m, _ in MUTATIONS]
    mutated = [
        data.draw(st.sampled_from(funcs))(line.encode(), rng) + data.draw(st.binary(max_size=8))
        for line in picked
    ]
    lines = lines_of(b"\n".join(mutated))
    year = data.draw(st.sampled_from([None, 2026, 2300, 1600]))
    result = normalise(lines, year=year, tz=data.draw(st.sampled_from(["UTC", "Asia/Kolkata"])))
    assert_accounted(result, len(lines))


def _oracle(y: int, mo: int, d: int, h: int, mi: int, s: int, off: timedelta | None):
    """The UTC time Python's datetime gives, None where it refuses or nanoseconds cannot hold
    it (a day's margin at both ends, where either answer is right, gives 'either')."""
    try:
        tz = UTC if off is None else timezone(off)
        when = pd.Timestamp(datetime(y, mo, d, h, mi, s, tzinfo=tz).astimezone(UTC))
    except (ValueError, OverflowError):
        return None
    if FIRST <= when <= LAST:
        return when
    if FIRST - timedelta(days=2) <= when <= LAST + timedelta(days=2):
        return "either"
    return None


def _mostly(low: int, high: int, *odd: int) -> st.SearchStrategy[int]:
    """Valid values most of the time, the odd ones (month 13, hour 25, year 2300) often."""
    return st.integers(low, high) | st.sampled_from(odd)


_years = _mostly(1970, 2100, 0, 1, 1600, 1677, 1678, 2261, 2262, 2263, 2300, 2326, 9999)
_months, _days = _mostly(1, 12, 0, 13), _mostly(1, 28, 0, 29, 30, 31, 32)
_hours, _minutes = _mostly(0, 23, 24, 25), _mostly(0, 59, 60, 61)
_MONTHS = [
    "Xxx",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]
_times = st.tuples(
    _years,
    _months,
    _days,
    _hours,
    _minutes,
    _minutes,
    _mostly(-14, 14, -99, -24, 24, 99),
    st.sampled_from([0, 30, 45, 59, 60, 99]),
    st.sampled_from(["Z", "+hh:mm", "+hhmm.fraction", "apache"]),
)


def _iso_or_apache(y, mo, d, h, mi, s, off_h, off_m, shape) -> tuple[str, object]:
    """(text, what Python's datetime says it is)."""
    sign = "-" if off_h < 0 else "+"
    zone = f"{sign}{abs(off_h):02d}{off_m:02d}"
    text = {
        "Z": f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
        "+hh:mm": f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{zone[:3]}:{zone[3:]}",
        "+hhmm.fraction": f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}.000000000999{zone}",
        "apache": f"{d:02d}/{_MONTHS[mo % 13]}/{y:04d}:{h:02d}:{mi:02d}:{s:02d} {zone}",
    }[shape]
    off = None if shape == "Z" else timedelta(hours=abs(off_h), minutes=off_m)
    if off is not None and off_h < 0:
        off = -off
    if shape == "apache" and not 1 <= mo <= 12:
        return text, None
    if off is not None and (off_m >= 60 or abs(off) >= timedelta(hours=24)):
        return text, None
    if shape == "apache" and s in (60, 61):  # strptime takes leap seconds (Python's does too)
        return text, "either"
    return text, _oracle(y, mo, d, h, mi, s, off)


def _assert_as_python_says(got: pd.Series, wants: list[object], texts: list[str]) -> None:
    for value, want, text in zip(got, wants, texts, strict=True):
        if want == "either":
            assert pd.isna(value) or FIRST - timedelta(days=2) <= value <= LAST + timedelta(days=2)
        elif want is None:
            assert pd.isna(value), text
        else:
            assert value == want, text


@settings(max_examples=EXAMPLES, deadline=None)
@given(times=st.lists(_times, min_size=1, max_size=40))
def test_a_time_parses_as_python_says_or_not_at_all(times) -> None:
    """ISO 8601 (Z, +hh:mm, 12 fractional digits) and Apache times, out of range or invalid
    in every field: the time Python's datetime gives (in nanoseconds' range), else none."""
    texts, wants = zip(*(_iso_or_apache(*t) for t in times), strict=True)
    got = parse_timestamps(pa.array(texts), year=None, tz="UTC", now=NOW)
    _assert_as_python_says(got, list(wants), list(texts))


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    year=st.integers(-5, 10_500) | _years,
    stamps=st.lists(st.tuples(_months, _days, _hours, st.none() | _years), min_size=1, max_size=30),
)
def test_bsd_times_with_any_year_parse_as_python_says_or_not_at_all(year, stamps) -> None:
    """`Nov 20 10:00:00` with `--year` (any, even 2300 or 0), or `Nov 20 2300 10:00:00`."""
    texts, wants = [], []
    for mo, d, h, written in stamps:
        written_year = "" if written is None else f" {written:04d}"
        texts.append(f"{_MONTHS[mo % 13]} {d:2d}{written_year} {h:02d}:00:00")
        want = _oracle(year if written is None else written, mo, d, h, 0, 0, None)
        wants.append(None if mo in (0, 13) else want)
    got = parse_timestamps(pa.array(texts), year=year, tz="UTC", now=NOW)
    _assert_as_python_says(got, wants, texts)


_sd_text = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=12)
_sd_id = st.from_regex(r"[a-zA-Z@.0-9]{1,10}", fullmatch=True)
_sd_param = st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _sd_text)
_sd = st.lists(st.tuples(_sd_id, st.lists(_sd_param, max_size=3)), max_size=3)
MESSAGE = "Failed password for root from 192.0.2.10 port 40000 ssh2"


def _structured_data(elements: list[tuple[str, list[tuple[str, str]]]]) -> str:
    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")

    sd = "".join(
        "[" + sd_id + "".join(f' {k}="{escaped(v)}"' for k, v in params) + "]"
        for sd_id, params in elements
    )
    return sd or "-"


@settings(max_examples=25, deadline=None)
@given(data=st.lists(st.tuples(_sd, st.booleans()), min_size=1, max_size=20))
def test_rfc5424_structured_data_of_any_content_leaves_the_message(data) -> None:
    """Escaped quotes, backslashes and brackets in SD-PARAM values, any UTF-8; broken SD
    (an unescaped quote, a missing bracket) is dead-lettered or parsed, never a crash."""
    lines = []
    for elements, broken in data:
        sd = _structured_data(elements)
        if broken:
            sd = sd.replace('\\"', '"', 1).replace("]", "", 1)
        lines.append(f"<38>1 2026-11-20T10:00:00Z web01 sshd 4711 - {sd} {MESSAGE}")
    result = normalise(lines)
    assert_accounted(result, len(lines))
    whole = {lines[i] for i, (_, broken) in enumerate(data) if not broken}
    assert not set(result.dead["raw"]) & whole
    events = result.events[result.events["event.original"].isin(whole)]
    assert (events["message"] == MESSAGE).all()
    assert (events["source.ip"] == "192.0.2.10").all()


def test_the_random_source_of_the_mutations_is_seeded() -> None:
    """The big fuzz is reproducible: the same seed gives the same mutated lines."""
    from tests.normalise.mutate import mutate

    line = golden_lines("sshd")[0]
    first = [mutate(line, random.Random(7)) for _ in range(3)]
    assert first == [mutate(line, random.Random(7)) for _ in range(3)]


ECS = {"@timestamp": "2026-11-20T10:00:00Z", "event": {"action": "x"}, "source": {"port": 22}}
EVE = {
    "timestamp": "2026-11-20T10:00:00.000000+0000",
    "event_type": "alert",
    "src_ip": "203.0.113.9",
    "src_port": 4000,
    "dest_port": 22,
    "alert": {"signature": "ET SCAN", "signature_id": 1, "severity": 2},
}
WIN = {"EventID": 4625, "Channel": "Security", "@timestamp": "2026-11-20T10:00:00Z", "IpPort": 5}
_odd_values = st.one_of(
    st.sampled_from([12345, 22.0, -1, 1e30, 2**63, 2**64 + 1, 10**400, "22", " 22 ", [22, 23]]),
    st.sampled_from([[], {}, {"a": 1}, True, None, "", "1e3", "2326-11-20T04:51:54Z"]),
    st.floats(allow_nan=False),
    st.integers(),
    st.text(max_size=8),
)
_paths = st.sampled_from(
    [
        (ECS, ("@timestamp",)),
        (ECS, ("source", "port")),
        (ECS, ("event", "action")),
        (EVE, ("timestamp",)),
        (EVE, ("src_port",)),
        (EVE, ("alert", "severity")),
        (EVE, ("alert", "signature_id")),
        (WIN, ("IpPort",)),
        (WIN, ("EventID",)),
    ]
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(where=_paths, value=_odd_values, dotted=st.none() | _odd_values, first=st.booleans())
def test_a_json_line_reads_alike_whichever_decoder_reads_its_chunk(
    where, value, dotted, first
) -> None:
    """Arrow reads a chunk of JSON lines at once; one bad line sends the chunk to json.loads.
    The same line must give the same event (or dead letter) either way: 22.0 was port 22 by
    Arrow and no port by json.loads, 2**63 was 9.223372036854776e+18 and 9223372036854775808,
    and of "source.port" beside "source": {"port"} Arrow took the first, json.loads the last."""
    base, path = where
    doc = json.loads(json.dumps(base))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    if dotted is not None and len(path) > 1:  # the same field as a dotted key, before or after
        doc = {".".join(path): dotted, **doc} if first else {**doc, ".".join(path): dotted}
    line = json.dumps(doc)
    alone, beside_a_bad_one = normalise([line]), normalise([line, '{"broken"}'])
    assert len(beside_a_bad_one.dead) == len(alone.dead) + 1
    assert alone.dead["reason"].tolist() == beside_a_bad_one.dead["reason"].tolist()[:-1]
    columns = [c for c in alone.events.columns if c != "event.id"]
    pd.testing.assert_frame_equal(
        alone.events[columns], beside_a_bad_one.events.reindex(columns=columns)
    )
