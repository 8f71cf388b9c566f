"""Combine hits into one risk row per account (TYPOLOGIES.md §1.3).

Deliberately small and replaceable: a later stage adds model scores as further contributions.

Score of an account, over the hits whose window ended within ``window_days`` of the as-of day:

- each hit contributes ``weight × band_factor[band]`` (weight: the typology's, or ``weights``);
- a family counts its strongest hit in full and each further hit at ``repeat_factor``;
- ``risk_score = sum(family scores) × (1 + co_occurrence_bonus × (n_families − 1))``, so
  indicators from different families count for more than one family repeated;
- ``flagged`` when ``n_families >= families_min``, or a high-weight indicator fires at or above
  its band (``high_weight``), or ``risk_score >= threshold``.

The role hint follows §1.3: any victim-side hit makes the account a ``possible_victim`` (FinCEN
FC20: do not list a potential victim as a suspect); otherwise the role with the most weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from txflags.errors import InputError

BANDS = ("low", "medium", "high")

#: High-weight indicators (§1.3) that open a case alone, with the lowest band that counts.
HIGH_WEIGHT: dict[str, str] = {
    "kyc.staff_observed": "low",
    "kyc.ad_identifier_match": "low",
    "crypto.high_risk_exposure": "high",
    "crypto.night_small_payments": "low",
    "remittance.sextortion_bursts": "medium",
    "funnel.pays_flagged_collection": "high",
}

RISK_SCHEMA = pl.Schema(
    {
        "account_id": pl.String,
        "risk_score": pl.Float64,
        "flagged": pl.Boolean,
        "flag_reason": pl.String,
        "families": pl.List(pl.String),
        "n_families": pl.UInt32,
        "typology_ids": pl.List(pl.String),
        "n_alerts": pl.UInt32,
        "role_hint": pl.String,
        "top_reasons": pl.List(pl.String),
    }
)


@dataclass(frozen=True)
class RiskConfig:
    """Scoring settings; every field can be set under ``risk:`` in a profile file."""

    band_factor: Mapping[str, float] = field(
        default_factory=lambda: {"low": 0.5, "medium": 1.0, "high": 1.5}
    )
    weights: Mapping[str, float] = field(default_factory=dict)
    repeat_factor: float = 0.5
    co_occurrence_bonus: float = 0.5
    window_days: int = 90
    families_min: int = 3
    threshold: float = 9.0
    high_weight: Mapping[str, str] = field(default_factory=lambda: dict(HIGH_WEIGHT))
    top_reasons: int = 3

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RiskConfig:
        """Defaults updated with ``data`` (unknown keys and bad values are InputError)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"unknown risk setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        base = cls()
        for key in ("band_factor", "high_weight"):
            if key in data:
                if not isinstance(data[key], Mapping):
                    raise InputError(f"risk.{key} must be a mapping")
                data[key] = {**getattr(base, key), **data[key]}
        try:
            cfg = cls(**data)
        except TypeError as exc:
            raise InputError(f"bad risk settings: {exc}") from None
        cfg.check()
        # a YAML `threshold: 9` means 9.0: keep numbers' types stable in outputs and reasons
        floats = ("repeat_factor", "co_occurrence_bonus", "threshold")
        return replace(cfg, **{name: float(getattr(cfg, name)) for name in floats})

    def check(self) -> None:
        for name in ("repeat_factor", "co_occurrence_bonus", "threshold"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise InputError(f"risk.{name} must be a number >= 0, got {v!r}")
        for name in ("window_days", "families_min", "top_reasons"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"risk.{name} must be an integer >= 1, got {v!r}")
        bad = {b for b in [*self.band_factor, *self.high_weight.values()] if b not in BANDS}
        if bad:
            raise InputError(f"risk bands must be one of {', '.join(BANDS)}; got {sorted(bad)}")

    def as_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(self).items()}


def _rank(band: pl.Expr) -> pl.Expr:
    return band.replace_strict({b: i for i, b in enumerate(BANDS)}, default=0, return_dtype=pl.Int8)


def score(alerts: pl.DataFrame | pl.LazyFrame, as_of: date, cfg: RiskConfig) -> pl.DataFrame:
    """One risk row per account with an alert in the window (RISK_SCHEMA), highest score first.

    ``alerts`` needs: account_id, typology_id, family, band, weight, role_hint, sentence,
    window_end (null for account-level hits, which always count).
    """
    since = as_of - timedelta(days=cfg.window_days - 1)
    hw_ids = list(cfg.high_weight)
    hw_min = pl.col("typology_id").replace_strict(
        {k: BANDS.index(v) for k, v in cfg.high_weight.items()}, default=99, return_dtype=pl.Int8
    )
    weight = pl.col("typology_id").replace_strict(
        dict(cfg.weights), default=pl.col("weight").cast(pl.Float64), return_dtype=pl.Float64
    )
    hits = (
        alerts.lazy()
        .filter(pl.col("window_end").is_null() | pl.col("window_end").is_between(since, as_of))
        .with_columns(
            (
                weight
                * pl.col("band").replace_strict(
                    dict(cfg.band_factor), default=1.0, return_dtype=pl.Float64
                )
            ).alias("_c"),
            (pl.col("typology_id").is_in(hw_ids) & (_rank(pl.col("band")) >= hw_min)).alias("_hw"),
        )
    )
    fam = (
        hits.group_by("account_id", "family")
        .agg(
            (pl.col("_c").max() + cfg.repeat_factor * (pl.col("_c").sum() - pl.col("_c").max()))
            .alias("_fs")
        )
        .group_by("account_id")
        .agg(pl.col("_fs").sum().alias("_base"))
    )
    role_w = (
        hits.group_by("account_id", "role_hint")
        .agg(pl.col("_c").sum().alias("_rw"))
        .group_by("account_id")
        .agg(
            (pl.col("role_hint") == "victim").any().alias("_victim"),
            pl.col("role_hint").sort_by("_rw", "role_hint", descending=[True, False]).first()
            .alias("_top_role"),
        )
    )
    per = hits.group_by("account_id").agg(
        pl.col("family").unique().sort().alias("families"),
        pl.col("typology_id").unique().sort().alias("typology_ids"),
        pl.len().cast(pl.UInt32).alias("n_alerts"),
        pl.col("_hw").any().alias("_hw"),
        pl.col("typology_id").filter(pl.col("_hw")).unique().sort().alias("_hw_ids"),
        pl.col("sentence")
        .sort_by("_c", "typology_id", descending=[True, False])
        .head(cfg.top_reasons)
        .alias("top_reasons"),
    )
    n_fam = pl.col("families").list.len().cast(pl.UInt32)
    score_expr = (
        pl.col("_base") * (1 + cfg.co_occurrence_bonus * (n_fam.cast(pl.Float64) - 1))
    ).round(3)
    out = (
        per.join(fam, on="account_id")
        .join(role_w, on="account_id")
        .with_columns(n_fam.alias("n_families"), score_expr.alias("risk_score"))
        .with_columns(
            pl.when(pl.col("n_families") >= cfg.families_min)
            .then(pl.format("{} families within {} days", "n_families", pl.lit(cfg.window_days)))
            .when(pl.col("_hw"))
            .then(pl.format("high-weight indicator: {}", pl.col("_hw_ids").list.join(", ")))
            .when(pl.col("risk_score") >= cfg.threshold)
            .then(pl.format("risk score {} >= {}", "risk_score", pl.lit(cfg.threshold)))
            .alias("flag_reason"),
            pl.when(pl.col("_victim"))
            .then(pl.lit("possible_victim"))
            .otherwise(pl.col("_top_role"))
            .alias("role_hint"),
        )
        .with_columns(pl.col("flag_reason").is_not_null().alias("flagged"))
        .select(RISK_SCHEMA.names())
        .sort(["risk_score", "account_id"], descending=[True, False])
    )
    return out.collect().cast(dict(RISK_SCHEMA))  # type: ignore[arg-type]


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RISK_SCHEMA)
