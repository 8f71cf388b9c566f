"""Derived row features: per-row columns that need other rows (other accounts, later rows).

Each adds a column to ``rows`` (the typology's candidate rows, already cut by the parts of its
row filter that read only stored columns) computed from ``ctx.rows`` (every row the typology
reads), so a rule can filter on them. ``where`` arguments restrict which rows feed the feature.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from txflags.features.context import Context
from txflags.features.registry import feature


def _lookup(rows: pl.LazyFrame, on: list[str], table: pl.LazyFrame) -> pl.LazyFrame:
    return rows.join(table, on=on, how="left", maintain_order="left")


def _window_degree(rows: pl.LazyFrame, key: str, of: str, days: int | None) -> pl.LazyFrame:
    totals = rows.group_by(key).agg(pl.col(of).drop_nulls().n_unique().alias("_deg"))
    if days is None:
        return totals
    # a key seen with at most one value has that degree in every window it has rows in: only
    # the others (few: most devices and beneficiaries serve one customer) are rolled
    shared = totals.filter(pl.col("_deg") > 1)
    per_day = (rows.join(shared.select(key), on=key, how="semi")
               .select(key, "day", of).unique().sort(key, "day"))
    rolled = (
        per_day.rolling(index_column="day", period=f"{int(days)}d", group_by=key)
        .agg(pl.col(of).drop_nulls().n_unique().alias("_deg"))
        .group_by(key)
        .agg(pl.col("_deg").max())
    )
    return pl.concat([totals.filter(pl.col("_deg") <= 1), rolled.cast({"_deg": pl.UInt32})])


@feature("derived")
def key_degree(
    rows: pl.LazyFrame,
    ctx: Context,
    name: str,
    key: str = "counterparty_id",
    of: str = "customer_id",
    window_days: Any = None,
    where: list | None = None,
) -> pl.LazyFrame:
    """Hub in-degree: for the row's ``key`` (e.g. a beneficiary or device), the most distinct
    ``of`` values (e.g. customers) seen with it within any ``window_days``-day window, over rows
    meeting ``where``. Rows without the key get 0."""
    src = ctx.rows.filter(ctx.cond(where) & pl.col(key).is_not_null())
    days = ctx.arg(window_days)
    deg = _window_degree(src, key, of, days).rename({"_deg": name})
    return _lookup(rows, [key], deg).with_columns(pl.col(name).fill_null(0).cast(pl.Int64))


@feature("derived")
def distinct_per_day(
    rows: pl.LazyFrame, ctx: Context, name: str, column: str, where: list | None = None
) -> pl.LazyFrame:
    """Distinct values of ``column`` the account used that local day (rows meeting ``where``)."""
    src = ctx.rows.filter(ctx.cond(where))
    per = src.group_by("account_id", "day").agg(pl.col(column).drop_nulls().n_unique().alias(name))
    return _lookup(rows, ["account_id", "day"], per).with_columns(
        pl.col(name).fill_null(0).cast(pl.Int64)
    )


def match_asof(
    rows: pl.LazyFrame,
    ctx: Context,
    where: list | None,
    strategy: str,
    outputs: dict[str, tuple[str, str]],
) -> pl.LazyFrame:
    """For each row, the account's nearest strictly later (``forward``) or earlier
    (``backward``) row meeting ``where``; adds one column per ``outputs`` entry: name ->
    ("lag", _) hours between the two rows, or ("value", column) that row's column.

    One as-of join on narrow (key) frames serves every output; the wide row frame is joined
    with its result once, by row number, never sorted. The numbered rows are cached: ``rows``
    may come out of a join in a different order each time it is computed."""
    wanted = sorted({c for kind, c in outputs.values() if kind == "value"})
    other = (
        ctx.rows.filter(ctx.cond(where))
        .select("account_id", pl.col("ts").alias("_m_ts"), pl.col("txn_id").alias("_m"),
                *[pl.col(c).alias(f"_m_{c}") for c in wanted])
        .sort("_m_ts", "_m")
    )
    lag = (pl.col("_m_ts") - pl.col("ts")).dt.total_microseconds().abs() / 3.6e9
    rows = rows.with_row_index("_r").cache()  # one numbering for both sides (see below)
    matched = (
        rows.select("_r", "account_id", "ts", "txn_id")
        .sort("ts", "txn_id")
        .join_asof(
            other,
            left_on="ts",
            right_on="_m_ts",
            by="account_id",
            strategy=strategy,  # type: ignore[arg-type]
            allow_exact_matches=False,
            check_sortedness=False,  # sorted just above
        )
        .select(
            "_r",
            *[(lag if kind == "lag" else pl.col(f"_m_{col}")).alias(name)
              for name, (kind, col) in outputs.items()],
        )
    )
    return _lookup(rows, ["_r"], matched).drop("_r")


def _match_asof(
    rows: pl.LazyFrame,
    ctx: Context,
    name: str,
    where: list | None,
    strategy: str,
    value: str,
    column: str = "amount_usd",
) -> pl.LazyFrame:
    return match_asof(rows, ctx, where, strategy, {name: ("lag", "") if value == "lag"
                                                    else ("value", column)})


#: Features that read the nearest matching row (``match_asof``): name -> (strategy, output).
MATCH_FEATURES = {
    "next_match_lag_h": ("forward", "lag"),
    "next_match_usd": ("forward", "usd"),
    "next_match_value": ("forward", "value"),
    "prev_match_lag_h": ("backward", "lag"),
}


@feature("derived")
def next_match_lag_h(
    rows: pl.LazyFrame, ctx: Context, name: str, where: list | None = None
) -> pl.LazyFrame:
    """Hours from the row to the account's next later row meeting ``where`` (null if none)."""
    return _match_asof(rows, ctx, name, where, "forward", "lag")


@feature("derived")
def next_match_usd(
    rows: pl.LazyFrame, ctx: Context, name: str, where: list | None = None
) -> pl.LazyFrame:
    """amount_usd of the account's next later row meeting ``where`` (null if none)."""
    return _match_asof(rows, ctx, name, where, "forward", "usd")


@feature("derived")
def next_match_value(
    rows: pl.LazyFrame, ctx: Context, name: str, column: str, where: list | None = None
) -> pl.LazyFrame:
    """``column`` (e.g. counterparty_id) of the account's next later row meeting ``where``
    (null if none)."""
    return _match_asof(rows, ctx, name, where, "forward", "value", column)


@feature("derived")
def prev_match_lag_h(
    rows: pl.LazyFrame, ctx: Context, name: str, where: list | None = None
) -> pl.LazyFrame:
    """Hours since the account's latest earlier row meeting ``where`` (null if none)."""
    return _match_asof(rows, ctx, name, where, "backward", "lag")


@feature("derived", needs_hits=True)
def cp_prior_hits(
    rows: pl.LazyFrame, ctx: Context, name: str, families: list | None = None
) -> pl.LazyFrame:
    """Second stage: distinct earlier-stage typologies (of ``families``) that hit the account
    named by this row's counterparty_id (0 when the counterparty is not a monitored account)."""
    hits = ctx.hits if ctx.hits is not None else _no_hits()
    if families:
        hits = hits.filter(pl.col("family").is_in(list(families)))
    per = hits.group_by("account_id").agg(pl.col("typology_id").n_unique().alias(name))
    per = per.rename({"account_id": "counterparty_id"})
    return _lookup(rows, ["counterparty_id"], per).with_columns(
        pl.col(name).fill_null(0).cast(pl.Int64)
    )


def _no_hits() -> pl.LazyFrame:
    return pl.LazyFrame(schema={"account_id": pl.String, "typology_id": pl.String,
                                "family": pl.String})


@feature("derived")
def period_sum_usd(
    rows: pl.LazyFrame, ctx: Context, name: str, period: str = "month", where: list | None = None
) -> pl.LazyFrame:
    """Total amount_usd the account spent on rows meeting ``where`` in the row's ``period``
    (a row column such as month or day); rows of other periods get 0."""
    src = ctx.rows.filter(ctx.cond(where))
    per = src.group_by("account_id", period).agg(pl.col("amount_usd").sum().alias(name))
    return _lookup(rows, ["account_id", period], per).with_columns(pl.col(name).fill_null(0.0))
