"""Stored state of a typology configuration: per-account daily parts of summable windows
(``partial_key``) and the window-end hits of a dependency (``hits_key``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Typology
from txflags.features.conditions import in_hours
from txflags.features.context import FWD_COLUMNS, Context
from txflags.spans import names_used, window_of

#: Bump when the layout of the daily aggregates changes (old ones are then ignored).
AGG_FORMAT = "1"


#: Bump when what the stored dependency hits mean changes.
HITS_FORMAT = "1"


#: Aggregate features whose window value is a sum / max / min / ratio / union of daily parts.
DECOMPOSABLE = {
    "count", "sum_usd", "count_where", "sum_usd_where", "share_where", "usd_share_where",
    "n_distinct", "night_share", "night_or_weekend_share", "round_share", "max_per_day",
    "max_value", "min_value",
}


#: Derived features that read only the same account's rows of the same local day.
DAY_LOCAL_DERIVED = {"distinct_per_day"}


#: Row columns that depend on other days' rows (history before, outflows after).
CONTEXT_COLUMNS = {"cp_first_day", "cp_age_days", *FWD_COLUMNS}


def partial_key(t: Typology) -> str | None:
    """Key of ``t``'s per-account daily aggregates, or None when its windows cannot be summed
    from daily parts (a feature that reads other days or other accounts, or a measure such as
    a median). The key changes with the typology's version, parameters and detection."""
    det = t.detection
    if det.get("scope", "window") == "account" or not window_of(t):
        return None
    if any(s["feature"] not in DAY_LOCAL_DERIVED for s in (det.get("derive") or {}).values()):
        return None
    for spec in det["measures"].values():
        if features.get(spec["feature"]).kind == "agg" and spec["feature"] not in DECOMPOSABLE:
            return None
    if names_used(t) & CONTEXT_COLUMNS:
        return None
    return config_key(t)


def config_key(t: Typology, kind: str = "agg") -> str:
    """A key naming ``t``'s configuration: it changes with the typology's version, parameters
    and detection (``kind`` tells stored things of one configuration apart)."""
    blob = json.dumps(
        {"id": t.id, "version": t.version, "params": t.params, "detection": t.detection,
         "format": AGG_FORMAT if kind == "agg" else f"{kind}-{HITS_FORMAT}"},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def hits_key(t: Typology) -> str | None:
    """Key of the stored window-end hits of ``t`` as a dependency (``detect(dependency_hits=)``);
    None for account-scope typologies (they have no windows: computed from rows every night)."""
    if t.detection.get("scope", "window") == "account" or not window_of(t):
        return None
    return config_key(t, "hits")


def _mask(ctx: Context, feat: str, args: Mapping[str, Any]) -> pl.Expr:
    if feat == "share_where":
        return ctx.cond(args["where"])
    if feat == "night_share":
        return in_hours(pl.col("minute_of_day"), args.get("start", "22:00"),
                        args.get("end", "06:00"))
    if feat == "night_or_weekend_share":
        night = in_hours(pl.col("minute_of_day"), args.get("start", "22:00"),
                         args.get("end", "06:00"))
        return night | pl.col("is_weekend")
    # round_share
    amt = pl.col("amount_usd")
    u = float(args.get("unit", 10))
    mask = ((amt / u) - (amt / u).round(0)).abs() < 1e-6
    if args.get("low") is not None:
        mask = mask & (amt >= float(args["low"]))
    if args.get("high") is not None:
        mask = mask & (amt <= float(args["high"]))
    return mask


def partial_exprs(ctx: Context, name: str, spec: Mapping[str, Any]) -> tuple[list, pl.Expr]:
    """(daily part expressions, window expression over the parts) of one aggregate measure;
    the same values the feature computes over the window's rows."""
    feat = spec["feature"]
    args = ctx.args(spec.get("args"))
    p0, p1 = f"{name}__0", f"{name}__1"
    amt = pl.col("amount_usd")
    if feat in ("count", "max_per_day"):
        parts = [pl.len().cast(pl.Int64).alias(p0)]
        return parts, (pl.col(p0).sum() if feat == "count" else pl.col(p0).max())
    if feat == "sum_usd":
        return [amt.sum().alias(p0)], pl.col(p0).sum()
    if feat == "count_where":
        return [ctx.cond(args["where"]).cast(pl.Int64).sum().alias(p0)], pl.col(p0).sum()
    if feat == "sum_usd_where":
        return [amt.filter(ctx.cond(args["where"])).sum().alias(p0)], pl.col(p0).sum()
    if feat == "usd_share_where":
        parts = [amt.filter(ctx.cond(args["where"])).sum().alias(p0), amt.sum().alias(p1)]
        total = pl.col(p1).sum()
        return parts, pl.when(total > 0).then(pl.col(p0).sum() / total).otherwise(0.0)
    if feat in ("share_where", "night_share", "night_or_weekend_share", "round_share"):
        mask = _mask(ctx, feat, args)
        parts = [mask.cast(pl.Int64).sum().alias(p0), mask.count().cast(pl.Int64).alias(p1)]
        n = pl.col(p1).sum()
        return parts, pl.when(n > 0).then(pl.col(p0).sum() / n).otherwise(0.0)
    if feat == "n_distinct":
        col = pl.col(args.get("column", "counterparty_id"))
        if args.get("where"):
            col = col.filter(ctx.cond(args["where"]))
        return [col.drop_nulls().unique().alias(p0)], (
            pl.col(p0).list.explode(keep_nulls=False, empty_as_null=False).n_unique().cast(pl.Int64)
        )
    if feat == "max_value":
        return [pl.col(args["column"]).max().alias(p0)], pl.col(p0).max()
    if feat == "min_value":
        return [pl.col(args["column"]).min().alias(p0)], pl.col(p0).min()
    raise ValueError(f"{feat} has no daily parts")  # partial_key() excludes it


@dataclass
class Partial:
    """How one typology reads daily parts: the stored ones (days before tonight the store
    holds) and the local days to compute from rows."""

    stored: pl.LazyFrame | None
    raw_days: set[date]
    daily: pl.LazyFrame | None = None  # the computed parts, when already collected
