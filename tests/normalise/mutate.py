"""A seeded mutator over real log lines, for the fuzz tests (tests/normalise/test_fuzz.py).

Seeds are real lines: the golden files, the bundled sample logs and (when present) the shared
Loghub and Suricata data. `mutate(line, rng)` returns the bytes of one mutated line (it may hold
invalid UTF-8, NUL, CR, a newline (then it is several lines) or be over 1 MB).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.helpers import REPO, SHARED_DATA

#: shared data files, relative to SHARED_DATA; absent ones are skipped (listed in `missing`)
SHARED_FILES = (
    "loghub/OpenSSH/OpenSSH_2k.log",
    "loghub/Linux/Linux_2k.log",
    "suricata-sample-data/honeypot-2018/alerts-only.json",
    "suricata-sample-data/wrccdc-2018/alerts-only.json",
)

#: times no event can carry, or only at the edge of what nanoseconds hold
BAD_YEARS = ("0000", "0001", "1600", "1677", "2262", "2300", "2326", "9999")
ISO_TIMES = (
    "0000-01-01T00:00:00Z",
    "1600-02-29T12:00:00Z",
    "1677-09-21T00:12:43.145224191Z",
    "2262-04-11T23:47:16.854775807Z",
    "2262-04-11T23:47:16.854775808Z",
    "2262-04-12T00:00:00+00:00",
    "2300-01-01T00:00:00Z",
    "2326-11-20T04:51:54.000000+0000",
    "9999-12-31T23:59:59.999999Z",
    "2026-13-01T00:00:00Z",
    "2026-11-32T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-11-20T25:00:00Z",
    "2026-11-20T23:61:61Z",
    "2026-11-20T10:00:00+99:99",
    "2026-11-20T10:00:00-24:00",
    "2026-11-20T10:00:00+2400",
    "2026-11-20T10:00:00.123456789012Z",
    "2026-11-20T10:00:00.123456789012+05:30",
    "2026-11-20 10:00:00.999999999999",
    "2026-11-20T10:00:00ZZ",
    "+002026-11-20T10:00:00Z",
    "-2026-11-20T10:00:00Z",
    "2026-W47-5T10:00:00Z",
    "2026-324T10:00:00Z",
)
BSD_TIMES = (
    "Nov 32 10:00:00",
    "Feb 30 10:00:00",
    "Feb 29 10:00:00",
    "Nov 20 25:00:00",
    "Nov 20 10:61:00",
    "Nov 20 10:00:99",
    "Nox 20 10:00:00",
    "Nov  0 10:00:00",
    "Nov 20 2300 10:00:00",
    "Nov 20 2326 10:00:00",
    "Nov 20 0000 10:00:00",
    "Nov 20 1600 10:00:00",
    "Nov 20 9999 10:00:00",
    "Nov 20 10:00:00.123456789012",
    "Mar 29 02:30:00",
    "Oct 25 02:30:00",
)
APACHE_TIMES = (
    "20/Nov/2300:04:51:54 +0000",
    "20/Nov/2326:04:51:54 +0000",
    "20/Nov/0000:04:51:54 +0000",
    "20/Nov/9999:23:59:59 -2359",
    "32/Nov/2026:04:51:54 +0000",
    "20/Nov/2026:25:51:54 +0000",
    "20/Nov/2026:04:51:54 +9999",
    "20/Nox/2026:04:51:54 +0000",
)
#: JSON values for a time field (`@timestamp`, `timestamp`) or a port
ODD_JSON_VALUES: tuple[object, ...] = (
    12345,
    0,
    -1,
    1e30,
    -1e30,
    1.5,
    2**63,
    2**64 + 1,
    -(2**63) - 1,
    10**400,
    1700000000,
    1700000000000,
    1700000000000000000,
    "1700000000",
    "1e30",
    "-22",
    "  22 ",
    "",
    None,
    True,
    False,
    [],
    [22, 23],
    ["2026-11-20T10:00:00Z"],
    {},
    {"nested": {"deeper": 1}},
    "\u0000",
    "\ud800",
    "\U0001f600" * 3,
    *ISO_TIMES[:12],
)
INVALID_UTF8 = (
    b"\xff",
    b"\xc3",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\x80",
)

_ISO_RE = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")
_BSD_RE = re.compile(rb"[A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d\d:\d\d:\d\d(?:\.\d+)?")
_APACHE_RE = re.compile(rb"\d{1,2}/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}")
_YEAR_RE = re.compile(rb"(?<!\d)(19|20)\d\d(?!\d)")


def seed_lines() -> tuple[list[str], list[str]]:
    """(real lines, shared files that were absent)."""
    lines: list[str] = []
    for golden in sorted((REPO / "tests" / "normalise" / "golden").glob("*.yaml")):
        lines.extend(str(case["line"]) for case in yaml.safe_load(golden.read_text()))
    for log in sorted((REPO / "samples" / "logs").rglob("*")):
        if log.is_file():
            lines.extend(_sample(log.read_text(encoding="utf-8").splitlines(), 400))
    missing = []
    for rel in SHARED_FILES:
        path = SHARED_DATA / rel
        if not path.exists():
            missing.append(str(path))
        else:
            lines.extend(shared_lines(path))
    return [x for x in lines if x.strip()], missing


def shared_lines(path: Path) -> list[str]:
    """About 400 lines of a shared data file (a JSON array: its elements, one per line)."""
    if path.suffix == ".json":
        docs = json.loads(path.read_text(encoding="utf-8"))
        return _sample([json.dumps(d) for d in docs], 400)
    return _sample(path.read_text(encoding="utf-8").splitlines(), 400)


def _sample(lines: list[str], n: int) -> list[str]:
    """Every k-th line so that about n remain (deterministic, spread over the file)."""
    step = max(1, len(lines) // n)
    return lines[::step]


def lines_of(data: bytes) -> list[str]:
    """The collector's contract, computed independently: LF ends a line (a CR before it is
    dropped; a last line without LF keeps its CR), bytes decode as UTF-8 with U+FFFD for
    invalid bytes and for NUL."""
    parts = data.split(b"\n")
    last = parts.pop()
    ended = [p[:-1] if p.endswith(b"\r") else p for p in parts]
    return [
        p.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        for p in (ended + [last] if last else ended)
    ]


# -- byte-level mutations -------------------------------------------------------------------


def _pos(data: bytes, rng: random.Random) -> int:
    return rng.randrange(len(data) + 1)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def random_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: _pos(data, rng)]


def cut_head(data: bytes, rng: random.Random) -> bytes:
    return data[_pos(data, rng) :]


def insert_invalid_utf8(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    return data[:i] + rng.choice(INVALID_UTF8) + data[i:]


def insert_nul(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    return data[:i] + b"\x00" * rng.randint(1, 3) + data[i:]


def insert_cr(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    return (
        data[:i]
        + rng.choice((b"\r", b"\r\r", b"\r\n", b"\n", b"\x0b", b"\x0c", b"\x85"))
        + data[i:]
    )


def insert_control(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    junk = rng.choice((b"\t", b"\x1b[31m", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b"\\", b'"', b"%"))
    return data[:i] + junk + data[i:]


def very_long(data: bytes, rng: random.Random) -> bytes:
    """Over 1 MB: padding inside the line, or the line repeated without its newline."""
    size = rng.choice((64 * 1024, 64 * 1024 + 1, (1 << 20) + 7))
    if rng.random() < 0.5:
        return (data * (size // max(1, len(data)) + 1))[:size]
    i = _pos(data, rng)
    return data[:i] + b"A" * size + data[i:]


def long_field(data: bytes, rng: random.Random) -> bytes:
    i = _pos(data, rng)
    return (
        data[:i] + rng.choice((b"x", b"9", b" ", b"[", b"{")) * rng.randint(100, 4_000) + data[i:]
    )


def duplicate_span(data: bytes, rng: random.Random) -> bytes:
    i, j = sorted((_pos(data, rng), _pos(data, rng)))
    return data[:j] + data[i:j] + data[j:]


def remove_span(data: bytes, rng: random.Random) -> bytes:
    i, j = sorted((_pos(data, rng), _pos(data, rng)))
    return data[:i] + data[j:]


def shuffle_words(data: bytes, rng: random.Random) -> bytes:
    words = data.split(b" ")
    rng.shuffle(words)
    return b" ".join(words)


def duplicate_word(data: bytes, rng: random.Random) -> bytes:
    words = data.split(b" ")
    i = rng.randrange(len(words))
    words.insert(i, words[i])
    return b" ".join(words)


def remove_word(data: bytes, rng: random.Random) -> bytes:
    words = data.split(b" ")
    del words[rng.randrange(len(words))]
    return b" ".join(words)


def odd_number(data: bytes, rng: random.Random) -> bytes:
    """A number in the line becomes a huge, negative or odd one (ports, pids, severities)."""
    spans = [m.span() for m in re.finditer(rb"\d+", data)]
    if not spans:
        return data
    i, j = rng.choice(spans)
    repl = rng.choice((b"0", b"-1", b"99999999999999999999999", b"1e30", b"65536", b"-0", b"1.5"))
    return data[:i] + repl + data[j:]


def odd_header(data: bytes, rng: random.Random) -> bytes:
    """A syslog header piece: PRI out of range, RFC 5424 version, odd structured data."""
    prefix = rng.choice(
        (
            b"<999>",
            b"<-1>",
            b"<>",
            b"<34>1 ",
            b"<34>1 - - - - - - ",
            b"<34>1 2026-11-20T10:00:00Z h sshd - - [x",
            b'<34>1 2026-11-20T10:00:00Z h sshd - - [a b="\\"] ',
            b'<34>1 2026-11-20T10:00:00Z h sshd - - [a b="c"][d e="f\\]"] ',
            b"<34>1 2326-11-20T10:00:00Z h sshd 1 - - ",
            b"<34>1 0000-00-00T00:00:00Z h sshd 1 - - ",
            b"\xef\xbb\xbf",
            b"%ASA-6-302013: ",
            b"message repeated 3 times: [ ",
        )
    )
    return prefix + data


# -- timestamps -----------------------------------------------------------------------------


def odd_timestamp(data: bytes, rng: random.Random) -> bytes:
    """Replace the line's time (ISO, BSD or Apache) or its year with one out of range."""
    for pattern, choices in (
        (_ISO_RE, ISO_TIMES),
        (_APACHE_RE, APACHE_TIMES),
        (_BSD_RE, BSD_TIMES),
    ):
        match = pattern.search(data)
        if match and rng.random() < 0.8:
            repl = rng.choice(choices).encode()
            return data[: match.start()] + repl + data[match.end() :]
    match = _YEAR_RE.search(data)
    if match:
        return data[: match.start()] + rng.choice(BAD_YEARS).encode() + data[match.end() :]
    return rng.choice(ISO_TIMES).encode() + b" " + data


# -- JSON -----------------------------------------------------------------------------------


def json_breakage(data: bytes, rng: random.Random) -> bytes:
    """Broken JSON text: a brace or quote missing, a trailing comma, junk after the object."""
    choice = rng.randrange(6)
    if choice == 0:
        return data.rstrip(b"}")
    if choice == 1:
        return data.replace(b'"', b"", 1)
    if choice == 2:
        return data[:-1] + b",}" if data.endswith(b"}") else data + b","
    if choice == 3:
        return data + b"}"
    if choice == 4:
        return b"[" + data + b"]"
    return data.replace(b":", b"", 1)


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    """Brackets nested past any sane depth (Python's recursion limit is 1,000)."""
    n = rng.choice((200, 256, 257, 999, 1_001, 5_000))
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
    nested = opener * n + b"1" + closer * rng.choice((n, 0, n - 1))
    i = data.find(b":") + 1 if rng.random() < 0.7 else rng.choice((0, len(data)))
    return data[:i] + nested + (b"," if i and data[i : i + 1] != b"}" else b"") + data[i:]


def json_values(data: bytes, rng: random.Random) -> bytes:
    """A decodable JSON object with odd values: times and ports of other types, arrays, huge
    and negative numbers, fields removed or nested where a scalar was."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return json_breakage(data, rng)
    if not isinstance(doc, dict):
        return data
    for _ in range(rng.randint(1, 3)):
        _mutate_doc(doc, rng)
    try:
        return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):  # 10**400 and friends still dump
        return data


def _leaves(doc: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in doc.items():
        if isinstance(value, dict) and value:
            out.extend(_leaves(value, (*prefix, key)))
        else:
            out.append((*prefix, key))
    return out


def _mutate_doc(doc: dict, rng: random.Random) -> None:
    paths = _leaves(doc)
    time_keys = [
        p for p in paths if p[-1] in ("@timestamp", "timestamp", "TimeCreated", "EventTime")
    ]
    port_keys = [p for p in paths if "port" in p[-1].lower() or p[-1] in ("EventID", "severity")]
    kind = rng.randrange(6)
    if kind == 0 and time_keys:
        _set(doc, rng.choice(time_keys), rng.choice(ODD_JSON_VALUES))
    elif kind == 1 and port_keys:
        _set(doc, rng.choice(port_keys), rng.choice(ODD_JSON_VALUES))
    elif kind == 2 and paths:
        _set(doc, rng.choice(paths), rng.choice(ODD_JSON_VALUES))
    elif kind == 3 and paths:
        _delete(doc, rng.choice(paths))
    elif kind == 4 and paths:  # a flat dotted duplicate beside the nested field
        path = rng.choice(paths)
        doc[".".join(path)] = rng.choice(ODD_JSON_VALUES)
    else:
        doc[rng.choice(("@timestamp", "event", "ecs", "event_type", "EventID", "Channel"))] = (
            rng.choice(ODD_JSON_VALUES)
        )


def _set(doc: dict, path: tuple[str, ...], value: object) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _delete(doc: dict, path: tuple[str, ...]) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


Mutation = Callable[[bytes, random.Random], bytes]

#: (mutation, weight): timestamps and JSON values weigh most, huge lines least (they cost most)
MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (flip_bits, 10),
    (random_bytes, 6),
    (truncate, 8),
    (cut_head, 4),
    (insert_invalid_utf8, 6),
    (insert_nul, 4),
    (insert_cr, 5),
    (insert_control, 4),
    (long_field, 1),
    (duplicate_span, 4),
    (remove_span, 4),
    (shuffle_words, 2),
    (duplicate_word, 3),
    (remove_word, 3),
    (odd_number, 6),
    (odd_header, 4),
    (odd_timestamp, 16),
    (json_breakage, 4),
    (deep_nesting, 1),
    (json_values, 14),
)
_FUNCS = [m for m, _ in MUTATIONS]
_WEIGHTS = [w for _, w in MUTATIONS]


def mutate(line: str, rng: random.Random, *, huge: float = 0.0) -> bytes:
    """One to three mutations of `line`; with probability `huge` a line of 64 KiB to 1 MB+."""
    data = line.encode("utf-8")
    if rng.random() < huge:
        return very_long(data, rng)
    for func in rng.choices(_FUNCS, _WEIGHTS, k=rng.choice((1, 1, 1, 2, 3))):
        data = func(data, rng)
    return data
