"""Match tonight's groups to the cases already in the store and plan the writes.

- no case holds any member: a **new** case; its id is derived from content (the seeds and the
  first activity day), so the same batch in a fresh store gives the same id;
- an active case (open, reviewing, filed) holds a member: new alerts and parties are appended as
  **continuing** activity (on a filed case this is what the continuing SAR reports);
- a closed case holds a member: the activity is attached but **suppressed** until
  ``suppressed_until``, unless it escalates (a new family, a new high-weight indicator, or risk
  ``escalate_factor`` times the risk at closing) — then, or once suppression has ended, the case
  is **reopened**;
- nothing new (a re-run of the same batch): nothing is written.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from txflags.cases import records
from txflags.cases.assemble import CaseConfig, Group
from txflags.cases.roles import PartyRole, assign_roles

KYC_FIELDS = ("name", "birth_date", "occupation", "business_type", "customer_type", "opened_at",
              "home_city", "home_region", "home_country", "phone", "email", "address",
              "id_number")


@dataclass(frozen=True)
class Night:
    """What one scan knows when it plans its cases."""

    as_of: date
    run_id: str
    risk: pl.DataFrame  # risk.parquet rows (account_id, risk_score, flagged, families, ...)
    alerts: pl.DataFrame  # alerts of the lookback: alert_id, account_id, typology_id, family,
    #                       band, weight, role_hint, window_start, window_end
    accounts: pl.DataFrame  # KYC (schema.Accounts)
    high_weight: frozenset[str] = frozenset()
    typology_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def case_id_for(seeds: Iterable[str], first_activity: date | None) -> str:
    """A stable case id from content: the seed accounts and the first activity day."""
    text = ",".join(sorted(seeds)) + "|" + (first_activity.isoformat() if first_activity else "")
    return "HT-" + hashlib.sha256(text.encode()).hexdigest()[:10].upper()


def plan_night(
    groups: list[Group], night: Night, db: sqlite3.Connection, cfg: CaseConfig | None = None
) -> records.CasePlan:
    """The case writes for tonight's ``groups`` (read-only on ``db``)."""
    cfg = cfg or CaseConfig()
    plan = records.CasePlan()
    if not groups:
        return plan
    members = sorted({m for g in groups for m in g.members})
    owned = records.cases_of_accounts(db, members)
    kyc = _kyc(night.accounts, members)
    risk = {r["account_id"]: r for r in night.risk.filter(
        pl.col("account_id").is_in(pl.Series(members).implode())).iter_rows(named=True)}
    alerts = night.alerts.filter(pl.col("account_id").is_in(pl.Series(members).implode()))
    by_account = alerts.partition_by("account_id", as_dict=True)
    empty = alerts.clear()
    planned_by_account: dict[str, str] = {}
    for g in groups:
        parts = [by_account[(m,)] for m in g.members if (m,) in by_account]
        ga = pl.concat(parts) if parts else empty
        _plan_group(g, night, db, cfg, plan, owned, planned_by_account, kyc, risk, ga)
    return plan


def _kyc(accounts: pl.DataFrame, members: list[str]) -> dict[str, dict[str, Any]]:
    cols = [c for c in ("account_id", "customer_id", *KYC_FIELDS) if c in accounts.columns]
    sub = accounts.filter(pl.col("account_id").is_in(pl.Series(members).implode())).select(cols)
    return {r["account_id"]: r for r in sub.unique("account_id", keep="last").iter_rows(named=True)}


def _plan_group(
    g: Group, night: Night, db: sqlite3.Connection, cfg: CaseConfig, plan: records.CasePlan,
    owned: dict[str, list[str]], planned: dict[str, str], kyc: dict[str, dict[str, Any]],
    risk: dict[str, dict[str, Any]], ga: pl.DataFrame,
) -> None:
    """Plan one group's writes; ``ga``: the alerts of the group's members."""
    first = ga["window_start"].min() if ga.height else None
    last = ga["window_end"].max() if ga.height else None
    last = last or night.as_of
    births = {m: kyc.get(m, {}).get("birth_date") for m in g.members}
    roles = assign_roles(g.members, g.links,
                         ga.select("account_id", "role_hint", "weight", "typology_id"),
                         set(g.seeds), births, last, night.typology_roles)
    families = sorted(set(ga["family"].to_list()))
    typologies = sorted(set(ga["typology_id"].to_list()))
    scores = sorted((float(risk.get(m, {}).get("risk_score") or 0.0) for m in g.members),
                    reverse=True)
    case_risk = round(scores[0] + 0.25 * sum(scores[1:]), 3) if scores else 0.0

    candidates = sorted({c for m in g.members for c in owned.get(m, [])}
                        | {planned[m] for m in g.members if m in planned})
    target = _pick(db, plan, candidates)
    new_alerts = set(ga["alert_id"].to_list())
    if target is None:
        case_id = case_id_for(g.seeds, first)
        if records.load_case(db, case_id) is not None:  # same content, another time
            case_id = case_id_for([*g.seeds, night.as_of.isoformat()], first)
        case: dict[str, Any] = {
            "case_id": case_id, "status": "open", "opened_on": night.as_of.isoformat(),
            "opened_run": night.run_id, "n_truncated": g.truncated,
            "score_at_disposition": None, "filed_on": None, "document_number": None,
            "suppressed_until": None,
        }
        kind, note = "opened", f"{len(g.seeds)} flagged account(s)"
        added_run: dict[str, str] = {}
    else:
        case = dict(plan.cases.get(target) or records.load_case(db, target) or {})
        case_id = target
        known = records.case_alert_ids(db, case_id) | {a for c, a, _ in plan.alerts if c == case_id}
        # when each known party joined: from the store, or from an earlier group tonight
        added_run = {p["account_id"]: p["added_run"] for p in records.case_parties(db, case_id)}
        added_run |= {a: row["added_run"] for (c, a), row in plan.parties.items() if c == case_id}
        new_alerts -= known
        new_members = set(g.members) - set(added_run)
        if not new_alerts and not new_members:
            for m in g.members:
                planned[m] = case_id
            return
        kind, note = _transition(case, families, typologies, case_risk, night, cfg)
        if len(candidates) > 1:
            note += "; also linked to " + ", ".join(c for c in candidates if c != case_id)

    prev_fams = set(records.loads(case.get("families")))
    prev_typ = set(records.loads(case.get("typology_ids")))
    first_s = min(filter(None, [case.get("first_activity"), first and first.isoformat()]),
                  default=None)
    last_s = max(filter(None, [case.get("last_activity"), last.isoformat()]), default=None)
    all_typ = sorted(prev_typ | set(typologies))
    priority, reasons = _priority(case_risk, roles, all_typ, sorted(prev_fams | set(families)),
                                  night, g, kind, case.get("status"), risk)
    case.update({
        "updated_on": night.as_of.isoformat(), "updated_run": night.run_id,
        "first_activity": first_s, "last_activity": last_s, "risk_score": case_risk,
        "priority_score": priority, "priority_reasons": records.dumps(reasons),
        "families": records.dumps(sorted(prev_fams | set(families))),
        "typology_ids": records.dumps(all_typ),
        "n_truncated": max(int(case.get("n_truncated") or 0), g.truncated),
    })
    if kind == "reopened":
        case.update(status="open", suppressed_until=None)
    plan.cases[case_id] = case
    for m in g.members:
        planned[m] = case_id
        plan.parties[(case_id, m)] = _party_row(case_id, m, roles[m], risk.get(m, {}),
                                                kyc.get(m, {}), m in g.seeds, night.run_id,
                                                added_run.get(m, night.run_id))
    plan.alerts += [(case_id, a, night.run_id) for a in sorted(new_alerts)]
    plan.links += [(case_id, s, t, k, int(n), float(usd))
                   for s, t, k, n, usd in g.links.select("source", "target", "kind", "n",
                                                         "total_usd").iter_rows()]
    plan.activity.append({
        "case_id": case_id, "run_id": night.run_id, "as_of": night.as_of.isoformat(),
        "kind": kind, "new_alerts": len(new_alerts),
        "new_parties": len(set(g.members) - set(added_run)), "note": note,
    })


def _pick(db: sqlite3.Connection, plan: records.CasePlan, candidates: list[str]) -> str | None:
    """The case new activity belongs to: an active one first, then the oldest, then by id."""
    if not candidates:
        return None
    rows = [plan.cases.get(c) or records.load_case(db, c) for c in candidates]
    rows = [r for r in rows if r]
    rows.sort(key=lambda r: (r["status"] not in records.ACTIVE, r["opened_on"], r["case_id"]))
    return rows[0]["case_id"] if rows else None


def _transition(
    case: dict[str, Any], families: list[str], typologies: list[str], risk: float, night: Night,
    cfg: CaseConfig,
) -> tuple[str, str]:
    """(activity kind, note) for new activity on an existing case."""
    status = case["status"]
    if status in records.ACTIVE:
        return "continuing", ("continuing activity after a filing" if status == "filed"
                              else "new activity on an open case")
    why = _escalation(case, families, typologies, risk, night.high_weight, cfg)
    until = case.get("suppressed_until")
    if until and night.as_of.isoformat() <= until and not why:
        return "suppressed", f"closed as {status}; suppressed until {until}"
    return "reopened", (f"escalated: {why}" if why else f"suppression ended ({until})")


def _escalation(
    case: dict[str, Any], families: list[str], typologies: list[str], risk: float,
    high_weight: frozenset[str], cfg: CaseConfig,
) -> str:
    new_fams = sorted(set(families) - set(records.loads(case.get("families"))))
    if new_fams:
        return "new indicator families " + ", ".join(new_fams)
    new_hw = sorted((set(typologies) - set(records.loads(case.get("typology_ids")))) & high_weight)
    if new_hw:
        return "new high-weight indicator " + ", ".join(new_hw)
    before = case.get("score_at_disposition")
    if before and risk >= cfg.escalate_factor * float(before):
        return (f"risk {risk:.1f} is at least {cfg.escalate_factor}× the "
                f"{float(before):.1f} at closing")
    return ""


def _priority(
    case_risk: float, roles: dict[str, PartyRole], typologies: list[str], families: list[str],
    night: Night, g: Group, kind: str, status: str | None, risk: dict[str, dict[str, Any]],
) -> tuple[float, list[str]]:
    """A score to rank cases by, with its reasons in words."""
    score = case_risk
    reasons = [f"risk {case_risk:.1f} over {len(g.members)} account(s), {len(families)} "
               f"indicator famil{'y' if len(families) == 1 else 'ies'}"]
    hw = sorted(set(typologies) & night.high_weight)
    if hw:
        score += 5 * len(hw)
        reasons.append("high-weight indicator(s): " + ", ".join(hw))
    ages = sorted(r.age for r in roles.values() if r.role == "likely_victim" and r.age is not None)
    if ages and ages[0] < 18:
        score += 20
        reasons.append(f"possible minor among the likely victims (age {ages[0]})")
    elif ages and ages[0] < 21:
        score += 3
        reasons.append(f"young likely victim (age {ages[0]})")
    anomalies = [float(a) for m in g.members
                 if (a := risk.get(m, {}).get("anomaly_score")) is not None]
    if anomalies and max(anomalies) >= 0.9:
        score += 2
        reasons.append(f"anomaly score {max(anomalies):.2f} on a party")
    if kind == "continuing" and status == "filed":
        score += 2
        reasons.append("continuing activity after a filing")
    if not any(r.is_subject for r in roles.values()):
        reasons.append("no subject identified: the account holder(s) may be victims")
    return round(score, 3), reasons


def _party_row(
    case_id: str, account: str, role: PartyRole, risk: dict[str, Any], kyc: dict[str, Any],
    flagged: bool, run_id: str, added: str,
) -> dict[str, Any]:
    return {
        "case_id": case_id, "account_id": account, "customer_id": kyc.get("customer_id"),
        "role": role.role, "is_subject": int(role.is_subject),
        "role_reasons": records.dumps(role.reasons),
        "risk_score": float(risk.get("risk_score") or 0.0), "flagged": int(flagged),
        "families": records.dumps(list(risk.get("families") or [])),
        "kyc": records.dumps({k: v for k, v in kyc.items() if k in KYC_FIELDS}),
        "added_run": added, "updated_run": run_id,
    }
