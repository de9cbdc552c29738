"""The embedded local store: SQLite under the data directory, one row per finding id.

Re-running over the same input overwrites (same ids); a finding that grows keeps its id,
its first-seen time and its triage state, and takes the new evidence and end time.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secops.errors import SinkError

SCHEMA = """
CREATE TABLE IF NOT EXISTS findings (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL,
    risk REAL NOT NULL,
    suppressed INTEGER NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    first_seen TEXT NOT NULL,
    updated TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_start ON findings(start);
CREATE INDEX IF NOT EXISTS findings_rule ON findings(rule_id);
CREATE TABLE IF NOT EXISTS triage (
    id TEXT PRIMARY KEY,
    assignee TEXT,
    duplicate_of TEXT,
    acknowledged_at TEXT,
    closed_at TEXT,
    updated TEXT NOT NULL,
    history TEXT NOT NULL DEFAULT '[]'
);
"""
#: the analyst's state (secops.triage); a separate table, so re-runs never touch it.
TRIAGE_COLUMNS = ("assignee", "duplicate_of", "acknowledged_at", "closed_at")
SELECT = """
SELECT f.doc, f.status, f.first_seen, t.assignee, t.duplicate_of, t.acknowledged_at,
       t.closed_at, t.history
FROM findings f LEFT JOIN triage t ON t.id = f.id WHERE 1=1"""

UPSERT = """
INSERT INTO findings (id, rule_id, severity, risk, suppressed, start, end, first_seen, updated, doc)
VALUES (:id, :rule_id, :severity, :risk, :suppressed, :start, :end, :now, :now, :doc)
ON CONFLICT(id) DO UPDATE SET
    severity = excluded.severity, risk = excluded.risk, suppressed = excluded.suppressed,
    start = MIN(findings.start, excluded.start), end = MAX(findings.end, excluded.end),
    updated = excluded.updated, doc = excluded.doc
"""


def default_data_dir() -> Path:
    """$SECOPS_DATA_DIR, else $XDG_DATA_HOME/secops, else ~/.local/share/secops."""
    if os.environ.get("SECOPS_DATA_DIR"):
        return Path(os.environ["SECOPS_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "secops"


class LocalStore:
    name = "store"

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.path = self.data_dir / "findings.sqlite"

    def _connect(self) -> sqlite3.Connection:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30)
            con.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SinkError(f"cannot open the local store: {exc}", str(self.path)) from None
        return con

    def write(self, findings: Iterable[dict[str, Any]]) -> int:
        now = datetime.now(UTC).isoformat()
        rows = [_row(f, now) for f in findings]
        con = self._connect()
        try:
            with con:
                con.executemany(UPSERT, rows)
        except sqlite3.Error as exc:
            raise SinkError(f"cannot store findings: {exc}", str(self.path)) from None
        finally:
            con.close()
        return len(rows)

    def query(
        self,
        *,
        include_suppressed: bool = False,
        rule: str | None = None,
        severity: list[str] | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        sql, args = SELECT, []
        if not include_suppressed:
            sql += " AND suppressed = 0"
        if rule:
            sql += " AND rule_id = ?"
            args.append(rule)
        if severity:
            sql += f" AND severity IN ({','.join('?' * len(severity))})"
            args.extend(severity)
        if since:
            sql += " AND end >= ?"
            args.append(since)
        sql += " ORDER BY suppressed, risk DESC, start, f.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return list(self._docs(sql, args))

    def get(self, finding_id: str) -> dict[str, Any] | None:
        docs = list(
            self._docs(
                SELECT + " AND substr(f.id, 1, ?) = ?",
                [len(finding_id), finding_id],
            )
        )
        return docs[0] if len(docs) == 1 else None

    def ids_starting(self, prefix: str, limit: int = 6) -> list[str]:
        """Ids that start with `prefix` (at most `limit`, sorted): what an ambiguous prefix hits."""
        if not self.path.exists():
            return []
        con = self._connect()
        try:
            rows = con.execute(
                "SELECT id FROM findings WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
                [len(prefix), prefix, limit],
            ).fetchall()
        finally:
            con.close()
        return [r[0] for r in rows]

    def _docs(self, sql: str, args: list[Any]) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        con = self._connect()
        try:
            for doc, status, first_seen, *triage in con.execute(sql, args):
                d = json.loads(doc)
                d["finding"]["status"] = status
                d["finding"]["first_seen"] = first_seen
                d["finding"]["triage"] = _triage(triage)
                yield d
        finally:
            con.close()

    def set_triage(
        self, finding_id: str, status: str, changes: dict[str, Any], event: dict
    ) -> None:
        """Record an analyst's action: the finding's status, triage columns, one history entry."""
        now = datetime.now(UTC).isoformat()
        cols = {k: v for k, v in changes.items() if k in TRIAGE_COLUMNS}
        con = self._connect()
        try:
            with con:
                con.execute("UPDATE findings SET status = ? WHERE id = ?", (status, finding_id))
                con.execute(
                    "INSERT INTO triage (id, updated) VALUES (?, ?) ON CONFLICT(id) DO NOTHING",
                    (finding_id, now),
                )
                history = con.execute(
                    "SELECT history FROM triage WHERE id = ?", (finding_id,)
                ).fetchone()[0]
                sets = ", ".join(f"{k} = :{k}" for k in cols)
                con.execute(
                    f"UPDATE triage SET {sets + ', ' if sets else ''}updated = :updated, "
                    "history = :history WHERE id = :id",
                    {
                        **cols,
                        "updated": now,
                        "history": json.dumps([*json.loads(history), event], default=str),
                        "id": finding_id,
                    },
                )
        except sqlite3.Error as exc:
            raise SinkError(f"cannot store triage: {exc}", str(self.path)) from None
        finally:
            con.close()


def _triage(row: list[Any]) -> dict[str, Any]:
    *cols, history = row
    out = {k: v for k, v in zip(TRIAGE_COLUMNS, cols, strict=True) if v is not None}
    out["history"] = json.loads(history) if history else []
    return out


def _row(f: dict[str, Any], now: str) -> dict[str, Any]:
    fi = f["finding"]
    return {
        "id": fi["id"],
        "rule_id": f["rule"]["id"],
        "severity": fi["severity"],
        "risk": f["event"]["risk_score"],
        "suppressed": int(bool(fi["suppressed"])),
        "start": f["event"]["start"],
        "end": f["event"]["end"],
        "now": now,
        "doc": json.dumps(f, sort_keys=True, default=str),
    }
