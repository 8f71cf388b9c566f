"""combine(): rule risk + anomaly scores -> one risk frame with reasons."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from txflags.errors import InputError
from txflags.models import SCORES_SCHEMA
from txflags.risk import RISK_SCHEMA
from txflags.scoring import CombineConfig, combine

D = date(2026, 2, 1)


def _risk():
    rows = [
        {"account_id": "R1", "risk_score": 10.0, "flagged": False, "flag_reason": None,
         "families": ["cash"], "n_families": 1, "typology_ids": ["cash.x"], "n_alerts": 1,
         "role_hint": "victim", "top_reasons": ["rule reason"]},
        {"account_id": "R2", "risk_score": 14.0, "flagged": True, "flag_reason": "score",
         "families": ["cash", "lodging"], "n_families": 2, "typology_ids": ["a", "b"],
         "n_alerts": 2, "role_hint": "victim", "top_reasons": ["r2"]},
    ]
    return pl.DataFrame(rows, schema=RISK_SCHEMA)


def _anomaly():
    rows = [
        ("R1", "baseline", 0.8, ["cash deposits today $900, 9× usual"]),
        ("R1", "hst", 0.6, []),
        ("Z9", "hst", 0.95, ["cash deposits today $5,000, typical $0"]),
        ("Z9", "baseline", 0.95, []),
        ("Q1", "hst", 0.2, []),
    ]
    return pl.DataFrame(
        [{"account_id": a, "day": D, "model": m, "score": s, "top_features": [], "reasons": r}
         for a, m, s, r in rows],
        schema=SCORES_SCHEMA,
    )


def test_combine_adds_scores_reasons_and_flags():
    risk, anomaly = _risk(), _anomaly()
    out = combine(risk, anomaly)
    assert out.columns == [*RISK_SCHEMA.names(), "rule_score", "anomaly_score", "anomaly_reasons"]
    r1 = out.filter(pl.col("account_id") == "R1").row(0, named=True)
    assert r1["anomaly_score"] == pytest.approx((0.5 * 0.8 + 0.6) / 1.5)
    assert r1["risk_score"] == pytest.approx(10 + 4 * r1["anomaly_score"], abs=1e-3)
    assert r1["flagged"] and "with anomaly" in r1["flag_reason"]
    assert r1["anomaly_reasons"] == ["2026-02-01 baseline: cash deposits today $900, 9× usual"]
    assert r1["top_reasons"] == ["rule reason"] and r1["rule_score"] == 10.0
    z9 = out.filter(pl.col("account_id") == "Z9").row(0, named=True)
    assert not z9["flagged"] and z9["families"] == [] and z9["n_alerts"] == 0
    assert "Q1" not in out["account_id"].to_list()  # below report_min, no rule hit
    assert out["risk_score"].is_sorted(descending=True)
    assert risk.equals(_risk()) and anomaly.equals(_anomaly())  # inputs untouched


def test_weights_are_configurable():
    out = combine(_risk(), _anomaly(), {"anomaly_weight": 0.0, "anomaly_flag": 0.9})
    r1 = out.filter(pl.col("account_id") == "R1").row(0, named=True)
    assert r1["risk_score"] == 10.0 and not r1["flagged"]
    z9 = out.filter(pl.col("account_id") == "Z9").row(0, named=True)
    assert z9["flagged"] and z9["flag_reason"] == "anomaly score 0.95 >= 0.9"
    with pytest.raises(InputError, match="unknown"):
        CombineConfig.from_dict({"nope": 1})


def test_minimal_risk_frame_and_empty_anomaly():
    risk = pl.DataFrame({"account_id": ["A"], "risk_score": [3.0], "flagged": [False],
                         "families": [["cash"]], "top_reasons": [["x"]]})
    out = combine(risk, pl.DataFrame(schema=SCORES_SCHEMA))
    assert out.row(0, named=True)["anomaly_score"] == 0.0
    assert out["risk_score"].to_list() == [3.0]
