"""Collect events already in an Elasticsearch cluster: point-in-time + search_after, one page
at a time, into frames conformed to the common stream (secops/schema.py).

Documents are mapped by shape (see `SHAPES`): secops' own events (`secops parse` output),
Filebeat / Elastic Agent `system.auth` (sshd, sudo), Filebeat / Elastic Agent Suricata EVE, and
any ECS document that already carries an `event.action`. Documents of no known shape (or without
a valid `@timestamp`) are counted per index in the ParseReport like unparsable lines and, with a
dead-letter file, written there as {"file": index, "line": _id, "reason", "raw"}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from secops import validate
from secops.elastic import client_errors, describe
from secops.errors import CollectError, ConfigError
from secops.normalise import dead_letter_line
from secops.schema import EVENT_COLUMNS, conform, empty_events

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from secops.normalise.report import ParseReport  # a type only: collect never runs normalise

PAGE = 5_000
KEEP_ALIVE = "2m"
UNKNOWN = "unrecognised ECS shape (no event.action and no known module fields)"
NO_TIME = "missing or invalid @timestamp"
#: producer fields read besides the schema columns
EXTRA = [
    "host.hostname",
    "system.auth.ssh.event",
    "system.auth.ssh.method",
    "system.auth.sudo.command",
    "system.auth.sudo.user",
    "system.auth.sudo.error",
    "suricata.eve.event_type",
    "suricata.eve.app_proto",
    "suricata.eve.alert.signature",
    "suricata.eve.alert.signature_id",
    "suricata.eve.alert.category",
    "suricata.eve.alert.severity",
]
_KQL_OPS = re.compile(r"(?<!\S)(and|or|not)(?=\s)", re.IGNORECASE)


@dataclass(frozen=True)
class Search:
    index: str
    since: str | None = None
    until: str | None = None
    query: str | None = None
    page_size: int = PAGE

    def body_query(self) -> dict[str, Any]:
        """The filter: time range on @timestamp plus the user's query (DSL JSON or KQL-ish)."""
        must: list[dict[str, Any]] = []
        rng = {k: _time(v) for k, v in (("gte", self.since), ("lt", self.until)) if v}
        if rng:
            must.append({"range": {"@timestamp": rng}})
        if self.query:
            must.append(user_query(self.query))
        return {"bool": {"filter": must}} if must else {"match_all": {}}


def _time(value: str) -> str:
    """A duration ago (validate.duration_ms) as date math built from its parsed value, in the
    largest unit that holds it whole ('2h' -> 'now-2h', '90m' -> 'now-90m'); anything else is
    an absolute time, passed as it is."""
    try:
        ms = validate.duration_ms(value)
    except ConfigError:
        return value.strip()
    for unit in ("w", "d", "h", "m", "s"):  # Elasticsearch's date math units (no ms)
        count, rest = divmod(ms, validate.DURATION_UNITS_MS[unit])
        if not rest:
            return f"now-{count}{unit}"
    raise CollectError(f"since {value!r}: Elasticsearch date math counts whole seconds")


def user_query(text: str) -> dict[str, Any]:
    """A JSON object is Query DSL; other text is KQL-like (`a: x and b: y`) -> query_string."""
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise CollectError(f"--query is not valid JSON: {exc}") from None
        return doc.get("query", doc) if isinstance(doc, dict) else {"match_all": {}}
    lucene = _KQL_OPS.sub(lambda m: m.group(1).upper(), text)
    return {"query_string": {"query": lucene, "default_operator": "AND"}}


def iter_es_events(
    client: Elasticsearch,
    search: Search,
    *,
    report: ParseReport,
    dead_letter: str | Path | None = None,
) -> Iterator[pd.DataFrame]:
    """One conformed frame per page, oldest first; the point in time is always closed.

    `report` (a secops.normalise.ParseReport) counts documents per index and shape.
    """
    try:
        pit = client.open_point_in_time(index=search.index, keep_alive=KEEP_ALIVE)["id"]
    except client_errors() as exc:
        raise CollectError(f"cannot read events from '{search.index}': {describe(exc)}") from None
    try:
        yield from _pages(client, search, pit, report, dead_letter)
    finally:
        try:
            client.close_point_in_time(id=pit)
        except client_errors():
            pass


def _pages(
    client: Elasticsearch,
    search: Search,
    pit: str,
    report: ParseReport,
    dead_letter: str | Path | None,
) -> Iterator[pd.DataFrame]:
    after: list[Any] | None = None
    query = search.body_query()
    while True:
        try:
            resp = client.search(
                pit={"id": pit, "keep_alive": KEEP_ALIVE},
                query=query,
                size=search.page_size,
                sort=[
                    {"@timestamp": {"order": "asc", "unmapped_type": "date"}},
                    {"_shard_doc": "asc"},
                ],
                search_after=after,
                source_includes=[*EVENT_COLUMNS, *EXTRA],
                track_total_hits=False,
            )
        except client_errors() as exc:
            raise CollectError(f"reading '{search.index}' failed: {describe(exc)}") from None
        pit = resp.get("pit_id", pit)
        hits = resp["hits"]["hits"]
        if not hits:
            return
        yield to_events(hits, report, dead_letter)
        after = hits[-1]["sort"]


def to_events(
    hits: list[dict[str, Any]], report: ParseReport, dead_letter: str | Path | None = None
) -> pd.DataFrame:
    """Search hits -> a conformed events frame; unknown shapes counted and dead-lettered."""
    frame = _frame([h.get("_source", {}) for h in hits])
    frame["_index"] = [h["_index"] for h in hits]
    frame["_id"] = [h["_id"] for h in hits]
    shape = _shape(frame)
    frame = _map(frame, shape)
    # mixed ISO forms (with and without fractions) in one page: parse each, never infer one
    stamps = _col(frame, "@timestamp")
    frame["@timestamp"] = pd.to_datetime(stamps, utc=True, errors="coerce", format="ISO8601")
    events = conform(frame)
    bad = (shape == "unknown") | events["@timestamp"].isna()
    _record(hits, frame, shape, bad, report, dead_letter)
    keep = events.loc[~bad, EVENT_COLUMNS].reset_index(drop=True)
    return keep if len(keep) else empty_events()


def _frame(sources: list[dict[str, Any]]) -> pd.DataFrame:
    """Nested documents -> flat dotted columns, in Arrow (C) when the types agree."""
    try:
        table = pa.Table.from_struct_array(pa.array(sources))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        frame = pd.json_normalize(sources)  # one field with several JSON types
        frame.index = pd.RangeIndex(len(frame))
        return _first_of_lists(frame)
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    columns = {}
    for name in table.column_names:
        col = table[name].combine_chunks()
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            first = [v[0] if v else None for v in col.to_pylist()]  # ECS arrays: rare columns
            columns[name] = pd.Series(first, dtype=object)
        elif pa.types.is_null(col.type):
            columns[name] = pd.Series([None] * len(col), dtype=object)
        else:
            columns[name] = pd.Series(col, dtype=pd.ArrowDtype(col.type))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(sources)))


def _first_of_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """ECS allows arrays almost anywhere; the stream has one value per column."""
    for col in frame.columns:
        if frame[col].dtype == object:
            values = frame[col]
            is_list = values.map(lambda v: isinstance(v, list))
            if is_list.any():
                frame[col] = values.where(
                    ~is_list, values[is_list].map(lambda v: v[0] if v else None)
                )
    return frame


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _shape(frame: pd.DataFrame) -> pd.Series:
    """secops | system.auth | suricata | ecs | unknown, per row."""
    dataset = _col(frame, "event.dataset").astype(object)
    module = dataset.where(dataset.notna(), "").astype(str)
    auth = module.eq("system.auth") | _col(frame, "system.auth.ssh.event").notna()
    auth |= _col(frame, "system.auth.sudo.command").notna()
    suricata = module.eq("suricata.eve") | _col(frame, "suricata.eve.event_type").notna()
    has_action = _col(frame, "event.action").notna()
    shape = pd.Series("unknown", index=frame.index, dtype=object)
    shape[has_action] = "ecs"
    shape[has_action & _col(frame, "event.id").notna()] = "secops"
    shape[auth] = "system.auth"
    shape[suricata] = "suricata"
    return shape


def _set(frame: pd.DataFrame, mask: pd.Series, col: str, value: Any) -> None:
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    if col not in frame.columns:
        frame[col] = pd.Series(None, index=frame.index, dtype=object)
    frame[col] = frame[col].astype(object)
    frame.loc[mask, col] = value


def _map(frame: pd.DataFrame, shape: pd.Series) -> pd.DataFrame:
    frame = frame.copy()
    if "host.name" not in frame.columns or "host.hostname" in frame.columns:
        _set(frame, _col(frame, "host.name").isna(), "host.name", _col(frame, "host.hostname"))
    _auth(frame, shape == "system.auth")
    _suricata(frame, shape == "suricata")
    _set(frame, _col(frame, "event.id").isna(), "event.id", frame["_id"])
    _set(frame, _col(frame, "event.kind").isna(), "event.kind", "event")
    _set(frame, _col(frame, "event.dataset").isna(), "event.dataset", "ecs")
    return frame


def _auth(frame: pd.DataFrame, rows: pd.Series) -> None:
    """Filebeat / Elastic Agent system.auth -> the sshd / sudo vocabulary."""
    ssh = _col(frame, "system.auth.ssh.event").astype(object).where(rows)
    for value, outcome in (("Failed", "failure"), ("Accepted", "success")):
        hit = ssh.eq(value).fillna(False).astype(bool)
        _set(frame, hit, "event.action", "ssh_login")
        _set(frame, hit, "event.outcome", outcome)
        _set(frame, hit, "event.category", "authentication")
        _set(frame, hit, "process.name", "sshd")
    invalid = ssh.eq("Invalid").fillna(False).astype(bool)
    _set(frame, invalid, "event.action", "ssh_invalid_user")
    _set(frame, invalid, "event.outcome", "failure")
    _set(frame, invalid, "event.category", "authentication")
    cmd = _col(frame, "system.auth.sudo.command").notna() & rows
    error = _col(frame, "system.auth.sudo.error").astype(object)
    failed = cmd & error.notna()
    not_allowed = failed & error.astype(str).str.contains("NOT in sudoers|not allowed", na=False)
    _set(frame, cmd, "event.action", "sudo_command")
    _set(frame, cmd, "event.outcome", "success")
    _set(frame, cmd, "event.category", "process")
    _set(frame, failed, "event.action", "sudo_auth_failure")
    _set(frame, failed, "event.outcome", "failure")
    _set(frame, failed, "event.category", "authentication")
    _set(frame, not_allowed, "event.action", "sudo_not_allowed")
    _set(frame, not_allowed, "event.category", "process")
    _set(frame, cmd, "process.name", "sudo")
    _set(frame, cmd, "process.command_line", _col(frame, "system.auth.sudo.command"))
    _set(frame, cmd, "user.effective.name", _col(frame, "system.auth.sudo.user"))
    unknown = rows & _col(frame, "event.action").isna()
    _set(frame, rows & ~unknown, "event.dataset", "system.auth")


def _suricata(frame: pd.DataFrame, rows: pd.Series) -> None:
    """Filebeat / Elastic Agent Suricata EVE -> the suricata vocabulary."""
    kind = _col(frame, "suricata.eve.event_type").astype(object)
    kind = kind.where(kind.notna(), _col(frame, "event.kind").map({"alert": "alert"}))
    kind = kind.where(rows)
    known = kind.notna()
    _set(frame, known, "event.action", "eve_" + kind[known].astype(str))
    _set(frame, known, "event.category", "network")
    for value, action in (("flow", "flow"), ("ssh", "ssh_session_observed")):
        _set(frame, kind.eq(value).fillna(False).astype(bool), "event.action", action)
    alert = kind.eq("alert").fillna(False).astype(bool)
    _set(frame, alert, "event.action", "ids_alert")
    _set(frame, alert, "event.category", "intrusion_detection")
    for ecs, eve in (
        ("rule.name", "signature"),
        ("rule.id", "signature_id"),
        ("rule.category", "category"),
        ("event.severity", "severity"),
    ):
        data = _col(frame, f"suricata.eve.alert.{eve}")
        if eve == "signature_id":  # a number with gaps comes back as float: 2024001.0
            data = pd.to_numeric(data, errors="coerce").astype("Int64").astype("string")
        _set(frame, alert & _col(frame, ecs).isna(), ecs, data)
    proto = known & _col(frame, "network.protocol").isna()
    _set(frame, proto, "network.protocol", _col(frame, "suricata.eve.app_proto"))
    _set(frame, known, "event.outcome", "unknown")
    _set(frame, known, "observer.product", "Suricata")
    _set(frame, known, "event.dataset", "suricata")
    if "network.transport" in frame.columns:
        frame["network.transport"] = frame["network.transport"].astype(object).str.lower()


def _record(
    hits: list[dict[str, Any]],
    frame: pd.DataFrame,
    shape: pd.Series,
    bad: pd.Series,
    report: ParseReport,
    dead_letter: str | Path | None,
) -> None:
    if dead_letter is not None:
        report.dead_letter_path = str(dead_letter)
    for index, part in frame.assign(_shape=shape, _bad=bad).groupby("_index", sort=True):
        parsed = {
            str(k): int(n) for k, n in part.loc[~part["_bad"], "_shape"].value_counts().items()
        }
        report.add(f"es:{index}", len(part), 0, parsed, int(part["_bad"].sum()))
    if dead_letter is None or not bad.any():
        return
    with open(dead_letter, "a", encoding="utf-8") as out:
        for i in bad[bad].index:
            reason = UNKNOWN if shape[i] == "unknown" else NO_TIME
            raw = json.dumps(hits[i].get("_source", {}), sort_keys=True, default=str)
            out.write(dead_letter_line(hits[i]["_index"], hits[i]["_id"], reason, raw))
