"""Aggregate features: one value per account and window, over the rows the typology selected.

Each returns a ``pl.Expr`` evaluated inside a rolling window per account (or over all of an
account's rows when the typology has no window). ``where`` arguments are condition lists.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from txflags.features.conditions import in_hours
from txflags.features.context import Context
from txflags.features.registry import feature

AMT = pl.col("amount_usd")


def _share(mask: pl.Expr) -> pl.Expr:
    return mask.cast(pl.Float64).mean().fill_null(0.0)


@feature("agg")
def count(ctx: Context) -> pl.Expr:
    """Number of selected transactions in the window."""
    return pl.len().cast(pl.Int64)


@feature("agg")
def sum_usd(ctx: Context) -> pl.Expr:
    """Total amount_usd of the selected transactions in the window."""
    return AMT.sum()


@feature("agg")
def count_where(ctx: Context, where: list) -> pl.Expr:
    """Number of selected transactions in the window that also meet ``where``."""
    return ctx.cond(where).cast(pl.Int64).sum()


@feature("agg")
def sum_usd_where(ctx: Context, where: list) -> pl.Expr:
    """Total amount_usd of the selected transactions that also meet ``where``."""
    return AMT.filter(ctx.cond(where)).sum()


@feature("agg")
def share_where(ctx: Context, where: list) -> pl.Expr:
    """Share (0-1) of the selected transactions that meet ``where``."""
    return _share(ctx.cond(where))


@feature("agg")
def usd_share_where(ctx: Context, where: list) -> pl.Expr:
    """Share (0-1) of the selected amount_usd that is on transactions meeting ``where``."""
    total = AMT.sum()
    return pl.when(total > 0).then(AMT.filter(ctx.cond(where)).sum() / total).otherwise(0.0)


@feature("agg")
def n_distinct(ctx: Context, column: str = "counterparty_id", where: list | None = None) -> pl.Expr:
    """Distinct non-null values of ``column`` (default counterparty_id) in the window, exact.

    With ``where``, only rows meeting it count."""
    col = pl.col(column)
    if where:
        col = col.filter(ctx.cond(where))
    return col.drop_nulls().n_unique().cast(pl.Int64)


@feature("agg")
def new_counterparty_share(ctx: Context, new_days: Any = None) -> pl.Expr:
    """Share of distinct counterparties in the window first seen by this account within
    ``new_days`` (default: the window) before the window's last day; the account's history is
    the data seen (cp_first_day)."""
    days = ctx.arg(new_days) if new_days is not None else (ctx.window_days or 36500)
    cp = pl.col("counterparty_id")
    fresh = pl.col("cp_first_day") > pl.col("day").max() - pl.duration(days=int(days))
    total = cp.drop_nulls().n_unique()
    new = cp.filter(fresh).drop_nulls().n_unique()
    return pl.when(total > 0).then(new / total).otherwise(0.0)


@feature("agg")
def night_share(ctx: Context, start: str = "22:00", end: str = "06:00") -> pl.Expr:
    """Share of transactions booked between ``start`` and ``end`` local time (wraps midnight)."""
    return _share(in_hours(pl.col("minute_of_day"), start, end))


@feature("agg")
def night_or_weekend_share(ctx: Context, start: str = "22:00", end: str = "06:00") -> pl.Expr:
    """Share of transactions at night (local ``start``-``end``) or on a local weekend."""
    return _share(in_hours(pl.col("minute_of_day"), start, end) | pl.col("is_weekend"))


@feature("agg")
def round_share(ctx: Context, unit: Any = 10, low: Any = None, high: Any = None) -> pl.Expr:
    """Share of amounts that are whole multiples of ``unit`` USD (and within [low, high])."""
    u = float(ctx.arg(unit))
    mask = ((AMT / u) - (AMT / u).round(0)).abs() < 1e-6
    if low is not None:
        mask = mask & (AMT >= float(ctx.arg(low)))
    if high is not None:
        mask = mask & (AMT <= float(ctx.arg(high)))
    return _share(mask)


@feature("agg")
def repeated_amount_share(ctx: Context) -> pl.Expr:
    """Share of transactions whose amount (to the cent) occurs at least twice in the window."""
    return _share((AMT * 100).round(0).is_duplicated())


@feature("agg")
def max_per_day(ctx: Context) -> pl.Expr:
    """Most selected transactions on any one local day of the window."""
    return pl.col("day").unique_counts().max().cast(pl.Int64)


@feature("agg")
def max_value(ctx: Context, column: str) -> pl.Expr:
    """Largest value of a (numeric) column in the window."""
    return pl.col(column).max()


@feature("agg")
def min_value(ctx: Context, column: str) -> pl.Expr:
    """Smallest value of a (numeric) column in the window."""
    return pl.col(column).min()


@feature("agg")
def median_value(ctx: Context, column: str = "amount_usd") -> pl.Expr:
    """Median of a numeric column (default amount_usd) in the window."""
    return pl.col(column).median()


def _fwd_ok(ctx: Context, within_hours: Any, lag: str) -> pl.Expr:
    return (pl.col(lag) <= float(ctx.arg(within_hours))).fill_null(False)


def forwarded_amount(
    ctx: Context, within_hours: Any = 24, lag: str = "fwd_lag_h", usd: str = "fwd_usd"
) -> pl.Expr:
    """Per row: what ``forwarded_share`` counts as sent on when the next outflow follows within
    ``within_hours`` (min of the amount and that outflow's), else 0. Its sum over a window,
    divided by the window's amount, bounds ``forwarded_share`` from above, ``to_one`` or not."""
    ok = _fwd_ok(ctx, within_hours, lag)
    return pl.when(ok).then(pl.min_horizontal(AMT, pl.col(usd))).otherwise(0.0)


@feature("agg")
def forwarded_share(
    ctx: Context,
    within_hours: Any = 24,
    lag: str = "fwd_lag_h",
    usd: str = "fwd_usd",
    to_one: str | None = None,
) -> pl.Expr:
    """Pass-through: share of the window's inflow (amount_usd) sent on within ``within_hours``.

    Each inflow counts as forwarded up to min(its amount, the next outflow's amount) when that
    outflow follows within the time limit (``lag``/``usd`` name the row columns to use). With
    ``to_one`` (the row column naming the next outflow's counterparty, e.g. fwd_cp), only what
    went on to the counterparty forwarded to most often counts: "forwarded to one person"."""
    part = pl.min_horizontal(AMT, pl.col(usd))
    ok = _fwd_ok(ctx, within_hours, lag)
    if to_one:
        top = pl.col(to_one).filter(ok).drop_nulls().mode().sort().first()
        ok = ok & (pl.col(to_one) == top).fill_null(False)
    fwd = pl.when(ok).then(part).otherwise(0.0).sum()
    total = AMT.sum()
    return pl.when(total > 0).then(fwd / total).otherwise(0.0)


@feature("agg")
def median_forward_lag_h(ctx: Context, within_hours: Any = None, lag: str = "fwd_lag_h") -> pl.Expr:
    """Median hours from an inflow to the next outflow (only lags within ``within_hours``)."""
    col = pl.col(lag)
    if within_hours is not None:
        col = col.filter(_fwd_ok(ctx, within_hours, lag))
    return col.median()


@feature("agg")
def n_forwarded(
    ctx: Context,
    within_hours: Any = 24,
    share_min: Any = 0.0,
    lag: str = "fwd_lag_h",
    usd: str = "fwd_usd",
    where: list | None = None,
) -> pl.Expr:
    """Inflows followed within ``within_hours`` by an outflow of at least ``share_min`` of
    their amount (the outflow must also meet ``where``, on the fwd_* columns)."""
    ok = _fwd_ok(ctx, within_hours, lag) & (pl.col(usd) >= AMT * float(ctx.arg(share_min)))
    if where:
        ok = ok & ctx.cond(where)
    return ok.fill_null(False).cast(pl.Int64).sum()
