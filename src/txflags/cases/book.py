"""Reading and deciding cases: ``list_cases``, ``show_case``, ``set_disposition``.

Due dates (31 CFR 1020.320 and FinCEN's SAR FAQ): the initial SAR is due ``sar_due_days`` after
detection (the day the case opened); after a filing, continuing activity is reviewed at
``review_days`` and a continuing SAR is due at ``continuing_days``. Before any filing the review
and continuing dates count from the opening day, so an open case shows when its first review
would fall.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from txflags.cases import records
from txflags.cases.assemble import CaseConfig
from txflags.errors import InputError
from txflags.store import Store


def _store(store: str | Path | Store) -> Store:
    if isinstance(store, Store):
        return store
    if not (Path(store) / "txflags.sqlite").is_file():
        raise InputError(f"--store {store} has no txflags store; run `txflags scan` first")
    return Store(store)


def due_dates(case: dict[str, Any], cfg: CaseConfig | None = None) -> dict[str, str]:
    """sar_due, review_due and continuing_sar_due of a case row."""
    cfg = cfg or CaseConfig()
    opened = date.fromisoformat(case["opened_on"])
    base = date.fromisoformat(case["filed_on"]) if case.get("filed_on") else opened
    return {
        "sar_due": (opened + timedelta(days=cfg.sar_due_days)).isoformat(),
        "review_due": (base + timedelta(days=cfg.review_days)).isoformat(),
        "continuing_sar_due": (base + timedelta(days=cfg.continuing_days)).isoformat(),
    }


def _decode(case: dict[str, Any], cfg: CaseConfig | None = None) -> dict[str, Any]:
    out = dict(case)
    for key in ("families", "typology_ids", "priority_reasons"):
        out[key] = records.loads(out.get(key))
    out.update(due_dates(case, cfg))
    return out


def list_cases(
    store: str | Path | Store, statuses: list[str] | None = None, limit: int | None = None,
    cfg: CaseConfig | None = None,
) -> list[dict[str, Any]]:
    """Cases ranked by priority (1 = most urgent) among the chosen statuses (default: active)."""
    statuses = statuses or list(records.ACTIVE)
    bad = sorted(set(statuses) - set(records.STATUSES))
    if bad:
        raise InputError(f"unknown status {bad}; choose from {', '.join(records.STATUSES)}")
    st = _store(store)
    marks = ",".join("?" * len(statuses))
    with st.connect() as db:
        found = records.rows(
            db, f"SELECT c.*, (SELECT count(*) FROM case_parties p WHERE p.case_id = c.case_id) "
            f"AS n_parties, (SELECT count(*) FROM case_parties p WHERE p.case_id = c.case_id "
            f"AND p.is_subject = 1) AS n_subjects, (SELECT count(*) FROM case_alerts a "
            f"WHERE a.case_id = c.case_id) AS n_alerts FROM cases c WHERE status IN ({marks}) "
            f"ORDER BY priority_score DESC, case_id", statuses,
        )
    out = []
    for rank, case in enumerate(found, start=1):
        row = _decode(case, cfg)
        row["priority"] = rank
        out.append(row)
    return out[:limit] if limit else out


def show_case(store: str | Path | Store, case_id: str, cfg: CaseConfig | None = None
              ) -> dict[str, Any]:
    """One case in full: parties, alert ids, links, activity and disposition history."""
    st = _store(store)
    with st.connect() as db:
        case = records.load_case(db, case_id)
        if case is None:
            raise InputError(f"no case {case_id} in {st.path}; `txflags cases list` shows them")
        parties = records.case_parties(db, case_id)
        alerts = [r[0] for r in db.execute(
            "SELECT alert_id FROM case_alerts WHERE case_id = ? ORDER BY alert_id", (case_id,))]
        links = records.rows(db, "SELECT source, target, kind, n, total_usd FROM case_links "
                             "WHERE case_id = ? ORDER BY source, target, kind", (case_id,))
        activity = records.rows(db, "SELECT * FROM case_activity WHERE case_id = ? "
                                "ORDER BY as_of, run_id", (case_id,))
        events = records.rows(db, "SELECT at, status, note, suppressed_until, document_number "
                              "FROM case_events WHERE case_id = ? ORDER BY event_id", (case_id,))
    rank = _rank(st, case) if case["status"] in records.ACTIVE else None
    out = _decode(case, cfg)
    out.update(priority=rank, alert_ids=alerts, links=links, activity=activity, events=events)
    out["parties"] = [
        {**p, "is_subject": bool(p["is_subject"]), "flagged": bool(p["flagged"]),
         "role_reasons": records.loads(p["role_reasons"]),
         "families": records.loads(p["families"]), "kyc": records.loads(p["kyc"]) or {}}
        for p in parties
    ]
    return out


def _rank(st: Store, case: dict[str, Any]) -> int:
    """The case's place in ``list_cases`` (active cases by priority score, then id)."""
    marks = ",".join("?" * len(records.ACTIVE))
    with st.connect() as db:
        (ahead,) = db.execute(
            f"SELECT count(*) FROM cases WHERE status IN ({marks}) AND (priority_score > ? OR "
            "(priority_score = ? AND case_id < ?))",
            (*records.ACTIVE, case["priority_score"], case["priority_score"], case["case_id"]),
        ).fetchone()
    return int(ahead) + 1


def set_disposition(
    store: str | Path | Store, case_id: str, status: str, *, note: str = "",
    on: date | None = None, suppress_days: int | None = None,
    document_number: str | None = None, cfg: CaseConfig | None = None,
) -> dict[str, Any]:
    """Record an analyst's decision. ``filed`` keeps the filing day (and BSA document number)
    for the continuing-activity dates; ``closed-*`` suppresses the same pattern for
    ``suppress_days`` unless it escalates; ``open``/``reviewing`` lift a suppression."""
    cfg = cfg or CaseConfig()
    if status not in records.STATUSES:
        raise InputError(f"unknown status {status!r}; choose from {', '.join(records.STATUSES)}")
    if document_number is not None and not (document_number.isdigit()
                                            and len(document_number) == 14):
        raise InputError("--document-number is the 14-digit BSA identifier of the filing")
    on = on or datetime.now().date()
    st = _store(store)
    with st.connect() as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            case = records.load_case(db, case_id)
            if case is None:
                raise InputError(f"no case {case_id} in {st.path}")
            upd: dict[str, Any] = {"status": status, "updated_on": on.isoformat()}
            until = None
            if status == "filed":
                upd.update(filed_on=on.isoformat(), suppressed_until=None,
                           document_number=document_number or case.get("document_number"))
            elif status.startswith("closed-"):
                days = cfg.suppress_days if suppress_days is None else suppress_days
                until = (on + timedelta(days=days)).isoformat()
                upd.update(suppressed_until=until, score_at_disposition=case["risk_score"])
            else:
                upd.update(suppressed_until=None)
            sets = ", ".join(f"{k} = ?" for k in upd)
            db.execute(f"UPDATE cases SET {sets} WHERE case_id = ?", [*upd.values(), case_id])
            db.execute(
                "INSERT INTO case_events (case_id, at, status, note, suppressed_until, "
                "document_number) VALUES (?, ?, ?, ?, ?, ?)",
                (case_id, on.isoformat(), status, note, until, document_number),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return show_case(st, case_id, cfg)
