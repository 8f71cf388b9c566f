"""Daily entity features: one row per (account_id, local day), a fixed and versioned list.

The models never see raw transactions, only these vectors, so a night of millions of rows costs
one Polars group-by plus work per *active account*. Local time, the night window and the MCC
groups come from the feature library (``features.context.local_time``,
``features.conditions.in_hours``, ``features.mcc.mcc_groups``).

Bump ``FEATURE_VERSION`` whenever a feature's definition changes: saved model state is stamped
with it and refuses to load under a different version.

>>> from txflags.models.daily import FEATURES, FEATURE_NAMES
>>> FEATURES["usd_in_cash"].label
'cash deposits'
>>> len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from txflags.features.conditions import in_hours
from txflags.features.context import pair_key
from txflags.features.local_time import local_time
from txflags.features.mcc import mcc_groups

FEATURE_VERSION = "1"

#: Channel groups: group -> canonical channels in it.
CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "cash": ("cash", "atm"),
    "p2p": ("p2p",),
    "mt": ("money_transfer",),
    "card": ("card",),
    "crypto": ("crypto",),
    "wire": ("wire", "ach"),
}
_IN_WORDS = {
    "cash": "cash deposits",
    "p2p": "P2P payments received",
    "mt": "money transfers received",
    "card": "card credits",
    "crypto": "crypto credits",
    "wire": "wire/ACH credits",
}
_OUT_WORDS = {
    "cash": "cash withdrawals",
    "p2p": "P2P payments sent",
    "mt": "money transfers sent",
    "card": "card spending",
    "crypto": "crypto purchases",
    "wire": "wire/ACH debits",
}
#: MCC groups whose share of the day's outgoing USD is a feature (names in mcc_groups.yaml).
MCC_SHARE_GROUPS = ("lodging", "ads_adult", "upkeep")
#: Counterparty countries of concern (the default ``corridors`` of remittance typologies).
CORRIDORS = ("PH", "TH", "DO", "CO", "MX", "ID", "VN", "KH", "LA", "MM", "MY")
NIGHT = ("22:00", "06:00")

#: Scale caps: amounts and counts are mapped to [0, 1] by log1p(x) / log1p(cap), clipped.
CAPS = {"amount": 1_000_000.0, "count": 1_000.0, "share": 1.0}


@dataclass(frozen=True)
class DailyFeature:
    """One daily feature: its kind (amount in USD, count or share 0-1) and words for reasons."""

    name: str
    kind: str
    label: str
    doc: str


def _catalogue() -> dict[str, DailyFeature]:
    f: list[DailyFeature] = [
        DailyFeature("n_in", "count", "incoming transactions", "number of credits"),
        DailyFeature("n_out", "count", "outgoing transactions", "number of debits"),
        DailyFeature("usd_in", "amount", "money received", "USD credited"),
        DailyFeature("usd_out", "amount", "money sent or spent", "USD debited"),
    ]
    for g, chans in CHANNEL_GROUPS.items():
        via = "/".join(chans)
        f += [
            DailyFeature(f"n_in_{g}", "count", f"number of {_IN_WORDS[g]}", f"credits via {via}"),
            DailyFeature(f"usd_in_{g}", "amount", _IN_WORDS[g], f"USD credited via {via}"),
            DailyFeature(f"n_out_{g}", "count", f"number of {_OUT_WORDS[g]}", f"debits via {via}"),
            DailyFeature(f"usd_out_{g}", "amount", _OUT_WORDS[g], f"USD debited via {via}"),
        ]
    f += [
        DailyFeature("n_counterparties", "count", "distinct counterparties",
                     "distinct non-null counterparty_id"),
        DailyFeature("n_new_counterparties", "count", "new counterparties",
                     "counterparties first seen for this account on this day (in the data seen)"),
        DailyFeature("night_share", "share", "share of transactions at night",
                     f"share booked {NIGHT[0]}-{NIGHT[1]} local time"),
        DailyFeature("n_cities", "count", "distinct cities", "distinct non-null city"),
        DailyFeature("usd_corridor_out", "amount", "money sent to corridor countries",
                     "USD debited to a counterparty in CORRIDORS"),
        DailyFeature("usd_corridor_in", "amount", "money received from corridor countries",
                     "USD credited from a counterparty in CORRIDORS"),
    ]
    for g in MCC_SHARE_GROUPS:
        words = g.replace("_", "/")
        f.append(DailyFeature(f"share_{g}", "share", f"share of spending on {words} merchants",
                              f"share of the day's outgoing USD with an MCC in group {g}"))
    f.append(DailyFeature("cash_share", "share", "cash share of turnover",
                          "share of the day's USD (in + out) via cash/atm"))
    return {x.name: x for x in f}


FEATURES: dict[str, DailyFeature] = _catalogue()
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)
KEYS = ("account_id", "day")

_ROW_COLS = ("account_id", "ts", "direction", "amount_usd", "channel", "mcc",
             "counterparty_id", "counterparty_country", "city")


def _rows(
    txns: pl.LazyFrame,
    accounts: pl.LazyFrame,
    zones: Iterable[str],
    span: tuple[datetime, datetime] | None,
) -> pl.LazyFrame:
    """The columns the daily features need, with local day, minute of day and new-counterparty."""
    tz = accounts.select("account_id", "timezone").unique("account_id", keep="first")
    local = local_time(pl.col("ts"), pl.col("timezone"), zones, span)
    rows = txns.select(*_ROW_COLS).join(tz, on="account_id", how="left").with_columns(
        local.alias("_local")
    )
    return rows.with_columns(
        pl.col("_local").dt.date().alias("day"),
        (pl.col("_local").dt.hour().cast(pl.Int32) * 60 + pl.col("_local").dt.minute())
        .alias("minute_of_day"),
    ).with_columns(
        pl.col("day").min().over(pair_key("account_id", "counterparty_id")).alias("cp_first_day"),
    )


def _safe_div(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num / den).otherwise(0.0)


def _aggs() -> list[pl.Expr]:
    amt = pl.col("amount_usd")
    inn, out = pl.col("direction") == "in", pl.col("direction") == "out"
    exprs = [
        inn.sum().cast(pl.Float64).alias("n_in"),
        out.sum().cast(pl.Float64).alias("n_out"),
        amt.filter(inn).sum().alias("usd_in"),
        amt.filter(out).sum().alias("usd_out"),
    ]
    for g, chans in CHANNEL_GROUPS.items():
        m = pl.col("channel").cast(pl.String).is_in(list(chans))
        exprs += [
            (m & inn).sum().cast(pl.Float64).alias(f"n_in_{g}"),
            amt.filter(m & inn).sum().alias(f"usd_in_{g}"),
            (m & out).sum().cast(pl.Float64).alias(f"n_out_{g}"),
            amt.filter(m & out).sum().alias(f"usd_out_{g}"),
        ]
    cp = pl.col("counterparty_id")
    corridor = pl.col("counterparty_country").is_in(list(CORRIDORS)).fill_null(False)
    night = in_hours(pl.col("minute_of_day"), *NIGHT)
    groups = mcc_groups()
    exprs += [
        cp.drop_nulls().n_unique().cast(pl.Float64).alias("n_counterparties"),
        cp.filter(pl.col("cp_first_day") == pl.col("day")).drop_nulls().n_unique()
        .cast(pl.Float64).alias("n_new_counterparties"),
        night.cast(pl.Float64).mean().alias("night_share"),
        pl.col("city").drop_nulls().n_unique().cast(pl.Float64).alias("n_cities"),
        amt.filter(out & corridor).sum().alias("usd_corridor_out"),
        amt.filter(inn & corridor).sum().alias("usd_corridor_in"),
    ]
    usd_out = amt.filter(out).sum()
    for g in MCC_SHARE_GROUPS:
        in_g = pl.col("mcc").cast(pl.Int32).is_in(list(groups[g])).fill_null(False)
        exprs.append(_safe_div(amt.filter(out & in_g).sum(), usd_out).alias(f"share_{g}"))
    is_cash = pl.col("channel").cast(pl.String).is_in(list(CHANNEL_GROUPS["cash"]))
    exprs.append(_safe_div(amt.filter(is_cash).sum(), amt.sum()).alias("cash_share"))
    return exprs


def daily_features(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pl.LazyFrame:
    """One row per (account_id, local day) with ``FEATURE_NAMES`` (Float64), sorted by the keys.

    ``transactions``/``accounts`` are canonical frames. Rows outside [start, end] (local days)
    are context only: pass the store's lookback history with the new batch so that
    "new counterparty" means new against that history; only the batch's days come out.
    """
    txns, accts = transactions.lazy(), accounts.lazy()
    zones = (
        accts.select(pl.col("timezone").drop_nulls().unique().sort()).collect()["timezone"]
        .to_list()
    )
    span = txns.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")).collect()
    rows = _rows(txns, accts, zones, (span["lo"][0], span["hi"][0]))
    if start is not None:
        rows = rows.filter(pl.col("day") >= start)
    if end is not None:
        rows = rows.filter(pl.col("day") <= end)
    return (
        rows.group_by(*KEYS)
        .agg(_aggs())
        .with_columns(pl.col(FEATURE_NAMES).fill_null(0.0).cast(pl.Float64))
        .select(*KEYS, *FEATURE_NAMES)
        .sort(*KEYS)
    )


def scale(names: Sequence[str], x: np.ndarray) -> np.ndarray:
    """Map raw feature values (columns in ``names`` order) into [0, 1] (log scale for amounts
    and counts, shares as they are). Unknown names are treated as shares; NaN stays NaN."""
    out = np.empty_like(x, dtype=np.float64)
    for j, name in enumerate(names):
        kind = FEATURES[name].kind if name in FEATURES else "share"
        col = np.maximum(x[:, j], 0.0)
        out[:, j] = col if kind == "share" else np.log1p(col) / np.log1p(CAPS[kind])
    return np.clip(out, 0.0, 1.0)


def unscale(name: str, v: float) -> float:
    """Inverse of ``scale`` for one value (a typical scaled value back in units)."""
    kind = FEATURES[name].kind if name in FEATURES else "share"
    return v if kind == "share" else float(np.expm1(v * np.log1p(CAPS[kind])))


def fmt_value(name: str, v: float) -> str:
    """A feature value in words: $1,234 / 12 / 35%."""
    kind = FEATURES[name].kind if name in FEATURES else "share"
    if kind == "amount":
        return f"${v:,.0f}"
    if kind == "count":
        return f"{v:,.1f}".removesuffix(".0")
    return f"{v:.0%}"


def label(name: str) -> str:
    return FEATURES[name].label if name in FEATURES else name.replace("_", " ")
