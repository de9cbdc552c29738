"""Turn one parser's raw captures into event columns: header fill, static/template fields,
lowercasing, context rules, dataset; then to a pandas frame with Arrow dtypes."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from secops.normalise.definitions import TIMESTAMP_GROUP, ParserDef, Template
from secops.normalise.events import render
from secops.normalise.regex_engine import ROW
from secops.schema import EVENT_FIELDS

#: header columns copied onto parsed rows unless the parser captured its own value
HEADER = (
    "host.name",
    "process.name",
    "process.pid",
    "event.code",
    "event.severity",
    "message",
    "_ts",
    "_program",
)

#: integer fields with a range: a value outside it is no value (null), the event stays
RANGES = {"source.port": (0, 65535), "destination.port": (0, 65535)}


def finish_parser(
    parser: ParserDef, table: pa.Table, hdr: dict[str, pa.Array], path: str
) -> pa.Table:
    cols = {c: _as_text(c, table[c].combine_chunks()) for c in table.column_names}
    rows = cols[ROW]
    n = len(rows)
    own_ts = cols.pop(TIMESTAMP_GROUP, None)
    for name in HEADER:
        from_header = pc.take(hdr[name], rows)
        cols[name] = (
            pc.coalesce(cols[name].cast(pa.string()), from_header) if name in cols else from_header
        )
    _apply_fields(parser, cols, n)
    # the event time: `@timestamp` (a JSON map, or a field template such as FortiGate's
    # "{_date}T{_time}{_tz}"), else the `timestamp` group / kv key, else the header's
    for stamp in (own_ts, cols.pop("@timestamp", None)):
        if stamp is not None:
            cols["_ts"] = pc.coalesce(stamp.cast(pa.string()), cols["_ts"])
    for name in parser.lowercase:
        if name in cols:
            cols[name] = pc.utf8_lower(cols[name])
    if "network.transport" in cols:
        cols["network.transport"] = iana_transport(cols["network.transport"])
    _apply_context(parser, cols, n, path)
    dataset = cols.get("event.dataset", pa.nulls(n, pa.string()))
    cols["event.dataset"] = pc.fill_null(dataset, parser.id)
    cols["_parser"] = pa.repeat(pa.scalar(parser.id), n)
    return pa.table(cols)


#: transport names devices spell their own way -> the IANA keyword ECS asks for
_IANA_TRANSPORT = r"^(?i:icmpv6|icmp6|ipv6-icmp)$"


def iana_transport(values: pa.Array) -> pa.Array:
    """`network.transport` as IANA names it (ICMPv6 -> ipv6-icmp; others as given)."""
    return pc.replace_substring_regex(values.cast(pa.string()), _IANA_TRANSPORT, "ipv6-icmp")


def _as_text(name: str, values: pa.Array) -> pa.Array:
    """Parser outputs meet as strings (typed once, in to_frame); row bookkeeping stays int."""
    if name in (ROW, "_pattern") or pa.types.is_string(values.type):
        return values
    return values.cast(pa.string())


def _apply_fields(parser: ParserDef, cols: dict[str, pa.Array], n: int) -> None:
    """Pattern fields override captures; parser-level fields fill what is still empty."""
    pattern_index = cols["_pattern"]
    names = {name for p in parser.patterns for name in p.fields}
    present = set(pc.unique(pattern_index).to_pylist())
    is_pattern = {
        i: pc.fill_null(pc.equal(pattern_index, i), False)
        for i, p in enumerate(parser.patterns)
        if i in present and p.fields
    }
    rendered: dict[str, pa.Array] = {}
    for name in sorted(names):
        conds, values = [], []
        for i, pattern in enumerate(parser.patterns):
            if name in pattern.fields and i in is_pattern:
                conds.append(is_pattern[i])
                values.append(render(pattern.fields[name], cols, n))
        current = cols.get(name, pa.nulls(n, pa.string())).cast(pa.string())
        if not conds:  # no pattern that sets it matched in this batch
            rendered[name] = current
            continue
        struct = pa.StructArray.from_arrays(conds, [f"c{i}" for i in range(len(conds))])
        rendered[name] = pc.case_when(struct, *values, current)
    cols.update(rendered)
    for name, template in parser.fields.items():
        value = render(template, cols, n)
        cols[name] = pc.coalesce(cols[name].cast(pa.string()), value) if name in cols else value


def _apply_context(parser: ParserDef, cols: dict[str, pa.Array], n: int, path: str) -> None:
    for rule in parser.context:
        in_path = rule.path_contains is not None and rule.path_contains in path
        mask = pa.repeat(pa.scalar(in_path), n)
        if rule.program is not None:
            mask = pc.or_(mask, pc.fill_null(pc.equal(cols["_program"], rule.program), False))
        for name, template in rule.fields.items():
            _fill_where(cols, name, mask, template, n)


def _fill_where(cols: dict[str, pa.Array], name: str, mask: pa.Array, t: Template, n: int) -> None:
    current = cols.get(name, pa.nulls(n, pa.string())).cast(pa.string())
    cols[name] = pc.if_else(pc.and_(mask, pc.is_null(current)), render(t, cols, n), current)


def to_frame(cols: dict[str, pa.Array]) -> pd.DataFrame:
    """Arrow columns -> frame; strings become the schema type (ints parsed, '' -> null)."""
    out: dict[str, pa.Array] = {}
    for name, arr in cols.items():
        want = EVENT_FIELDS.get(name)
        if want is not None and pa.types.is_integer(want) and pa.types.is_string(arr.type):
            arr = _in_range(_to_int(arr, want), *RANGES.get(name, (None, None)))
        elif pa.types.is_string(arr.type):
            empty = pc.equal(arr, "")
            if pc.any(empty).as_py():
                arr = pc.if_else(empty, pa.scalar(None, pa.string()), arr)
        out[name] = arr
    # one Arrow table to pandas: a Series per column cost ~0.5 ms each, per batch
    return pa.table(out).to_pandas(types_mapper=pd.ArrowDtype) if out else pd.DataFrame()


def _in_range(values: pa.Array, low: int | None, high: int | None) -> pa.Array:
    """Null where a value lies outside [low, high] (a port of -1 or 1700000000 is no port)."""
    if low is None or high is None:
        return values
    ok = pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))
    return pc.if_else(pc.fill_null(ok, True), values, pa.scalar(None, values.type))


def _to_int(arr: pa.Array, want: pa.DataType) -> pa.Array:
    plain = pc.and_(pc.ascii_is_decimal(arr), pc.less_equal(pc.utf8_length(arr), 18))
    if pc.all(pc.fill_null(plain, True)).as_py():  # the usual case: digits or null
        return pc.if_else(pc.fill_null(plain, False), arr, pa.scalar(None, pa.string())).cast(want)
    ok = pc.fill_null(pc.match_substring_regex(arr, r"^\s*-?\d{1,18}\s*$"), False)
    return pc.if_else(ok, pc.utf8_trim_whitespace(arr), pa.scalar(None, pa.string())).cast(want)
