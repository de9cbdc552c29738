"""Apply a `regex` parser to the messages of one program/format group, on whole arrays.

Patterns are tried in order on the rows no earlier pattern matched (first match wins);
`pc.match_substring_regex` picks the rows, `pc.extract_regex` pulls the named groups.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from secops.normalise.definitions import ParserDef, PatternDef, group_field

ROW = "_row"


def apply_regex(parser: ParserDef, message: pa.Array, rows: pa.Array) -> pa.Table:
    """Parsed rows as a table: `_row` (from `rows`), `_pattern` and captured/static fields.

    `message` and `rows` are aligned; rows no pattern matched are absent from the result.
    """
    tables: list[pa.Table] = []
    remaining = pa.array(range(len(message)), pa.int64())
    for index, pattern in enumerate(parser.patterns):
        if len(remaining) == 0:
            break
        texts = pc.take(message, remaining)
        hit = pc.fill_null(pc.match_substring_regex(texts, pattern=pattern.regex), False)
        matched = pc.filter(remaining, hit)
        if len(matched):
            table = _captures(pattern, index, pc.take(message, matched), pc.take(rows, matched))
            tables.append(_with_kv(parser, table, pc.take(message, matched)))
        remaining = pc.filter(remaining, pc.invert(hit))
    if not tables:
        return pa.table({ROW: pa.array([], pa.int64()), "_pattern": pa.array([], pa.int32())})
    return pa.concat_tables(tables, promote_options="default")


def _captures(pattern: PatternDef, index: int, texts: pa.Array, rows: pa.Array) -> pa.Table:
    cols: dict[str, pa.Array] = {
        ROW: rows,
        "_pattern": pa.repeat(pa.scalar(index, pa.int32()), len(rows)),
    }
    if pattern.captures:
        groups = pc.extract_regex(texts, pattern=pattern.regex)
        for name in pattern.captures:
            cols[group_field(name)] = _empty_to_null(pc.struct_field(groups, name))
    return pa.table(cols)


def _with_kv(parser: ParserDef, table: pa.Table, texts: pa.Array) -> pa.Table:
    """`parser.kv` fields read from the `key=value` pairs of the `_kv` capture (or the whole
    text) where the pattern left them empty. A value runs to the next `<separator>key=` or the
    end; surrounding double quotes go, and CEF's escapes (`\\=`, `\\\\`) are undone."""
    if not parser.kv:
        return table
    pairs = table["_kv"].combine_chunks() if "_kv" in table.column_names else texts
    sep = parser.kv_separator
    for name, key in parser.kv.items():
        regex = rf"(?:^|{sep}){re.escape(key)}=(?P<v>\"[^\"]*\"|.*?)\s*(?:{sep}+[\w.\[\]-]+=|$)"
        value = pc.struct_field(pc.extract_regex(pairs, pattern=regex), "v")
        value = pc.replace_substring_regex(value, r'^"(.*)"$', r"\1")
        value = pc.replace_substring_regex(value, r"\\([=\\])", r"\1")
        value = _empty_to_null(value)
        if name in table.column_names:
            value = pc.coalesce(table[name].combine_chunks(), value)
            table = table.drop_columns([name])
        table = table.append_column(name, value)
    return table


def _empty_to_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)
