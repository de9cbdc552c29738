"""The json.loads side of JSON lines, kept in step with the Arrow side (json_engine): one
bad line sends its chunk here, and a line must read alike either way (the fuzz found numbers,
kinds, dotted keys, surrogates and deep nesting that did not).

Public: `loads`, `flatten`, `kind`, `as_text`, `too_deep`, MAX_DEPTH, ECS_HINTS, ZEEK_HINTS.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: objects and arrays nested deeper are invalid JSON here (real events nest under 10)
MAX_DEPTH = 256
ECS_HINTS = ("@timestamp", "ecs", "event")
#: with `ts`, a field only Zeek logs carry (connection uid, log path, notice, file, x509 id)
ZEEK_HINTS = ("uid", "_path", "note", "fuid", "id.orig_h", "certificate.serial")
#: the kinds of JSON line, in the order they are told apart (the last: none of them)
KINDS = ("eve", "winlog", "winlogbeat", "zeek", "ecs", "json_unknown")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(lines: pa.Array) -> pa.Array | None:
    """Lines whose objects and arrays nest deeper than MAX_DEPTH (None when no line does).

    Decided on the text, the same whichever decoder reads the line's chunk: Arrow reads any
    depth, while json.loads and the recursive steps after it stop at Python's stack limit."""
    brackets = pc.add(pc.count_substring(lines, "["), pc.count_substring(lines, "{"))
    candidates = pc.greater(brackets, MAX_DEPTH)
    if not pc.any(candidates).as_py():
        return None
    rows = pc.indices_nonzero(candidates).to_numpy()
    deep = np.zeros(len(lines), dtype=bool)
    deep[rows] = [_depth(lines[int(i)].as_py()) > MAX_DEPTH for i in rows]
    return pa.array(deep)


def _depth(text: str) -> int:
    """How deep the brackets of a JSON text nest (brackets in strings do not count)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def flatten(doc: dict[str, Any]) -> dict[str, Any]:
    """A decoded object's fields by dotted path. A path named twice (a dotted key beside
    nested objects) takes the first value in `json_engine._nested_first` order (more nested first) that
    Arrow would not hold as null, as `pc.coalesce` over those columns does."""
    found: dict[str, list[tuple[int, Any]]] = {}
    stack: list[tuple[str, int, dict[str, Any]]] = [("", 0, doc)]
    while stack:
        prefix, depth, node = stack.pop()
        for key, value in node.items():
            if isinstance(value, dict):
                stack.append((f"{prefix}{key}.", depth + 1, value))
            else:
                found.setdefault(f"{prefix}{key}", []).append((depth, value))
    return {name: _coalesce(values) for name, values in found.items()}


def _coalesce(values: list[tuple[int, Any]]) -> Any:
    if len(values) == 1:
        return values[0][1]
    ordered = [v for _, v in sorted(values, key=lambda dv: -dv[0])]
    held = [v for v in ordered if v is not None and (not isinstance(v, list) or as_text(v))]
    return held[0] if held else ordered[0]


def loads(text: str) -> Any:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if _SURROGATE_ESCAPE.search(text):  # "\ud800" alone decodes to a str Arrow cannot hold
        return _without_surrogates(doc)
    return doc


def _without_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate (keys too) replaced by U+FFFD, as bad bytes are."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def kind(doc: Any, flat: dict[str, Any]) -> str:
    """As `_Part.kinds` decides on Arrow columns: by fields that hold a value (`"EventID": []`
    or `null` is no EventID), `flat` being the doc's fields by dotted path."""
    if not isinstance(doc, dict):
        return "bad_json" if doc is None else "json_unknown"

    def has(path: str) -> bool:
        return as_text(flat.get(path)) is not None

    if has("event_type"):
        return "eve"
    if has("EventID") and (has("Channel") or has("SourceName")):
        return "winlog"
    if has("winlog.event_id") and has("winlog.channel"):
        return "winlogbeat"
    if has("ts") and any(has(k) for k in ZEEK_HINTS):
        return "zeek"
    if any(has(k) for k in flat if k in ECS_HINTS or k.startswith(("event.", "ecs."))):
        return "ecs"
    return "json_unknown"


def as_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) or (
        isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX
    ):
        return _double_text(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _double_text(value: float) -> str:
    """A number as Arrow writes a double (22.0 -> "22", 1e15 -> "1e+15"; Arrow reads an
    integer beyond int64 as a double too), so that a line reads alike whichever decoder its
    chunk takes (json.loads gave port "22.0", no port, where Arrow gave 22)."""
    try:
        number = float(value)
    except OverflowError:  # 10**400
        number = math.inf if value > 0 else -math.inf
    return str(pa.scalar(number, pa.float64()).cast(pa.string()).as_py())
