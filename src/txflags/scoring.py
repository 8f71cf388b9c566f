"""One risk score: typology risk plus anomaly scores, with rule and model reasons.

``combine(hits_risk, anomaly, cfg)`` takes the per-account rule risk (``risk.score``'s frame, or
any frame with ``account_id``, ``risk_score``, ``flagged``) and the model scores
(``ModelSuite.update_and_score``: account_id, day, model, score, top_features, reasons) and
returns the risk frame with:

- ``rule_score``: the rule ``risk_score`` as it came in;
- ``anomaly_score`` in [0, 1]: per account-day, the weighted mean of the models' scores
  (``model_weights``; ``how="max"`` takes the largest weighted score instead), then the highest
  day of the batch;
- ``anomaly_reasons``: up to ``top_reasons`` model sentences from that day, strongest model first,
  each as "YYYY-MM-DD model: sentence";
- ``risk_score = rules_weight × rule_score + anomaly_weight × anomaly_score``;
- ``flagged``: flagged by the rules, or ``risk_score >= threshold``, or (only when
  ``anomaly_flag`` is set) ``anomaly_score >= anomaly_flag``. By default an anomaly alone never
  flags: unusual is not suspicious, and many unusual accounts are victims or ordinary customers.

Accounts with no rule hit appear only when ``anomaly_score >= report_min``.

Over several days (``day_agg``): "max" (default; a nightly scan scores one day) or "mean" of
the account's daily scores (what the evaluation uses over a period; reasons from its top day).

Defaults (``CombineConfig()``): model weights baseline 0.5, hst 1, iforest 1; rules_weight 1;
anomaly_weight 4 (a score of 1 adds a third of the rule threshold); threshold 12 (as
``risk.RiskConfig``); report_min 0.9; anomaly_flag None; top_reasons 3; how "mean"; day_agg "max".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl

from txflags.errors import InputError

ADDED = pl.Schema(
    {
        "rule_score": pl.Float64,
        "anomaly_score": pl.Float64,
        "anomaly_reasons": pl.List(pl.String),
    }
)


@dataclass(frozen=True)
class CombineConfig:
    """Weights of the combined score (settable under ``models:`` in a profile file)."""

    model_weights: Mapping[str, float] = field(
        default_factory=lambda: {"baseline": 0.5, "hst": 1.0, "iforest": 1.0}
    )
    rules_weight: float = 1.0
    anomaly_weight: float = 4.0
    threshold: float = 12.0
    report_min: float = 0.9
    anomaly_flag: float | None = None
    top_reasons: int = 3
    how: str = "mean"
    day_agg: str = "max"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CombineConfig:
        data = dict(data or {})
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise InputError(f"unknown model setting(s): {', '.join(unknown)}")
        if "model_weights" in data:
            data["model_weights"] = {**cls().model_weights, **data["model_weights"]}
        cfg = cls(**data)
        for key in ("how", "day_agg"):
            if getattr(cfg, key) not in ("mean", "max"):
                raise InputError(f"models.{key} must be 'mean' or 'max', got {getattr(cfg, key)!r}")
        return cfg


def anomaly_per_account(anomaly: pl.DataFrame, cfg: CombineConfig | None = None) -> pl.DataFrame:
    """account_id, anomaly_score, anomaly_day, anomaly_reasons: the account's most unusual day."""
    cfg = cfg or CombineConfig()
    if anomaly.height == 0:
        return pl.DataFrame(schema={"account_id": pl.String, "anomaly_score": pl.Float64,
                                    "anomaly_day": pl.Date, "anomaly_reasons": ADDED[
                                        "anomaly_reasons"]})
    w = pl.col("model").replace_strict(dict(cfg.model_weights), default=1.0,
                                       return_dtype=pl.Float64)
    scored = anomaly.with_columns(w.alias("_w"), (w * pl.col("score")).alias("_ws"))
    day_score = (
        (pl.col("_ws").sum() / pl.col("_w").sum()) if cfg.how == "mean" else pl.col("_ws").max()
    )
    per_day = scored.group_by("account_id", "day").agg(
        day_score.clip(0.0, 1.0).alias("anomaly_score"),
        pl.col("reasons").sort_by("_ws", descending=True).alias("_reasons"),
        pl.col("model").sort_by("_ws", descending=True).alias("_models"),
    )
    best = (
        per_day.sort(["anomaly_score", "day"], descending=[True, True])
        .group_by("account_id", maintain_order=True)
        .first()
    )
    reasons = (
        best.select("account_id", "day", "_models", "_reasons")
        .explode("_models", "_reasons")
        .explode("_reasons")
        .drop_nulls("_reasons")
        .with_columns(pl.format("{} {}: {}", pl.col("day").cast(pl.String), "_models",
                                "_reasons").alias("_line"))
        .group_by("account_id", maintain_order=True)
        .agg(pl.col("_line").head(cfg.top_reasons).alias("anomaly_reasons"))
    )
    if cfg.day_agg == "mean":
        means = per_day.group_by("account_id").agg(pl.col("anomaly_score").mean())
        best = best.drop("anomaly_score").join(means, on="account_id")
    return (
        best.select("account_id", "anomaly_score", pl.col("day").alias("anomaly_day"))
        .join(reasons, on="account_id", how="left")
        .with_columns(pl.col("anomaly_reasons").fill_null([]))
    )


def combine(
    hits_risk: pl.DataFrame,
    anomaly: pl.DataFrame,
    cfg: CombineConfig | Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """The rule risk frame with anomaly scores, reasons and the combined score (see module doc).

    Does not modify its inputs; sorted by risk_score (descending), then account_id.
    """
    cfg = cfg if isinstance(cfg, CombineConfig) else CombineConfig.from_dict(cfg)
    acc = anomaly_per_account(anomaly, cfg).drop("anomaly_day")
    risk = hits_risk.with_columns(pl.col("risk_score").cast(pl.Float64).alias("rule_score"))
    extra = acc.join(risk.select("account_id"), on="account_id", how="anti").filter(
        pl.col("anomaly_score") >= cfg.report_min
    )
    out = pl.concat(
        [risk.join(acc, on="account_id", how="left"), extra], how="diagonal_relaxed"
    )
    fills: list[pl.Expr] = [
        pl.col("rule_score").fill_null(0.0),
        pl.col("anomaly_score").fill_null(0.0),
        pl.col("anomaly_reasons").fill_null([]),
        pl.col("flagged").fill_null(False),
    ]
    for name, dtype in out.schema.items():
        if isinstance(dtype, pl.List) and name != "anomaly_reasons":
            fills.append(pl.col(name).fill_null([]))
        elif name in ("n_families", "n_alerts"):
            fills.append(pl.col(name).fill_null(0))
    out = out.with_columns(fills)
    combined = (cfg.rules_weight * pl.col("rule_score")
                + cfg.anomaly_weight * pl.col("anomaly_score")).round(3)
    by_score = ~pl.col("flagged") & (combined >= cfg.threshold)
    by_anomaly = (
        ~pl.col("flagged") & (pl.col("anomaly_score") >= cfg.anomaly_flag)
        if cfg.anomaly_flag is not None else pl.lit(False)
    )
    reason = (
        pl.when(by_score)
        .then(pl.format("risk score {} >= {} with anomaly {}", combined.round(2),
                        pl.lit(cfg.threshold), pl.col("anomaly_score").round(2)))
        .when(by_anomaly)
        .then(pl.format("anomaly score {} >= {}", pl.col("anomaly_score").round(2),
                        pl.lit(cfg.anomaly_flag)))
    )
    new_cols = [
        combined.alias("risk_score"),
        (pl.col("flagged") | by_score | by_anomaly).alias("flagged"),
    ]
    if "flag_reason" in out.columns:
        new_cols.append(pl.coalesce(pl.col("flag_reason"), reason).alias("flag_reason"))
    out = out.with_columns(new_cols)
    front = list(hits_risk.columns)
    rest = [c for c in ADDED.names() if c not in front]
    return out.select(*front, *rest).sort(["risk_score", "account_id"], descending=[True, False])
