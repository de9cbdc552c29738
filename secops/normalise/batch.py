"""Normalise one batch of lines: detect, route by program/format, parse, finish, dead-letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from secops.collect import LineBatch
from secops.normalise import json_engine, json_python, winevent, zeek_tsv
from secops.normalise.definitions import EXTRA_NAMESPACES, ParserDef
from secops.normalise.detect import ACCESS, MAX_LINE_BYTES, NETFILTER, match_where, split_lines
from secops.normalise.events import EventIds, LineHashes
from secops.normalise.finish import finish_parser, to_frame
from secops.normalise.regex_engine import ROW, apply_regex
from secops.normalise.timestamps import parse_timestamps, to_arrow
from secops.schema import EVENT_COLUMNS, conform, empty_events


@dataclass(frozen=True)
class Options:
    year: int | None
    tz: str
    now: datetime
    keep_original: bool
    #: the event columns the caller keeps (None: all); the others are dropped as soon as
    #: they are parsed, before sorting and typing, and come out as null columns
    columns: frozenset[str] | None = None


class Registry:
    """Parsers by id, by syslog program and by line format."""

    def __init__(self, parsers: list[ParserDef]) -> None:
        self.by_id = {p.id: p for p in parsers}
        self.programs = {prog: p.id for p in parsers for prog in p.programs}
        self.formats = {fmt: p.id for p in parsers for fmt in p.formats}
        self.prefixes = {prefix: p.id for p in parsers for prefix in p.prefixes}


@dataclass
class BatchResult:
    events: pd.DataFrame
    parsed: dict[str, int]
    dead: pd.DataFrame  # columns file, line, reason, raw
    blank: int
    lines: int
    binary: int = 0  # dead-lettered lines with NUL or invalid UTF-8 bytes (U+FFFD once read)


def normalise_batch(
    batch: LineBatch, registry: Registry, opts: Options, ids: EventIds | LineHashes
) -> BatchResult:
    raw = batch.lines
    hdr = split_lines(raw)
    fmt = hdr["_fmt"]
    json_rows = _indices(pc.equal(fmt, "json"))
    docs = json_engine.decode(winevent.rewrite(pc.take(raw, json_rows)), opts.tz)
    if len(docs):
        fmt = pc.replace_with_mask(fmt, pc.equal(fmt, "json"), docs.kinds())
    fmt, docs, doc_rows = _zeek_tsv(batch, fmt, docs, json_rows, hdr)
    parser_of = _route(registry, fmt, hdr["_program"], hdr["message"])
    position = _positions(len(raw), doc_rows)
    tables = [
        finish_parser(
            registry.by_id[pid],
            _parse(registry.by_id[pid], rows, hdr, docs, position),
            hdr,
            batch.path,
        )
        for pid, rows in _groups(parser_of)
    ]
    if opts.columns is not None:
        tables = [_only(t, opts.columns) for t in tables]
    parsed, bad_ts = _with_timestamps(tables, opts)
    events = _events(parsed, raw, batch.path, ids, opts)
    dead, blank, binary = _dead_letters(batch, fmt, hdr["_program"], parser_of, parsed, bad_ts)
    counts = pd.Series(parsed["_parser"].to_numpy(zero_copy_only=False)).value_counts()
    parsed_counts = {str(k): int(v) for k, v in counts.items()}
    return BatchResult(events, parsed_counts, dead, blank, len(raw), binary)


def _zeek_tsv(
    batch: LineBatch,
    fmt: pa.Array,
    docs: json_engine.JsonRows,
    json_rows: pa.Array,
    hdr: dict[str, pa.Array],
) -> tuple[pa.Array, json_engine.JsonRows, pa.Array]:
    """Zeek TSV lines (read with their file's header) join the JSON rows as format `zeek` (no
    `message`, as a JSON line); their header lines count as blank, lines that disagree with
    the header as `zeek_tsv_bad`."""
    tsv = zeek_tsv.read_tsv(batch.lines, pc.equal(fmt, "unknown"), batch.path, batch.first_line)
    if tsv is None:
        return fmt, docs, json_rows
    for rows, kind in (
        (tsv.header_rows, "blank"),
        (tsv.rows, "zeek"),
        (tsv.bad_rows, "zeek_tsv_bad"),
    ):
        fmt = pc.if_else(_mask(len(fmt), rows), kind, fmt)
    hdr["message"] = pc.if_else(pc.equal(fmt, "zeek"), pa.scalar(None, pa.string()), hdr["message"])
    return fmt, docs.with_tables(tsv.tables), pa.concat_arrays([json_rows, tsv.rows])


def _positions(n: int, doc_rows: pa.Array) -> np.ndarray:
    """For each line, its row among the decoded objects (-1: none)."""
    position = np.full(n, -1, dtype=np.int64)
    position[doc_rows.to_numpy()] = np.arange(len(doc_rows))
    return position


def _only(table: pa.Table, columns: frozenset[str]) -> pa.Table:
    """The columns kept plus the bookkeeping ones (`_row`, `_parser`, `_ts`, ...)."""
    return table.select([c for c in table.column_names if c in columns or c.startswith("_")])


def _indices(mask: pa.Array) -> pa.Array:
    return pc.indices_nonzero(pc.fill_null(mask, False)).cast(pa.int64())


def _lookup(keys: pa.Array, mapping: dict[str, str]) -> pa.Array:
    if not mapping:
        return pa.nulls(len(keys), pa.string())
    index = pc.index_in(keys, value_set=pa.array(list(mapping), pa.string()))
    return pc.take(pa.array(list(mapping.values()), pa.string()), index)


def _route(registry: Registry, fmt: pa.Array, program: pa.Array, message: pa.Array) -> pa.Array:
    """Parser id per line: syslog by program (or access-log content), other formats by format."""
    by_program = _lookup(program, registry.programs)
    access_id = registry.formats.get("access")
    if access_id is not None:
        looks_access = pc.fill_null(pc.match_substring_regex(message, ACCESS), False)
        by_program = pc.if_else(
            pc.and_(pc.is_null(by_program), looks_access), access_id, by_program
        )
    netfilter_id = registry.formats.get("netfilter")
    if netfilter_id is not None:
        unrouted = pc.and_(pc.equal(fmt, "syslog"), pc.is_null(by_program))
        looks_netfilter = match_where(message, unrouted, NETFILTER)
        by_program = pc.if_else(looks_netfilter, netfilter_id, by_program)
    by_format = _lookup(fmt, registry.formats)
    parser_of = pc.if_else(pc.equal(fmt, "syslog"), by_program, by_format)
    if registry.prefixes:  # CEF:/LEEF: messages of unknown programs, or with no header
        plain = pc.is_in(fmt, value_set=pa.array(["syslog", "unknown"]))
        rows = _indices(pc.and_(plain, pc.is_null(parser_of)))
        if len(rows):
            texts = pc.take(message, rows)
            found = pa.nulls(len(rows), pa.string())
            for prefix, pid in registry.prefixes.items():
                hit = pc.fill_null(pc.starts_with(texts, prefix), False)
                found = pc.if_else(hit, pid, found)
            parser_of = pc.replace_with_mask(parser_of, _mask(len(parser_of), rows), found)
    return parser_of


def _mask(n: int, rows: pa.Array) -> pa.Array:
    mask = np.zeros(n, dtype=bool)
    mask[rows.to_numpy()] = True
    return pa.array(mask)


def _groups(parser_of: pa.Array) -> list[tuple[str, pa.Array]]:
    ids = [v for v in pc.unique(parser_of).to_pylist() if v is not None]
    return [(pid, _indices(pc.equal(parser_of, pid))) for pid in sorted(ids)]


def _parse(
    parser: ParserDef,
    rows: pa.Array,
    hdr: dict[str, pa.Array],
    docs: json_engine.JsonRows,
    position: np.ndarray,
) -> pa.Table:
    if parser.kind == "json":
        positions = pa.array(position[rows.to_numpy()])
        return json_engine.apply_json(parser, docs, positions, rows)
    return apply_regex(parser, pc.take(hdr["message"], rows), rows)


def _with_timestamps(tables: list[pa.Table], opts: Options) -> tuple[pa.Table, pa.Array]:
    """All parsed rows in line order with `@timestamp`; rows whose time is invalid split off."""
    tables = [t for t in tables if t.num_rows]
    if not tables:
        empty = pa.table(
            {
                ROW: pa.array([], pa.int64()),
                "_parser": pa.array([], pa.string()),
                "_ts": pa.array([], pa.string()),
            }
        )
        return empty.append_column(
            "@timestamp", to_arrow(pd.Series([], dtype="datetime64[ns, UTC]"))
        ), pa.array([], pa.int64())
    table = pa.concat_tables(tables, promote_options="default").sort_by(ROW)
    ts = parse_timestamps(table["_ts"].combine_chunks(), year=opts.year, tz=opts.tz, now=opts.now)
    table = table.append_column("@timestamp", to_arrow(ts))
    if table["@timestamp"].null_count == 0:
        return table, pa.array([], pa.int64())
    ok = pc.is_valid(table["@timestamp"])
    return table.filter(ok), pc.filter(table[ROW], pc.invert(ok)).combine_chunks()


def _events(
    parsed: pa.Table, raw: pa.Array, path: str, ids: EventIds | LineHashes, opts: Options
) -> pd.DataFrame:
    rows = parsed[ROW].combine_chunks()
    if len(rows) == 0:
        return empty_events()
    cols = {c: parsed[c].combine_chunks() for c in parsed.column_names if not c.startswith("_")}
    cols["event.id"] = ids.ids(path, raw, rows)
    cols["event.kind"] = pa.repeat(pa.scalar("event"), len(rows))
    cols["log.file.path"] = pa.repeat(pa.scalar(path), len(rows))
    if opts.keep_original:
        cols["event.original"] = pc.take(raw, rows)
    else:
        cols.pop("event.original", None)
    extra = sorted(c for c in cols if c.startswith(EXTRA_NAMESPACES))  # e.g. winlog.*
    return conform(to_frame(cols))[EVENT_COLUMNS + extra]


def _dead_letters(
    batch: LineBatch,
    fmt: pa.Array,
    program: pa.Array,
    parser_of: pa.Array,
    parsed: pa.Table,
    bad_ts: pa.Array,
) -> tuple[pd.DataFrame, int, int]:
    """(dead letters, blank lines, dead letters holding bytes that are no text)."""
    n = len(fmt)
    keep = np.ones(n, dtype=bool)
    keep[parsed[ROW].to_numpy()] = False
    blank = np.asarray(pc.equal(fmt, "blank").to_numpy(zero_copy_only=False), dtype=bool)
    rows = pa.array(np.flatnonzero(keep & ~blank), pa.int64())
    lines = pc.take(batch.lines, rows)
    binary = pc.match_substring(lines, "\ufffd")  # the collector's mark for NUL / bad UTF-8
    reason = _reasons(
        pc.take(fmt, rows),
        pc.take(program, rows),
        pc.take(parser_of, rows),
        pc.is_in(rows, value_set=bad_ts),
        binary,
    )
    raw = pc.utf8_slice_codeunits(lines, 0, MAX_LINE_BYTES)
    dead = pd.DataFrame(
        {
            "file": batch.path,
            "line": rows.to_numpy() + batch.first_line,
            "reason": reason.to_numpy(zero_copy_only=False),
            "raw": raw.to_numpy(zero_copy_only=False),
        }
    )
    return dead, int(blank.sum()), int(pc.sum(pc.cast(binary, pa.int64())).as_py() or 0)


def _short(values: pa.Array, most: int = 64) -> pa.Array:
    """At most `most` characters, "..." after a cut: a reason names a program, it does not
    repeat the line (a fuzzed tag of 60,000 "{" made a 60 KB reason)."""
    cut = pc.utf8_slice_codeunits(values, 0, most)
    longer = pc.greater(pc.utf8_length(values), most)
    return pc.if_else(longer, pc.binary_join_element_wise(cut, "...", ""), values)


def _reasons(
    fmt: pa.Array, program: pa.Array, parser: pa.Array, bad_ts: pa.Array, binary: pa.Array
) -> pa.Array:
    def text(prefix: str, values: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.fill_null(values, "?"), "")

    conds = [
        bad_ts,
        pc.equal(fmt, "too_long"),
        pc.is_valid(parser),
        pc.equal(fmt, "syslog"),
        pc.equal(fmt, "bad_json"),
        pc.equal(fmt, "json_too_deep"),
        pc.equal(fmt, "json_unknown"),
        pc.equal(fmt, "zeek_tsv_bad"),
        pc.and_(pc.equal(fmt, "unknown"), binary),
        pc.equal(fmt, "unknown"),
    ]
    n = len(fmt)
    lit = [
        pa.repeat(pa.scalar(s), n)
        for s in (
            "missing or invalid timestamp",
            "line too long",
            "invalid JSON",
            f"JSON nested deeper than {json_python.MAX_DEPTH} levels",
            "unrecognised JSON object",
            "Zeek TSV line: its field count differs from the #fields header",
            "binary data (NUL or invalid UTF-8 bytes)",
            "unrecognised format",
        )
    ]
    values = [
        lit[0],
        lit[1],
        text("no pattern matched in parser ", parser),
        text("no parser for program ", _short(program)),
        lit[2],
        lit[3],
        lit[4],
        lit[5],
        lit[6],
        lit[7],
        text("no parser for format ", fmt),
    ]
    struct = pa.StructArray.from_arrays(
        [pc.fill_null(c, False) for c in conds], [f"c{i}" for i in range(len(conds))]
    )
    return pc.case_when(struct, *values)
