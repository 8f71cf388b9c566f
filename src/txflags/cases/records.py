"""The store's case tables: created on demand, read by ``cases list|show`` and packets, written
inside the scan's commit (``CasePlan.write``) or by an analyst's disposition."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY, status TEXT NOT NULL, opened_on TEXT NOT NULL,
    opened_run TEXT NOT NULL, updated_on TEXT NOT NULL, updated_run TEXT NOT NULL,
    first_activity TEXT, last_activity TEXT, risk_score REAL NOT NULL,
    priority_score REAL NOT NULL, priority_reasons TEXT NOT NULL,
    families TEXT NOT NULL, typology_ids TEXT NOT NULL, n_truncated INTEGER NOT NULL DEFAULT 0,
    score_at_disposition REAL, filed_on TEXT, document_number TEXT, suppressed_until TEXT
);
CREATE TABLE IF NOT EXISTS case_parties (
    case_id TEXT NOT NULL, account_id TEXT NOT NULL, customer_id TEXT, role TEXT NOT NULL,
    is_subject INTEGER NOT NULL, role_reasons TEXT NOT NULL, risk_score REAL NOT NULL,
    flagged INTEGER NOT NULL, families TEXT NOT NULL, kyc TEXT NOT NULL,
    added_run TEXT NOT NULL, updated_run TEXT NOT NULL, PRIMARY KEY (case_id, account_id)
);
CREATE INDEX IF NOT EXISTS case_parties_account ON case_parties (account_id);
CREATE TABLE IF NOT EXISTS case_alerts (
    case_id TEXT NOT NULL, alert_id TEXT NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (case_id, alert_id)
);
CREATE TABLE IF NOT EXISTS case_links (
    case_id TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL,
    n INTEGER NOT NULL, total_usd REAL NOT NULL, PRIMARY KEY (case_id, source, target, kind)
);
CREATE TABLE IF NOT EXISTS case_activity (
    case_id TEXT NOT NULL, run_id TEXT NOT NULL, as_of TEXT NOT NULL, kind TEXT NOT NULL,
    new_alerts INTEGER NOT NULL, new_parties INTEGER NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (case_id, run_id)
);
CREATE TABLE IF NOT EXISTS case_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL, at TEXT NOT NULL,
    status TEXT NOT NULL, note TEXT NOT NULL, suppressed_until TEXT, document_number TEXT
);
"""

#: Statuses an analyst can set. ``closed-*`` cases are suppressed for a while (see lifecycle).
STATUSES = ("open", "reviewing", "filed", "closed-false-positive", "closed-no-filing")
ACTIVE = ("open", "reviewing", "filed")


def ensure(db: sqlite3.Connection) -> None:
    """Create the case tables if this store has none yet."""
    db.executescript(SCHEMA)


def loads(text: str | None) -> Any:
    """A JSON column's value ([] for NULL)."""
    return json.loads(text) if text else []


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass
class CasePlan:
    """Rows one night writes: inserted or replaced as a whole, in the scan's transaction."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    parties: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    alerts: list[tuple[str, str, str]] = field(default_factory=list)
    links: list[tuple[str, str, str, str, int, float]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)

    def write(self, db: sqlite3.Connection) -> None:
        ensure_in_transaction(db)
        for row in self.cases.values():
            _replace(db, "cases", row)
        for row in self.parties.values():
            _replace(db, "case_parties", row)
        db.executemany("INSERT OR IGNORE INTO case_alerts VALUES (?, ?, ?)", self.alerts)
        db.executemany("INSERT OR REPLACE INTO case_links VALUES (?, ?, ?, ?, ?, ?)", self.links)
        for row in self.activity:
            _replace(db, "case_activity", row)

    def counts(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for a in self.activity:
            kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
        return kinds


def ensure_in_transaction(db: sqlite3.Connection) -> None:
    """``CREATE TABLE IF NOT EXISTS`` one statement at a time (``executescript`` would commit)."""
    for stmt in SCHEMA.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _replace(db: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    cols = list(row)
    db.execute(
        f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        [row[c] for c in cols],
    )


def rows(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[dict]:
    cur = db.execute(sql, tuple(args))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def has_tables(db: sqlite3.Connection) -> bool:
    return db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cases'"
    ).fetchone() is not None


def cases_of_accounts(db: sqlite3.Connection, accounts: list[str]) -> dict[str, list[str]]:
    """account_id -> case ids it is a party of (any status)."""
    if not accounts or not has_tables(db):
        return {}
    out: dict[str, list[str]] = {}
    for i in range(0, len(accounts), 900):
        chunk = accounts[i:i + 900]
        marks = ",".join("?" * len(chunk))
        for acct, case in db.execute(
            f"SELECT account_id, case_id FROM case_parties WHERE account_id IN ({marks}) "
            "ORDER BY case_id", chunk,
        ):
            out.setdefault(acct, []).append(case)
    return out


def load_case(db: sqlite3.Connection, case_id: str) -> dict[str, Any] | None:
    found = rows(db, "SELECT * FROM cases WHERE case_id = ?", (case_id,))
    return found[0] if found else None


def case_alert_ids(db: sqlite3.Connection, case_id: str) -> set[str]:
    return {r[0] for r in db.execute("SELECT alert_id FROM case_alerts WHERE case_id = ?",
                                     (case_id,))}


def case_parties(db: sqlite3.Connection, case_id: str) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM case_parties WHERE case_id = ? ORDER BY account_id",
                (case_id,))


def iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None
