"""JSON lines: decode once per line, classify (Suricata EVE / ECS), map fields to columns.

Decoding is the only per-line Python step (json has no vectorised RE2 form); field mapping
builds one column at a time and pattern selection (`when`) is vectorised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from secops.normalise.definitions import ParserDef
from secops.normalise.regex_engine import ROW
from secops.schema import EVENT_FIELDS, flatten

_MISSING = object()


def decode(lines: pa.Array) -> list[Any]:
    """One decoded object per line; None where the line is not valid JSON."""
    return [_loads(s) for s in lines.to_pylist()]


def classify(docs: list[Any]) -> pa.Array:
    """'eve', 'ecs', 'bad_json' (not decodable) or 'json_unknown' per decoded line."""
    return pa.array([_kind(d) for d in docs], pa.string())


def apply_json(parser: ParserDef, docs: list[Any], rows: pa.Array) -> pa.Table:
    """Mapped columns for every doc, `_pattern` = index of the first pattern whose `when` holds."""
    cols: dict[str, pa.Array] = {ROW: rows}
    if parser.auto_ecs:
        flat = [flatten(d) for d in docs]
        for name in EVENT_FIELDS:
            values = [f.get(name) for f in flat]
            if any(v is not None for v in values):
                cols[name] = _column(values, EVENT_FIELDS[name])
    for name, path in parser.map.items():
        cols[name] = _column([_get(d, path) for d in docs], EVENT_FIELDS[name])
    for path in _when_paths(parser):
        cols[f"_json.{path}"] = _column([_get(d, path) for d in docs], pa.string())
    cols["_pattern"] = _pattern_index(parser, cols, len(docs))
    return pa.table(cols)


def _pattern_index(parser: ParserDef, cols: Mapping[str, pa.Array], n: int) -> pa.Array:
    conds: list[pa.Array] = []
    for pattern in parser.patterns:
        cond = pa.repeat(pa.scalar(True), n)
        for path, value in pattern.when.items():
            cond = pc.and_(cond, pc.fill_null(pc.equal(cols[f"_json.{path}"], value), False))
        conds.append(cond)
    if not conds:
        return pa.repeat(pa.scalar(0, pa.int32()), n)
    values = [pa.repeat(pa.scalar(i, pa.int32()), n) for i in range(len(conds))]
    struct = pa.StructArray.from_arrays(conds, [f"c{i}" for i in range(len(conds))])
    return pc.case_when(struct, *values)


def _when_paths(parser: ParserDef) -> list[str]:
    paths = {path for p in parser.patterns for path in p.when}
    paths |= {
        ref[len("json.") :]
        for t in _all_templates(parser)
        for ref in t.refs
        if ref.startswith("json.")
    }
    return sorted(paths)


def _all_templates(parser: ParserDef) -> list[Any]:
    return [*parser.fields.values(), *(t for p in parser.patterns for t in p.fields.values())]


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _kind(doc: Any) -> str:
    if not isinstance(doc, dict):
        return "bad_json" if doc is None else "json_unknown"
    if "event_type" in doc:
        return "eve"
    if "@timestamp" in doc or "ecs" in doc or "event" in doc or "event.action" in doc:
        return "ecs"
    return "json_unknown"


def _get(doc: Any, path: str) -> Any:
    if isinstance(doc, dict) and path in doc:
        return doc[path]
    node = doc
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part, _MISSING)
        if node is _MISSING:
            return None
    return node


def _column(values: list[Any], typ: pa.DataType) -> pa.Array:
    if pa.types.is_integer(typ):
        return pa.array([_as_int(v) for v in values], typ)
    return pa.array([_as_text(v) for v in values], pa.string())


def _as_int(value: Any) -> int | None:
    value = value[0] if isinstance(value, list) and value else value
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _as_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
