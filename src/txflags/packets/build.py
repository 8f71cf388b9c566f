"""Assemble a case packet (``model.Packet``) from the store: the one input of every export.

Evidence is what the case's alerts point at plus the money that moved between its parties
in the case's window, read back from the store's history (capped at ``max_transactions``).
Typology titles, indicator codes and filing codes come from the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from txflags import __version__
from txflags.cases import book
from txflags.cases.assemble import CaseConfig
from txflags.cases.records import rows
from txflags.catalogue import load_catalogue
from txflags.packets.geo import locate
from txflags.packets.model import KEY_TERM, PACKET_VERSION, VICTIM_NOTE, Packet
from txflags.packets.narrative import draft_narrative, summary_sentence
from txflags.store import Store

HUMAN_TRAFFICKING_SUBTYPE = 927
TXN_FIELDS = ("txn_id", "ts", "account_id", "direction", "amount", "currency", "amount_usd",
              "channel", "mcc", "merchant", "counterparty_id", "counterparty_name",
              "counterparty_country", "country", "city", "region")


def decimal_text(value: Decimal | None) -> str:
    """An exact amount as text: no exponent, trailing zeros dropped down to cents."""
    if value is None:
        return ""
    d = value.normalize()
    if d.as_tuple().exponent > -2:  # type: ignore[operator]
        d = d.quantize(Decimal("0.01"))
    return format(d, "f")


def _catalogue_info(catalogue_root: str | Path | None) -> dict[str, dict[str, Any]]:
    out = {}
    for t in load_catalogue(root=catalogue_root):
        out[t.id] = {"title": t.title, "indicator": t.indicator,
                     "fincen_subtypes": [int(x) for x in t.doc.get("fincen_subtypes") or []],
                     "goaml_indicators": [str(x) for x in t.doc.get("goaml_indicators") or []]}
    return out


def _alerts(db: Any, case_id: str, info: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    found = rows(db, "SELECT a.* FROM alerts a JOIN case_alerts c ON a.alert_id = c.alert_id "
                     "WHERE c.case_id = ? ORDER BY a.window_end, a.typology_id, a.account_id",
                 (case_id,))
    out = []
    for a in found:
        meta = info.get(a["typology_id"], {})
        out.append({
            "alert_id": a["alert_id"], "typology_id": a["typology_id"],
            "typology_version": int(a["typology_version"]), "title": meta.get("title", ""),
            "family": a["family"], "indicator": meta.get("indicator", ""),
            "account_id": a["account_id"], "window_start": a["window_start"],
            "window_end": a["window_end"], "band": a["band"], "weight": int(a["weight"]),
            "sentence": a["sentence"], "observed": json.loads(a["observed"] or "{}"),
            "params": json.loads(a["params"] or "{}"),
            "evidence_txn_ids": json.loads(a["evidence"]) if a.get("evidence") else [],
            "fincen_subtypes": meta.get("fincen_subtypes", []),
            "goaml_indicators": meta.get("goaml_indicators", []),
        })
    return out


def _evidence(st: Store, parties: list[str], ids: set[str], first: date, last: date,
              limit: int) -> pl.DataFrame:
    """Evidence rows: the alerts' transactions and money between parties, oldest first."""
    hist = st.history(first - timedelta(days=1), last + timedelta(days=1))
    party = pl.Series(parties).implode()
    wanted = pl.col("txn_id").is_in(pl.Series(sorted(ids), dtype=pl.String).implode()) | (
        pl.col("account_id").is_in(party) & pl.col("counterparty_id").is_in(party))
    return hist.filter(wanted).sort("ts", "txn_id").head(limit).collect()


def _transactions(frame: pl.DataFrame) -> list[dict[str, Any]]:
    out = []
    for r in frame.select(TXN_FIELDS).iter_rows(named=True):
        r = dict(r)
        r["ts"] = r["ts"].astimezone(UTC).isoformat(timespec="seconds")
        r["amount"] = decimal_text(r["amount"])
        r["direction"] = str(r["direction"])
        r["channel"] = str(r["channel"])
        r["amount_usd"] = float(r["amount_usd"])
        r["mcc"] = int(r["mcc"]) if r["mcc"] is not None else None
        out.append(r)
    return out


OTHERS = "(other counterparties)"


def _network(txns: list[dict[str, Any]], parties: dict[str, dict[str, Any]],
             links: list[dict[str, Any]], max_counterparties: int = 20) -> dict[str, list[Any]]:
    """Money edges from the evidence (a transfer between two parties counted once, from the
    payer's side) plus the shared-identifier links of the case. Counterparties beyond the
    ``max_counterparties`` largest (and the 10 largest of those several parties deal with) are
    folded into one
    "other counterparties" node, so the diagram stays readable; the evidence lists them all."""
    raw: dict[tuple[str, str], dict[str, Any]] = {}
    labels: dict[str, str] = {}
    for t in txns:
        other = t["counterparty_id"] or t["merchant"]
        if not other:
            continue
        if other not in parties:
            labels.setdefault(other, t["counterparty_name"] or t["merchant"] or other)
        if t["direction"] == "in" and other in parties:
            continue  # the payer's "out" row carries it
        s, d = (t["account_id"], other) if t["direction"] == "out" else (other, t["account_id"])
        e = raw.setdefault((s, d), {"n": 0, "total_usd": 0.0})
        e["n"] += 1
        e["total_usd"] += t["amount_usd"]
    volume: dict[str, float] = {}
    touches: dict[str, set[str]] = {}
    for (s, d), e in raw.items():
        for node, party in ((s, d), (d, s)):
            if node not in parties:
                volume[node] = volume.get(node, 0.0) + e["total_usd"]
                touches.setdefault(node, set()).add(party)
    ranked = sorted(volume, key=lambda k: (-volume[k], k))
    shared = [k for k in ranked if len(touches[k]) > 1]  # counterparties several parties pay
    keep = set(ranked[:max_counterparties]) | set(shared[:max_counterparties // 2])
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    folded: set[str] = set()
    for (s, d), e in raw.items():
        s2 = s if s in parties or s in keep else OTHERS
        d2 = d if d in parties or d in keep else OTHERS
        folded |= {x for x, y in ((s, s2), (d, d2)) if y == OTHERS}
        agg = edges.setdefault((s2, d2, "money"), {"source": s2, "target": d2, "kind": "money",
                                                    "n": 0, "total_usd": 0.0})
        agg["n"] += e["n"]
        agg["total_usd"] = round(agg["total_usd"] + e["total_usd"], 2)
    for link in links:
        if link["kind"] != "money":
            edges.setdefault((link["source"], link["target"], link["kind"]), {
                "source": link["source"], "target": link["target"], "kind": link["kind"],
                "n": int(link["n"]), "total_usd": 0.0})
    nodes = [{"id": a, "label": a, "role": p["role"], "is_party": True}
             for a, p in sorted(parties.items())]
    nodes += [{"id": k, "label": labels.get(k, k), "role": "counterparty", "is_party": False}
              for k in sorted(keep & set(labels))]
    if folded:
        nodes.append({"id": OTHERS, "label": f"{len(folded)} other counterparties",
                      "role": "counterparty", "is_party": False})
    return {"nodes": nodes, "edges": sorted(edges.values(),
                                            key=lambda e: (e["source"], e["target"], e["kind"]))}


def _locations(txns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    places: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for t in txns:
        key = (t["city"], t["region"], t["country"])
        if not any(key):
            continue
        p = places.setdefault(key, {"city": key[0], "region": key[1], "country": key[2],
                                    "lat": None, "lon": None, "n": 0, "total_usd": 0.0})
        p["n"] += 1
        p["total_usd"] = round(p["total_usd"] + t["amount_usd"], 2)
    for p in places.values():
        point = locate(p["city"], p["region"], p["country"])
        if point is not None:
            p["lat"], p["lon"] = point[0], point[1]
            p["approximate"] = point[2]
    return sorted(places.values(), key=lambda p: (-p["n"], str(p["city"])))


def _total_usd(txns: list[dict[str, Any]], parties: dict[str, Any]) -> int:
    """Whole dollars moved in the evidence; a transfer between two parties counts once."""
    total = sum(t["amount_usd"] for t in txns
                if not (t["direction"] == "in" and t["counterparty_id"] in parties))
    return int(Decimal(str(total)).quantize(Decimal("1")))


def _timeline(txns: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events = [{"date": t["ts"][:10], "account_id": t["account_id"], "kind": "transaction",
               "label": f"{t['direction']} {t['amount']} {t['currency']} {t['channel']}"
                        + (f" {t['counterparty_id']}" if t["counterparty_id"] else ""),
               "amount_usd": t["amount_usd"]} for t in txns]
    events += [{"date": a["window_end"] or a["window_start"] or "", "account_id": a["account_id"],
                "kind": "alert", "label": f"{a['typology_id']} ({a['band']})",
                "amount_usd": None} for a in alerts]
    return sorted(events, key=lambda e: (e["date"], e["kind"] == "alert", e["account_id"]))


def _stamp(db: Any, run_ids: Iterable[str], built_at: datetime) -> dict[str, Any]:
    runs = sorted(set(run_ids))
    found = rows(db, f"SELECT * FROM runs WHERE run_id IN ({','.join('?' * len(runs))}) "
                     "ORDER BY started_at", runs) if runs else []
    inputs: dict[str, str] = {}
    for r in found:
        for f in json.loads(r["inputs"] or "[]"):
            inputs[f["sha256"]] = f["path"]
    last = found[-1] if found else {}
    return {
        "txflags_version": __version__,
        "catalogue_hash": last.get("catalogue_hash") or "",
        "parameters": {"overrides": json.loads(last.get("overrides") or "{}"),
                       "risk": json.loads(last.get("risk_config") or "{}"),
                       "catalogue_versions": json.loads(last.get("catalogue") or "{}")},
        "inputs": [{"path": p, "sha256": h} for h, p in sorted(inputs.items(),
                                                                key=lambda kv: kv[1])],
        "runs": [r["run_id"] for r in found],
        "built_at": built_at.astimezone(UTC).isoformat(timespec="seconds"),
    }


def build_packet(
    store: str | Path | Store, case_id: str, *, built_at: datetime | None = None,
    catalogue_root: str | Path | None = None, max_transactions: int = 5000,
    cfg: CaseConfig | None = None,
) -> Packet:
    """The packet of one case, as plain data (see ``model.Packet``)."""
    st = store if isinstance(store, Store) else Store(store)
    case = book.show_case(st, case_id, cfg)
    info = _catalogue_info(catalogue_root)
    with st.connect() as db:
        alerts = _alerts(db, case_id, info)
        alert_runs = [r[0] for r in db.execute(
            "SELECT DISTINCT run_id FROM case_alerts WHERE case_id = ?", (case_id,))]
        stamp = _stamp(db, [a["run_id"] for a in case["activity"]] + alert_runs,
                       built_at or datetime.now(UTC))
    parties = {p["account_id"]: p for p in case["parties"]}
    first = date.fromisoformat(case["first_activity"] or case["opened_on"])
    last = date.fromisoformat(case["last_activity"] or case["opened_on"])
    ids = {i for a in alerts for i in a["evidence_txn_ids"]}
    frame = _evidence(st, sorted(parties), ids, first, last, max_transactions)
    txns = _transactions(frame)
    subtypes = sorted({HUMAN_TRAFFICKING_SUBTYPE} | {c for a in alerts
                                                     for c in a["fincen_subtypes"]},
                      key=lambda c: (c != HUMAN_TRAFFICKING_SUBTYPE, c))
    days = sorted(t["ts"][:10] for t in txns)
    filed_on = case.get("filed_on")
    continuing = bool(filed_on) and any(a["kind"] in ("continuing", "reopened")
                                        and a["as_of"] > filed_on for a in case["activity"])
    packet: dict[str, Any] = {
        "packet_version": PACKET_VERSION,
        "case": {
            "case_id": case_id, "status": case["status"], "priority": case["priority"] or 0,
            "risk_score": float(case["risk_score"]), "priority_reasons":
            case["priority_reasons"], "opened_on": case["opened_on"],
            "first_activity": first.isoformat(), "last_activity": last.isoformat(),
            "sar_due": case["sar_due"], "review_due": case["review_due"],
            "continuing_sar_due": case["continuing_sar_due"], "families": case["families"],
            "typology_ids": case["typology_ids"], "n_alerts": len(alerts),
            "runs": stamp["runs"],
            "continuing_activity": any(a["kind"] != "opened" for a in case["activity"]),
            "n_parties_left_out": int(case.get("n_truncated") or 0),
        },
        "summary": "",
        "parties": [
            {"account_id": a, "customer_id": p["customer_id"], "role": p["role"],
             "role_reasons": p["role_reasons"], "is_subject": p["is_subject"],
             "victim_note": VICTIM_NOTE if p["role"] == "likely_victim" else None,
             "risk_score": float(p["risk_score"]), "families": p["families"],
             "kyc": {k: (str(v) if v is not None else None) for k, v in p["kyc"].items()
                     if k not in ("account_id", "customer_id")}}
            for a, p in sorted(parties.items(),
                               key=lambda kv: (not kv[1]["is_subject"], -kv[1]["risk_score"],
                                               kv[0]))
        ],
        "alerts": alerts,
        "transactions": txns,
        "timeline": _timeline(txns, alerts),
        "network": _network(txns, parties, case["links"]),
        "locations": _locations(txns),
        "filing": {
            "key_term": KEY_TERM, "fincen_subtypes": subtypes,
            "goaml_indicators": sorted({g for a in alerts for g in a["goaml_indicators"]}),
            "total_suspicious_usd": _total_usd(txns, parties),
            "from_date": days[0] if days else first.isoformat(),
            "to_date": days[-1] if days else last.isoformat(),
            "continuing": continuing,
            "prior_document_number": case.get("document_number") if continuing else None,
        },
        "stamp": stamp,
        "redaction": {"profile": "internal", "pseudonymised": []},
    }
    packet["summary"] = summary_sentence(packet)
    packet["narrative"] = draft_narrative(packet)
    return packet  # type: ignore[return-value]


def top_case_ids(store: str | Path | Store, n: int, statuses: list[str] | None = None
                 ) -> list[str]:
    """Ids of the ``n`` most urgent cases among ``statuses`` (default: active)."""
    return [c["case_id"] for c in book.list_cases(store, statuses, limit=n)]


__all__ = ["build_packet", "decimal_text", "top_case_ids"]
