"""Format detection and syslog headers, per line, on whole Arrow arrays.

`split_lines(raw)` returns header columns for every line: `_fmt` (blank, too_long, json,
asa, syslog, netfilter, access or unknown), `_program` (syslog tag without pid), `_ts`
(timestamp text), `host.name`, `process.name`, `process.pid`, `event.code`, `event.severity`,
`message` (the whole line for an access-log line).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAX_LINE_BYTES = 64 * 1024

_BSD_TS = r"[A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d\d:\d\d:\d\d(?:\.\d+)?"
_ISO_TS = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"

#: a `facility.level` word some relays write before the program (`user.info`, `LOCAL4.WARNING:`)
_FACILITY = (
    r"(?i:(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])"
    r"\.(?:emerg|alert|crit|err|error|warn|warning|notice|info|debug)):? "
)

# The header patterns match the header only: the rest of the line is the message (`msg`).
# Capturing a trailing `(?P<msg>.*)$` makes RE2 run its submatch engine over the whole line,
# ~2 us a line; matching the header and cutting it off costs a tenth of that.

#: Cisco ASA, with or without PRI, relay header, host and the ASA's own timestamp.
ASA = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?:(?P<ts1>" + _BSD_TS + "|" + _ISO_TS + r"):? )?"
    r"(?:" + _FACILITY + ")?"
    r"(?:(?P<host>[^\s%:\[]+) ?:? )?(?:" + _FACILITY + ")?"  # the host, before or after the word
    r"(?:[^\s%:\[]+\[\d+\]:? )?"  # a program tag (CiscoASA[999]:)
    r"(?:(?P<ts2>" + _BSD_TS + r")(?: [A-Z]{3,4})?:? )?(?:(?P<host2>[^\s%:]+) ?: )?"
    r"(?:message repeated \d+ times: \[ ?)?"  # the message comes once, counted once
    r"%(?:ASA|FTD|PIX)(?:-[a-z]+)?-(?P<sev>\d)-(?P<code>\d{6}): ?"
)
RFC5424 = (
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\"]|\"(?:[^\"\\]|\\.)*\")*\])+) ?(?:\x{FEFF})?"
)
RFC3164 = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>" + _BSD_TS + "|" + _ISO_TS + r") (?P<host>\S+) "
    r"(?:" + _FACILITY + r")?(?P<tag>[^\s\[:]+)(?:\[(?P<pid>[^\]]*)\])?: ?"
)
#: Apache/nginx combined or common log line (no syslog header), also behind a virtual host or
#: with a forwarded address list (`10.0.0.2, 10.0.0.1 - - [...`), or Apache's SSL request log
#: (`[time] client protocol cipher "request" bytes`).
ACCESS = r'^(?:\S+ )?(?:[^\s,]+, )*\S+ \S+ \S+ \[[^\]]+\] "|^\[[^\]]+\] \S+ \S+ \S+ "'
#: a netfilter LOG line's body, wherever it sits (kernel, another program, no program at all)
NETFILTER = r"(?:^|[\s\]:])IN=\S* OUT=\S* .*?SRC=\S+ DST=\S+"
#: the header of a netfilter line without a program tag: time and, when present, a host
#: (`Jan  8 03:37:09 DENY: IN=...`, `Jun 28 04:35:30 fw-a1 [RULE-A] IN=...`)
NETFILTER_HEAD = (
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>" + _BSD_TS + "|" + _ISO_TS + r") (?:(?P<host>[^\s:\[=]+) )?"
)
_ASA_HINT = r"%(?:ASA|FTD|PIX)-(?:[a-z]+-)?\d-"
_REPEATED = r"^message repeated \d+ times: \[ ?(.*?)\]?$"


def split_lines(raw: pa.StringArray) -> dict[str, pa.Array]:
    """Header columns for each line of `raw` (same length, nulls where not applicable)."""
    fmt = _base_format(raw)
    undecided = pc.is_null(fmt)
    asa_like = pc.and_(undecided, pc.match_substring_regex(raw, _ASA_HINT))
    asa = _extract_where(raw, asa_like, ASA)
    is_5424_like = pc.and_(pc.and_not(undecided, pc.is_valid(asa)), pc.starts_with(raw, "<"))
    r5424 = _extract_where(
        raw, pc.and_(is_5424_like, pc.match_substring_regex(raw, r"^<\d+>1 ")), RFC5424
    )
    rest = pc.and_not(pc.and_not(undecided, pc.is_valid(asa)), pc.is_valid(r5424))
    r3164 = _extract_where(raw, rest, RFC3164)
    is_asa = pc.and_(pc.is_null(fmt), pc.is_valid(asa))
    is_5424 = pc.and_(pc.is_null(fmt), pc.and_not(pc.is_valid(r5424), is_asa))
    is_3164 = pc.and_(pc.is_null(fmt), pc.and_not(pc.is_valid(r3164), pc.or_(is_asa, is_5424)))
    is_access = pc.and_(pc.is_null(fmt), pc.match_substring_regex(raw, ACCESS))
    headerless = pc.and_not(pc.and_not(rest, pc.is_valid(r3164)), is_access)
    nf_head = _extract_where(raw, match_where(raw, headerless, NETFILTER), NETFILTER_HEAD)
    is_netfilter = pc.and_(pc.is_null(fmt), pc.is_valid(nf_head))
    conds = [is_asa, is_5424, is_3164, is_netfilter]

    def pick(*values: pa.Array) -> pa.Array:
        return _case(conds, list(values))

    nul = pa.nulls(len(raw), pa.string())
    program = pick(nul, _nil(_f(r5424, "app")), _f(r3164, "tag"), nul)
    out = {
        "_fmt": pc.fill_null(
            _case(
                [pc.is_valid(fmt), is_asa, is_5424, is_3164, is_netfilter, is_access],
                [fmt, *_lits(len(raw), "asa", "syslog", "syslog", "netfilter", "access")],
            ),
            "unknown",
        ),
        "_program": program,
        "_ts": pick(
            pc.coalesce(_nil(_f(asa, "ts2")), _nil(_f(asa, "ts1"))),
            _f(r5424, "ts"),
            _f(r3164, "ts"),
            _f(nf_head, "ts"),
        ),
        "host.name": pick(
            pc.coalesce(_nil(_f(asa, "host2")), _nil(_f(asa, "host"))),
            _nil(_f(r5424, "host")),
            _f(r3164, "host"),
            _nil(_f(nf_head, "host")),
        ),
        "process.name": pc.replace_substring_regex(program, r"\(.*\)$", ""),
        "process.pid": pick(nul, _nil(_f(r5424, "procid")), _nil(_f(r3164, "pid")), nul),
        "event.code": pick(_f(asa, "code"), nul, nul, nul),
        "event.severity": pick(_f(asa, "sev"), nul, nul, nul),
        # an access-log line, or any other line with no header (but a PRI), is its own message
        "message": _unwrap_repeated(
            _case(
                [*conds, pc.is_null(fmt)],
                [
                    _f(asa, "msg"),
                    _f(r5424, "msg"),
                    _f(r3164, "msg"),
                    _f(nf_head, "msg"),
                    _without_pri(raw, conds, fmt),
                ],
            )
        ),
    }
    out["process.pid"] = pc.if_else(
        pc.match_substring_regex(out["process.pid"], r"^\d{1,18}$"), out["process.pid"], None
    )
    return out


def _without_pri(raw: pa.Array, headers: list[pa.Array], fmt: pa.Array) -> pa.Array:
    """`raw` without a leading `<PRI>` (FortiGate sends `<190>date=...`, no header); the
    rewrite copies every line, so it runs only when a line no header matched starts with `<`."""
    rest = pc.is_null(fmt)
    for matched in headers:
        rest = pc.and_not(rest, pc.fill_null(matched, False))
    if not pc.any(pc.and_(rest, pc.starts_with(raw, "<"))).as_py():
        return raw
    return pc.replace_substring_regex(raw, r"^<\d{1,3}>", "")


def _unwrap_repeated(message: pa.Array) -> pa.Array:
    """`message repeated N times: [ inner ]` -> `inner` (the rewrite copies every message, so
    it runs only when some message has the wrapper)."""
    if not pc.any(pc.starts_with(message, "message repeated ")).as_py():
        return message
    return pc.replace_substring_regex(message, _REPEATED, r"\1")


def _extract_where(raw: pa.Array, mask: pa.Array, head: str) -> pa.Array:
    """The groups of the anchored `head` pattern plus `msg` (the rest of the line), on the
    rows where `mask` holds only; null elsewhere (RE2 submatch extraction is the expensive
    part, so it only runs on candidate rows and only over the header)."""
    mask = pc.fill_null(mask, False)
    rows = pc.indices_nonzero(mask)
    texts = pc.take(raw, rows)
    groups = pc.extract_regex(texts, pattern="^(?P<_head>" + head.removeprefix("^") + ")")
    names = [groups.type.field(i).name for i in range(groups.type.num_fields)]
    fields = [pc.struct_field(groups, name) for name in names]
    head_len = pc.fill_null(pc.binary_length(fields[0]), 0).to_numpy()
    matched = pa.StructArray.from_arrays(
        [*fields[1:], _after(texts, head_len)], [*names[1:], "msg"], mask=pc.is_null(groups)
    )
    position = pc.subtract(pc.cumulative_sum(mask.cast(pa.int64())), 1)
    return pc.take(matched, pc.if_else(mask, position, None))


def match_where(raw: pa.Array, mask: pa.Array, pattern: str) -> pa.Array:
    """Does `pattern` match, on the rows where `mask` holds only (false elsewhere): the regex
    runs over those rows alone."""
    mask = pc.fill_null(mask, False)
    matched = pc.match_substring_regex(pc.take(raw, pc.indices_nonzero(mask)), pattern)
    position = pc.subtract(pc.cumulative_sum(mask.cast(pa.int64())), 1)
    return pc.fill_null(pc.take(matched, pc.if_else(mask, position, None)), False)


def _after(texts: pa.Array, skip: np.ndarray) -> pa.StringArray:
    """Each text without its first `skip` bytes (a header that ends on a character boundary).

    No per-row slice kernel exists: cut each text in two pieces that share the data buffer
    (offsets interleaved: head, rest, head, rest, ...) and take the rest pieces."""
    n = len(texts)
    if n == 0:
        return pa.array([], pa.string())
    texts = texts.cast(pa.string())
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset : texts.offset + n + 1]
    both = np.empty(2 * n + 1, dtype=np.int32)
    both[0:-1:2] = offsets[:-1]
    both[1::2] = offsets[:-1] + skip.astype(np.int32)
    both[-1] = offsets[-1]
    pieces = pa.StringArray.from_buffers(2 * n, pa.py_buffer(both), texts.buffers()[2])
    return pc.take(pieces, pa.array(np.arange(1, 2 * n, 2, dtype=np.int64)))


def _base_format(raw: pa.StringArray) -> pa.Array:
    """'too_long', 'blank', 'json' or 'bad_json' where decided by the line alone, else null."""
    too_long = pc.greater(pc.binary_length(raw), MAX_LINE_BYTES)
    trimmed = pc.utf8_trim_whitespace(raw)
    blank = pc.equal(trimmed, "")
    is_json = pc.starts_with(trimmed, "{")
    complete = pc.ends_with(trimmed, "}")  # a truncated object is not worth decoding
    n = len(raw)
    return _case(
        [too_long, blank, pc.and_(is_json, complete), is_json],
        _lits(n, "too_long", "blank", "json", "bad_json"),
    )


def _case(conds: list[pa.Array], values: list[pa.Array]) -> pa.Array:
    typ = values[0].type
    filled = [pc.fill_null(c, False) for c in conds]
    names = [f"c{i}" for i in range(len(filled))]
    return pc.case_when(pa.StructArray.from_arrays(filled, names), *[v.cast(typ) for v in values])


def _lits(n: int, *values: str) -> list[pa.Array]:
    return [pa.repeat(pa.scalar(v, pa.string()), n) for v in values]


def _f(struct: pa.Array, name: str) -> pa.Array:
    return pc.struct_field(struct, name)


def _nil(values: pa.Array) -> pa.Array:
    """RFC 5424 NILVALUE '-' and empty captures become null."""
    return pc.if_else(pc.is_in(values, pa.array(["-", ""])), None, values)
