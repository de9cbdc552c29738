"""JSON lines: decode, classify (Suricata EVE / Windows event / ECS), map fields to columns.

The fast path decodes a whole batch with `pyarrow.json` (one table, structs flattened to
dotted column names). When Arrow cannot read the batch as one table (an invalid line, a field
whose type changes between lines) the batch falls back to `json.loads` per line, which also
tells the good lines from the bad. Field mapping and pattern selection are column-wise.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from secops.normalise import json_python
from secops.normalise.definitions import EXTRA_NAMESPACES, ParserDef
from secops.normalise.regex_engine import ROW
from secops.schema import EVENT_FIELDS

CHUNK_LINES = 8192
MIN_ARROW_LINES = 64


class _Part:
    """One decoded chunk: an Arrow table (fast path) or json.loads results (fallback)."""

    def __init__(self, table: pa.Table | None, docs: list[Any] | None) -> None:
        self._table = table
        self._docs = docs
        self._flat: list[dict[str, Any]] | None = None
        self._columns: dict[str, list[Any]] | None = None
        self._cache: dict[str, pa.Array] = {}

    def __len__(self) -> int:
        return self._table.num_rows if self._table is not None else len(self._docs or [])

    def get(self, path: str) -> pa.Array:
        """The values at `path` for every line (null where absent), as an Arrow array."""
        if path not in self._cache:
            self._cache[path] = self._arrow(path) if self._table is not None else self._python(path)
        return self._cache[path]

    def kinds(self) -> pa.Array:
        """'eve', 'winlog', 'winlogbeat', 'ecs', 'bad_json' (not decodable) or 'json_unknown'
        per line."""
        if self._table is None:
            docs = zip(self._docs or [], self._flatten(), strict=True)
            return pa.array([json_python.kind(d, flat) for d, flat in docs], pa.string())
        ecs = pa.repeat(pa.scalar(False), len(self))
        for name in self.field_names():
            if name in json_python.ECS_HINTS or name.startswith(("event.", "ecs.")):
                ecs = pc.or_(ecs, self._has(name))
        eve = self._has("event_type")
        win = pc.and_(self._has("EventID"), pc.or_(self._has("Channel"), self._has("SourceName")))
        beat = pc.and_(self._has("winlog.event_id"), self._has("winlog.channel"))
        zeek = pa.repeat(pa.scalar(False), len(self))
        for name in json_python.ZEEK_HINTS:
            zeek = pc.or_(zeek, self._has(name))
        zeek = pc.and_(self._has("ts"), zeek)
        kinds = json_python.KINDS
        struct = pa.StructArray.from_arrays([eve, win, beat, zeek, ecs], list(kinds[:5]))
        lits = [pa.repeat(pa.scalar(v), len(self)) for v in kinds]
        return pc.case_when(struct, *lits)

    def _has(self, path: str) -> pa.Array:
        """Whether the line holds a value at `path` (null and "" are none, as in
        `json_python.kind`)."""
        return pc.fill_null(pc.not_equal(self.get(path), ""), False)

    def field_names(self) -> list[str]:
        if self._table is not None:
            return list(dict.fromkeys(self._table.column_names))
        return sorted({k for f in self._flatten() for k in f})

    def _arrow(self, path: str) -> pa.Array:
        assert self._table is not None
        found = [
            c.combine_chunks()
            for n, c in zip(self._table.column_names, self._table.columns, strict=True)
            if n == path
        ]
        if not found:
            return pa.nulls(len(self), pa.string())
        return pc.coalesce(*[_scalar_text(c) for c in found])

    def _python(self, path: str) -> pa.Array:
        values = self._by_path().get(path)
        if values is None:
            return pa.nulls(len(self), pa.string())
        return pa.array([json_python.as_text(v) for v in values], pa.string())

    def _by_path(self) -> dict[str, list[Any]]:
        """Values by dotted path, built in one pass: asking every path of lines with many
        distinct keys one by one cost keys x lines (fuzzed objects: 900 keys, 30 s a batch)."""
        if self._columns is None:
            flat = self._flatten()
            self._columns = {}
            for i, doc in enumerate(flat):
                for key, value in doc.items():
                    self._columns.setdefault(key, [None] * len(flat))[i] = value
        return self._columns

    def _flatten(self) -> list[dict[str, Any]]:
        if self._flat is None:
            self._flat = [
                json_python.flatten(d) if isinstance(d, dict) else {} for d in self._docs or []
            ]
        return self._flat


class JsonRows:
    """Decoded JSON lines with column access by dotted path (`get`) and a kind per line.

    Lines are decoded in chunks so that one bad line only sends its own chunk to json.loads.
    """

    def __init__(self, parts: list[_Part], too_deep: pa.Array | None = None) -> None:
        self._parts = parts
        self._too_deep = too_deep  # lines decoded as {} because they nest too deep

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)

    def with_tables(self, tables: list[pa.Table]) -> JsonRows:
        """These rows followed by the rows of `tables` (columns named by dotted path, values
        as text: Zeek TSV lines read with their header)."""
        return JsonRows([*self._parts, *(_Part(t, None) for t in tables)], self._too_deep)

    def get(self, path: str) -> pa.Array:
        return _concat([p.get(path) for p in self._parts])

    def kinds(self) -> pa.Array:
        kinds = _concat([p.kinds() for p in self._parts])
        if self._too_deep is None:
            return kinds
        return pc.if_else(self._too_deep, "json_too_deep", kinds)

    def field_names(self, positions: pa.Array | None = None) -> list[str]:
        """Every dotted path; with `positions`, those of the chunks holding these lines."""
        parts = self._parts if positions is None else self._holding(positions)
        return list(dict.fromkeys(n for p in parts for n in p.field_names()))

    def _holding(self, positions: pa.Array) -> list[_Part]:
        ends = np.cumsum([len(p) for p in self._parts])
        which = np.unique(np.searchsorted(ends, positions.to_numpy(), side="right"))
        return [self._parts[i] for i in which if i < len(self._parts)]


def _concat(arrays: list[pa.Array]) -> pa.Array:
    if not arrays:
        return pa.array([], pa.string())
    return pa.concat_arrays([a.cast(pa.string()) for a in arrays])


def decode(lines: pa.Array, tz: str = "UTC", chunk: int = CHUNK_LINES) -> JsonRows:
    """Decode JSON lines, Arrow-first (see module doc)."""
    too_deep = json_python.too_deep(lines)
    if too_deep is not None:
        lines = pc.if_else(too_deep, "{}", lines)
    parts: list[_Part] = []
    for start in range(0, len(lines), chunk):
        parts.extend(_decode_piece(lines.slice(start, chunk), tz))
    return JsonRows(parts, too_deep)


def _decode_piece(piece: pa.Array, tz: str) -> list[_Part]:
    """Arrow on the whole piece; if that fails, halve it until pieces are small, then json.loads."""
    table = _read_arrow(piece, tz)
    if table is not None:
        return [_Part(table, None)]
    if len(piece) <= MIN_ARROW_LINES:
        return [_Part(None, [json_python.loads(s) for s in piece.to_pylist()])]
    half = len(piece) // 2
    return _decode_piece(piece.slice(0, half), tz) + _decode_piece(piece.slice(half), tz)


def _read_arrow(lines: pa.Array, tz: str) -> pa.Table | None:
    if len(lines) == 0:
        return None
    data = "\n".join(lines.to_pylist()).encode("utf-8", errors="replace") + b"\n"
    options = pj.ReadOptions(block_size=max(1 << 20, len(data) + 1))
    try:
        table = _nested_first(pj.read_json(io.BytesIO(data), read_options=options))
        table = table.combine_chunks()
        for col in table.columns:
            if not pa.types.is_primitive(col.type) and not pa.types.is_string(col.type):
                _scalar_text(col.combine_chunks())  # odd shapes (lists of nulls) fail here
    except pa.ArrowException:
        return None
    if table.num_rows != len(lines):
        return None
    if tz != "UTC" and any(pa.types.is_timestamp(f.type) for f in table.schema):
        return None  # Arrow dropped the zone of naive times; let json.loads keep the text
    return table


def _nested_first(table: pa.Table) -> pa.Table:
    """Structs flattened to dotted columns, the more nested first: where a dotted key and
    nested objects name the same path ({"source": {"port": 1}, "source.port": 2}) the nested
    value wins, whatever the order of the keys (as `json_python.flatten` does for json.loads)."""
    columns = [(name, 0, col) for name, col in zip(table.column_names, table.columns, strict=True)]
    while any(pa.types.is_struct(col.type) for _, _, col in columns):
        flat: list[tuple[str, int, pa.ChunkedArray]] = []
        for name, depth, col in columns:
            if not pa.types.is_struct(col.type):
                flat.append((name, depth, col))
                continue
            children = col.flatten()
            fields = [col.type.field(i).name for i in range(col.type.num_fields)]
            flat.extend(
                (f"{name}.{f}", depth + 1, c) for f, c in zip(fields, children, strict=True)
            )
        columns = flat
    columns.sort(key=lambda c: -c[1])  # stable: key order within one depth
    return pa.table([c for _, _, c in columns], names=[n for n, _, _ in columns])


def _scalar_text(col: pa.Array) -> pa.Array:
    """Arrow column -> strings; lists give their first element, timestamps ISO text in UTC."""
    if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        return pa.array([json_python.as_text(v) for v in col.to_pylist()], pa.string())
    if pa.types.is_timestamp(col.type):
        text = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S")
        return pc.binary_join_element_wise(text, "Z", "")
    if pa.types.is_null(col.type):
        return pa.nulls(len(col), pa.string())
    if pa.types.is_boolean(col.type):
        return pc.if_else(col, "true", "false")
    return col.cast(pa.string())


def apply_json(
    parser: ParserDef, rows_json: JsonRows, positions: pa.Array, rows: pa.Array
) -> pa.Table:
    """Mapped columns for the lines at `positions`; `_pattern` = first pattern whose `when` holds."""
    cols: dict[str, pa.Array] = {ROW: rows}
    if parser.auto_ecs:  # the ECS fields and the namespaces kept beside them (winlog.*)
        for name in set(rows_json.field_names()):
            if name in EVENT_FIELDS or name.startswith(EXTRA_NAMESPACES):
                values = _nonempty(pc.take(rows_json.get(name), positions))
                if values.null_count < len(values):  # a field only other lines hold: no column
                    cols[name] = values
    for name, path in parser.map.items():
        cols[name] = pc.take(rows_json.get(path), positions)
    if parser.keep_json:  # every field of its lines as `<keep_json><name>` (Windows event data)
        for name in rows_json.field_names(positions):
            values = _nonempty(pc.take(rows_json.get(name), positions))
            if values.null_count < len(values):  # a field only other lines hold is no column
                cols[parser.keep_json + name] = values
    for path in _when_paths(parser):
        cols[f"_json.{path}"] = pc.take(rows_json.get(path), positions)
    cols["_pattern"] = _pattern_index(parser, cols, len(rows))
    return pa.table({k: _nonempty(v) for k, v in cols.items()})


def _nonempty(values: pa.Array) -> pa.Array:
    if pa.types.is_string(values.type):
        return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return values


def _pattern_index(parser: ParserDef, cols: Mapping[str, pa.Array], n: int) -> pa.Array:
    conds: list[pa.Array] = []
    for pattern in parser.patterns:
        cond = pa.repeat(pa.scalar(True), n)
        for path, value in pattern.when.items():
            cond = pc.and_(cond, pc.fill_null(pc.equal(cols[f"_json.{path}"], value), False))
        for path in pattern.has:
            cond = pc.and_(cond, pc.is_valid(cols[f"_json.{path}"]))
        conds.append(cond)
    if not conds:
        return pa.repeat(pa.scalar(0, pa.int32()), n)
    values = [pa.repeat(pa.scalar(i, pa.int32()), n) for i in range(len(conds))]
    struct = pa.StructArray.from_arrays(conds, [f"c{i}" for i in range(len(conds))])
    return pc.case_when(struct, *values)


def _when_paths(parser: ParserDef) -> list[str]:
    paths = {path for p in parser.patterns for path in (*p.when, *p.has)}
    paths |= {
        ref[len("json.") :]
        for t in _all_templates(parser)
        for ref in t.refs
        if ref.startswith("json.")
    }
    return sorted(paths)


def _all_templates(parser: ParserDef) -> list[Any]:
    return [*parser.fields.values(), *(t for p in parser.patterns for t in p.fields.values())]
