"""Account-level evaluation of the anomaly models against generated ground truth.

A generated period is replayed as nightly batches: the first ``warmup_days`` local days are
learned only, every later day is scored (against what was learned before it) and then learned.
An account's anomaly score is its highest combined model score over the scored days
(``scoring.anomaly_per_account``). Rules: ``engine.detect`` over the whole period, hits whose
window ends on a scored day, typology weights summed per account. Combined: ``scoring.combine``.
ROC-AUC and PR-AUC (average precision, scikit-learn) for each, overall and per family (positives
of that family against every negative account).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

from txflags.catalogue import load_catalogue
from txflags.engine import detect
from txflags.models.base import DailyModel
from txflags.models.daily import daily_features
from txflags.models.suite import ModelSuite
from txflags.scoring import CombineConfig, anomaly_per_account, combine


def _metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float | None]:
    if y.min() == y.max():
        return {"roc_auc": None, "pr_auc": None}
    return {"roc_auc": round(float(roc_auc_score(y, s)), 4),
            "pr_auc": round(float(average_precision_score(y, s)), 4)}


def rules_scores(
    transactions: pl.LazyFrame, accounts: pl.LazyFrame, report_from: Any
) -> pl.DataFrame:
    """account_id, risk_score (sum of typology weights), flagged, families, top_reasons."""
    hits = detect(transactions, accounts, load_catalogue(), report_from=report_from).hits
    return hits.group_by("account_id").agg(
        pl.col("weight").cast(pl.Float64).sum().alias("risk_score"),
        pl.lit(False).alias("flagged"),
        pl.col("family").unique().sort().alias("families"),
        pl.col("sentence").head(3).alias("top_reasons"),
    )


def evaluate(
    data: str | Path,
    *,
    warmup_days: int = 21,
    models: Sequence[DailyModel] | None = None,
    combine_cfg: CombineConfig | None = None,
) -> dict[str, Any]:
    """Replay ``data`` (a ``txflags synth`` folder) night by night; AUCs per score and family."""
    d = Path(data)
    txns = pl.scan_parquet(d / "transactions.parquet")
    accts = pl.scan_parquet(d / "accounts.parquet")
    truth = pl.read_parquet(d / "truth_accounts.parquet").select("account_id", "label", "family")
    cfg = combine_cfg or CombineConfig(day_agg="mean")
    t0 = time.perf_counter()
    daily = daily_features(txns, accts).collect()
    days = daily["day"].unique().sort()
    first_scored = days[min(warmup_days, len(days) - 1)]
    suite = ModelSuite([m.clone() for m in models] if models is not None else None,
                       explain_min=1.01)
    scores = []
    for night in daily.partition_by("day", maintain_order=True):
        s = suite.update_and_score(night)
        if night["day"][0] >= first_scored:
            scores.append(s)
    anomaly = pl.concat(scores)
    t_models = time.perf_counter() - t0
    rules = rules_scores(txns, accts, first_scored)
    combined = combine(rules, anomaly, CombineConfig(**{**cfg.__dict__, "report_min": 0.0}))
    per_model = {
        m.name: anomaly_per_account(anomaly.filter(pl.col("model") == m.name), cfg)
        .select("account_id", pl.col("anomaly_score").alias(f"model_{m.name}"))
        for m in suite.models
    }
    frame = truth.join(
        combined.select("account_id", "rule_score", "anomaly_score",
                        pl.col("risk_score").alias("combined")),
        on="account_id", how="left",
    )
    for f in per_model.values():
        frame = frame.join(f, on="account_id", how="left")
    frame = frame.fill_null(0.0)
    cols = ["anomaly_score", "rule_score", "combined", *[f"model_{n}" for n in per_model]]
    names = {"anomaly_score": "anomaly", "rule_score": "rules"}

    def table(sub: pl.DataFrame) -> dict[str, Any]:
        y = sub["label"].to_numpy()
        return {names.get(c, c): _metrics(y, sub[c].to_numpy()) for c in cols}

    neg = frame.filter(pl.col("label") == 0)
    pos = frame.filter(pl.col("label") == 1)
    by_family = {
        fam: {"positives": pos.filter(pl.col("family") == fam).height,
              **table(pl.concat([pos.filter(pl.col("family") == fam), neg]))}
        for fam in sorted(pos["family"].drop_nulls().unique().to_list())
    }
    return {
        "accounts": frame.height,
        "positives": pos.height,
        "days": len(days),
        "warmup_days": warmup_days,
        "scored_days": int((days >= first_scored).sum()),
        "models": [repr(m) for m in suite.models],
        "seconds_models": round(t_models, 2),
        "overall": table(frame),
        "by_family": by_family,
    }
