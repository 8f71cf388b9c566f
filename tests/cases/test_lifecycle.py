"""Cases across nights: stable ids, no duplicates on re-runs, continuing activity, analyst
decisions with suppression unless the pattern escalates (plan_night on a bare database)."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import polars as pl
import pytest

from txflags.cases import CaseConfig, assemble
from txflags.cases import records as rec
from txflags.cases.lifecycle import Night, case_id_for, plan_night
from txflags.cases.links import LINKS_SCHEMA

D0 = date(2026, 3, 1)


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    rec.ensure(db)
    return db


def _night(day: int, alerts: list[tuple], flagged: dict[str, float], run: str | None = None,
           high_weight: frozenset[str] = frozenset()) -> tuple[Night, pl.DataFrame]:
    """alerts: (alert_id, account_id, typology_id, family, role_hint, day offset)."""
    as_of = D0 + timedelta(days=day)
    a = pl.DataFrame(
        [(aid, acct, tid, fam, "high", 2, role, D0 + timedelta(days=off - 3),
          D0 + timedelta(days=off)) for aid, acct, tid, fam, role, off in alerts],
        schema={"alert_id": pl.String, "account_id": pl.String, "typology_id": pl.String,
                "family": pl.String, "band": pl.String, "weight": pl.Int8,
                "role_hint": pl.String, "window_start": pl.Date, "window_end": pl.Date},
        orient="row")
    risk = pl.DataFrame({"account_id": list(flagged), "risk_score": list(flagged.values()),
                         "flagged": [True] * len(flagged)})
    accounts = pl.DataFrame({"account_id": list(flagged),
                             "customer_id": [f"C-{x}" for x in flagged],
                             "name": [f"Name {x}" for x in flagged]})
    night = Night(as_of, run or f"run{day}", risk, a, accounts, high_weight)
    return night, risk


def _run(db, night, risk, edges=None, cfg=None):
    edges = edges if edges is not None else pl.DataFrame(schema=LINKS_SCHEMA)
    plan = plan_night(assemble(risk, edges, cfg), night, db, cfg)
    db.execute("BEGIN")
    plan.write(db)
    db.execute("COMMIT")
    return plan


def _cases(db) -> list[dict]:
    return rec.rows(db, "SELECT * FROM cases ORDER BY case_id")


def test_new_case_then_rerun_changes_nothing():
    db = _db()
    night, risk = _night(0, [("a1", "X", "lodging.m", "lodging", "victim", 0)], {"X": 12.0})
    plan = _run(db, night, risk)
    assert plan.counts() == {"opened": 1}
    (case,) = _cases(db)
    assert case["case_id"] == case_id_for(["X"], D0 - timedelta(days=3))
    before = rec.rows(db, "SELECT * FROM case_activity")
    again = _run(db, night, risk)  # the same batch again
    assert again.counts() == {} and _cases(db) == [case]
    assert rec.rows(db, "SELECT * FROM case_activity") == before


def test_same_content_in_a_fresh_store_gives_the_same_id():
    n, r = _night(0, [("a1", "X", "t", "lodging", "victim", 0)], {"X": 12.0})
    _run(db1 := _db(), n, r)
    _run(db2 := _db(), n, r)
    assert [c["case_id"] for c in _cases(db1)] == [c["case_id"] for c in _cases(db2)]


def test_new_activity_is_appended_as_continuing():
    db = _db()
    n0, r0 = _night(0, [("a1", "X", "t1", "lodging", "victim", 0)], {"X": 12.0})
    _run(db, n0, r0)
    n1, r1 = _night(1, [("a1", "X", "t1", "lodging", "victim", 0),
                        ("a2", "X", "t2", "cash", "victim", 1)], {"X": 15.0})
    plan = _run(db, n1, r1)
    assert plan.counts() == {"continuing": 1}
    (case,) = _cases(db)
    assert rec.loads(case["families"]) == ["cash", "lodging"]
    acts = rec.rows(db, "SELECT kind, new_alerts FROM case_activity ORDER BY as_of")
    assert acts == [{"kind": "opened", "new_alerts": 1}, {"kind": "continuing", "new_alerts": 1}]
    assert len(rec.rows(db, "SELECT * FROM case_alerts")) == 2


def test_a_new_party_joins_the_open_case():
    db = _db()
    n0, r0 = _night(0, [("a1", "C", "t1", "network", "controller", 0)], {"C": 20.0})
    _run(db, n0, r0)
    n1, r1 = _night(1, [("a1", "C", "t1", "network", "controller", 0),
                        ("a2", "V", "t2", "lodging", "victim", 1)], {"C": 20.0, "V": 9.0})
    edges = pl.DataFrame([("V", "C", "money", 5, 800.0)], schema=LINKS_SCHEMA, orient="row")
    plan = _run(db, n1, r1, edges)
    assert plan.counts() == {"continuing": 1}
    assert len(_cases(db)) == 1
    parties = {p["account_id"]: p for p in rec.rows(db, "SELECT * FROM case_parties")}
    assert parties["V"]["added_run"] == "run1" and parties["C"]["added_run"] == "run0"


def _close(db, case_id: str, on: date, days: int = 90) -> None:
    db.execute("UPDATE cases SET status = 'closed-false-positive', suppressed_until = ?, "
               "score_at_disposition = risk_score WHERE case_id = ?",
               ((on + timedelta(days=days)).isoformat(), case_id))


@pytest.mark.parametrize(
    ("extra", "flag_risk", "expect"),
    [
        ([("a2", "X", "t1", "lodging", "victim", 5)], 12.0, "suppressed"),  # same pattern
        ([("a2", "X", "t9", "crypto", "victim", 5)], 12.0, "reopened"),     # new family
        ([("a2", "X", "t1", "lodging", "victim", 5)], 40.0, "reopened"),    # risk ×3.3
    ],
)
def test_closed_case_is_suppressed_unless_it_escalates(extra, flag_risk, expect):
    db = _db()
    n0, r0 = _night(0, [("a1", "X", "t1", "lodging", "victim", 0)], {"X": 12.0})
    _run(db, n0, r0)
    (case,) = _cases(db)
    _close(db, case["case_id"], D0)
    n1, r1 = _night(5, [("a1", "X", "t1", "lodging", "victim", 0), *extra], {"X": flag_risk})
    plan = _run(db, n1, r1)
    assert plan.counts() == {expect: 1}
    (after,) = _cases(db)
    assert after["case_id"] == case["case_id"]  # never a duplicate case
    assert after["status"] == ("open" if expect == "reopened" else "closed-false-positive")
    assert (after["suppressed_until"] is None) == (expect == "reopened")


def test_suppression_ends():
    db = _db()
    n0, r0 = _night(0, [("a1", "X", "t1", "lodging", "victim", 0)], {"X": 12.0})
    _run(db, n0, r0)
    _close(db, _cases(db)[0]["case_id"], D0, days=3)
    n1, r1 = _night(10, [("a2", "X", "t1", "lodging", "victim", 10)], {"X": 12.0})
    assert _run(db, n1, r1).counts() == {"reopened": 1}
    assert rec.rows(db, "SELECT note FROM case_activity WHERE kind = 'reopened'")[0][
        "note"].startswith("suppression ended")


def test_priority_reasons_name_minors_and_high_weight():
    db = _db()
    n0, r0 = _night(0, [("a1", "X", "remittance.sextortion_bursts", "remittance", "victim", 0)],
                    {"X": 9.0}, high_weight=frozenset({"remittance.sextortion_bursts"}))
    n0 = Night(n0.as_of, n0.run_id, n0.risk, n0.alerts,
               n0.accounts.with_columns(pl.lit(date(2011, 1, 1)).alias("birth_date")),
               n0.high_weight)
    _run(db, n0, r0)
    (case,) = _cases(db)
    reasons = rec.loads(case["priority_reasons"])
    assert any("possible minor" in r for r in reasons)
    assert any("high-weight" in r for r in reasons)
    assert any("no subject identified" in r for r in reasons)
    assert case["priority_score"] > case["risk_score"] + 20


def test_case_config_from_profile_rejects_unknown_keys():
    from txflags.errors import InputError

    assert CaseConfig.from_dict({"suppress_days": 30}).suppress_days == 30
    with pytest.raises(InputError, match="unknown cases setting"):
        CaseConfig.from_dict({"supress_days": 30})
