"""Zeek TSV logs: the `#separator`/`#fields`/`#types` header of a file gives each data line
its field names, so the lines read as the JSON objects Zeek writes with `LogAscii::use_json`.

A header holds for the lines after it, in this batch and the next ones of the same input
(`_LAST`, per path); a batch that starts inside a file (a later batch, a parallel chunk)
without having seen the header reads it from the top of the file. The header lines themselves
carry no event and are counted as blank lines. Values are decoded as Zeek writes them: `-`
(unset) and `(empty)` are null, `T`/`F` booleans read `true`/`false` as in JSON, `\\xHH`
escapes are bytes, and a set or vector keeps its first element (as a JSON list does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from secops.collect import head_lines

HEADER_BYTES = 64 << 10
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


@dataclass(frozen=True)
class Header:
    fields: tuple[str, ...]
    types: tuple[str, ...] = ()
    separator: str = "\t"
    set_separator: str = ","
    empty: str = "(empty)"
    unset: str = "-"
    path: str | None = None


@dataclass(frozen=True)
class TsvRows:
    """The Zeek TSV lines of a batch: header lines, data lines read as one table each run of
    lines under one header, and lines whose field count disagrees with their header."""

    header_rows: pa.Array
    rows: pa.Array  # line index of each table row, in table order
    tables: list[pa.Table]
    bad_rows: pa.Array


#: the header last seen per input path (a later batch of the same input goes on with it)
_LAST: dict[str, Header] = {}


def read_tsv(lines: pa.Array, candidates: pa.Array, path: str, first_line: int) -> TsvRows | None:
    """The Zeek TSV lines among `candidates` (lines no other format claimed), or None."""
    if not pc.any(candidates).as_py():
        return None
    hashed = pc.fill_null(pc.and_(candidates, pc.starts_with(lines, "#")), False)
    tabbed = pc.fill_null(pc.and_(candidates, pc.match_substring(lines, "\t")), False)
    if not pc.any(tabbed).as_py():
        return None
    header_at = np.flatnonzero(hashed.to_numpy(zero_copy_only=False))
    starts, headers = _headers(lines, header_at)
    before = _LAST.get(path) or (_file_header(path) if first_line > 1 else None)
    if not headers and before is None:
        return None
    if headers:
        _LAST[path] = headers[-1]
    data = np.flatnonzero(tabbed.to_numpy(zero_copy_only=False) & ~_mask(len(lines), header_at))
    which = np.searchsorted(np.asarray(starts, dtype=np.int64), data, side="right") - 1
    rows, tables, bad = [], [], []
    for k in np.unique(which):
        header = headers[k] if k >= 0 else before
        picked = data[which == k]
        if header is None:
            continue
        ok, table = _table(pc.take(lines, pa.array(picked)), header)
        rows.append(picked[ok])
        bad.append(picked[~ok])
        tables.append(table)
    return TsvRows(
        pa.array(header_at, pa.int64()),
        pa.array(_cat(rows), pa.int64()),
        tables,
        pa.array(_cat(bad), pa.int64()),
    )


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype=np.int64)


def _mask(n: int, at: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[at] = True
    return mask


def _headers(lines: pa.Array, at: np.ndarray) -> tuple[list[int], list[Header]]:
    """For each run of consecutive `#` lines that names `#fields`: its last line's index and
    the header its directives (and those before it) make."""
    starts: list[int] = []
    headers: list[Header] = []
    seen: dict[str, str] = {}
    for n, i in enumerate(at):
        text = lines[int(i)].as_py()
        name, _, value = text[1:].partition(_directive_separator(text, seen))
        seen[name] = value
        if name == "fields":
            seen["_new"] = "1"
        last_of_run = n + 1 == len(at) or at[n + 1] != i + 1
        if last_of_run and seen.pop("_new", None):
            starts.append(int(i))
            headers.append(_header(seen))
    return starts, headers


def _directive_separator(text: str, seen: dict[str, str]) -> str:
    if text.startswith("#separator "):
        return " "
    return _unescape_text(seen.get("separator", "\\x09"))


def _header(seen: dict[str, str]) -> Header:
    sep = _unescape_text(seen.get("separator", "\\x09"))
    types = tuple(seen["types"].split(sep)) if "types" in seen else ()
    return Header(
        fields=tuple(seen["fields"].split(sep)),
        types=types,
        separator=sep,
        set_separator=seen.get("set_separator", ","),
        empty=seen.get("empty_field", "(empty)"),
        unset=seen.get("unset_field", "-"),
        path=seen.get("path"),
    )


def _file_header(path: str) -> Header | None:
    """The header at the top of `path` (None when the file does not start with one)."""
    head = head_lines(path, 0, 64, size=HEADER_BYTES)
    if head is None or len(head) == 0 or not str(head[0].as_py()).startswith("#separator"):
        return None
    hashed = pc.fill_null(pc.starts_with(head, "#"), False)
    at = np.flatnonzero(hashed.to_numpy(zero_copy_only=False))
    _, headers = _headers(head, at)
    return headers[-1] if headers else None


def _table(texts: pa.Array, header: Header) -> tuple[np.ndarray, pa.Table]:
    """(lines whose field count matches, their values as one string column per field)."""
    parts = pc.split_pattern(texts, header.separator)
    ok = pc.equal(pc.list_value_length(parts), len(header.fields)).to_numpy(zero_copy_only=False)
    good = pc.filter(parts, pa.array(ok))
    columns = {
        name: _value(pc.list_element(good, i), _type(header, i), header)
        for i, name in enumerate(header.fields)
    }
    if header.path is not None:
        columns["_path"] = pa.repeat(pa.scalar(header.path), len(good))
    return ok, pa.table(columns)


def _type(header: Header, i: int) -> str:
    return header.types[i] if i < len(header.types) else "string"


def _value(values: pa.Array, kind: str, header: Header) -> pa.Array:
    values = pc.if_else(
        pc.is_in(values, pa.array([header.unset, header.empty])),
        pa.scalar(None, pa.string()),
        values,
    )
    if kind.startswith(("set[", "vector[")):
        values = pc.list_element(pc.split_pattern(values, header.set_separator, max_splits=1), 0)
    elif kind == "bool":
        values = pc.if_else(
            pc.equal(values, "T"), "true", pc.if_else(pc.equal(values, "F"), "false", values)
        )
    escaped = pc.fill_null(pc.match_substring(values, "\\x"), False)
    if pc.any(escaped).as_py():
        values = pc.if_else(escaped, pa.array(_unescape(values.to_pylist())), values)
    return values


def _unescape(values: list[str | None]) -> list[str | None]:
    return [None if v is None else _unescape_text(v) for v in values]


def _unescape_text(text: str) -> str:
    raw = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", errors="replace")
