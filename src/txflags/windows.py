"""Windowed measures over rows or daily parts: windows ending on given days, rolling windows,
and costly measures computed only for the windows that pass a cheap gate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Typology
from txflags.features.context import Context, string_code
from txflags.partials import (
    DAY_AGG,
    DECOMPOSABLE,
    WINDOW_AGG,
    Parts,
    loosen,
    partial_exprs,
    upper_bound,
)
from txflags.spans import measure_names


def windows_ending_from(
    frame: pl.LazyFrame, report_from: date, window: int, aggs: list[pl.Expr]
) -> pl.LazyFrame:
    """``aggs`` over each ``window``-day window of ``frame`` (rows or account-days, with a
    ``day`` column) that ends on a day of ``frame`` from ``report_from`` on: one group-by per
    (account, window end) instead of a rolling pass over every day."""
    ends = (
        frame.filter(pl.col("day") >= report_from)
        .select("account_id", pl.col("day").alias("window_end"))
        .unique()
    )
    return (
        frame.join(ends, on="account_id")
        .filter(
            (pl.col("day") <= pl.col("window_end"))
            & (pl.col("day") > pl.col("window_end") - pl.duration(days=window))
        )
        .group_by("account_id", "window_end")
        .agg(*aggs)
    )


#: Accounts' days are numbered in blocks of this many (``window_key``): one integer per
#: account-day, ordered by account, then day.
KEY_BLOCK = 1 << 21


def window_key() -> pl.Expr:
    """``_k``: an Int64 ordering rows by account, then local day; one key per account-day.
    Accounts are numbered by their categorical code (an arbitrary order: grouping and sorting
    an integer is several times cheaper than a string and a date), days since 1970."""
    account = string_code("account_id")
    day = pl.col("day").to_physical().cast(pl.Int64)
    return (account.cast(pl.Int64) * KEY_BLOCK + day + KEY_BLOCK // 2).alias("_k")


def day_parts(rows: pl.LazyFrame, exprs: list[pl.Expr]) -> pl.LazyFrame:
    """``exprs`` over each account-day's rows (grouped by the window key: one integer)."""
    return (
        rows.with_columns(window_key())
        .group_by("_k")
        .agg(pl.col("account_id").first(), pl.col("day").first(), *exprs)
        .drop("_k")
    )


def combine_parts(kinds: Mapping[str, str]) -> list[pl.Expr]:
    """Aggregations combining the daily parts (``partials.Parts.kinds``) of a window's days."""
    out = []
    for col, kind in kinds.items():
        c = pl.col(col)
        if kind == "distinct":
            out.append(c.list.explode(keep_nulls=False, empty_as_null=False).n_unique()
                       .cast(pl.Int64).alias(col))
        else:
            out.append(getattr(c, kind)().alias(col))
    return out


#: Features whose window value never falls when the window takes in more days: counts, sums of
#: parts (taken at zero or more), maxima, distinct counts.
GROWING = {"count", "count_where", "sum_usd", "sum_usd_where", "n_distinct", "max_per_day",
           "max_value"}


@dataclass
class AccountGate:
    """The ``>=`` conjuncts of a typology's ``where`` on ``GROWING`` measures, evaluated on each
    account's totals over all its days: an account failing one has no window that passes
    (a window's count, sum of non-negative parts, maximum or distinct count is at most the
    account's), so its windows need not be rolled."""

    parts: dict[str, Parts]  # the measures the conjuncts read
    cond: pl.Expr

    def accounts(self, frame: pl.LazyFrame, of_rows: bool = False) -> pl.LazyFrame:
        """The accounts of ``frame`` that may pass: per-account daily parts, or (``of_rows``)
        rows, totalled directly (one group-by per account, not per account-day)."""
        total = _row_total if of_rows else _part_total
        totals = [total(p, col, kind).alias(col)
                  for p in self.parts.values() for col, kind in p.kinds.items()]
        return frame.group_by("account_id").agg(totals).filter(self.cond).select("account_id")


def _part_total(p: Parts, col: str, kind: str) -> pl.Expr:
    """An account's total of one daily part over all its days: at least any window's (sums
    taken at zero or more: a bound whatever the signs)."""
    how = WINDOW_AGG[kind]
    if how == "sum":
        return pl.col(col).clip(lower_bound=0).sum()
    return combine_parts({col: how})[0]


def _row_total(p: Parts, col: str, kind: str) -> pl.Expr:
    """``_part_total`` straight from the account's rows."""
    if kind in ("rows", "rows_max"):  # a day's rows are at most all of them
        return pl.len().cast(pl.Int64)
    value = p.rows[col]
    if kind == "sum":
        return value.clip(lower_bound=0).sum()
    if kind == "max":
        return value.max()
    if kind == "distinct":
        return value.drop_nulls().n_unique().cast(pl.Int64)
    raise ValueError(f"a {kind} part has no total that bounds its windows")


def _at_least(where: list[Any]) -> list[Mapping[str, Any]]:
    """The conjuncts of ``where`` that hold one measure alone ``>=`` (or ``>``) a value or
    parameter: what an upper bound of that measure can decide."""
    return [c for c in where if isinstance(c, Mapping) and c.get("op") in (">=", ">")
            and "measure" in c and measure_names(c) == {c["measure"]}]


def account_gate(
    where: list[Any], measures: Mapping[str, Any], parts: Mapping[str, Parts], ctx: Context
) -> AccountGate | None:
    """The ``AccountGate`` of ``where`` (None: no conjunct qualifies). ``parts``: the daily
    parts of the window measures."""
    keep = [c for c in _at_least(where)
            if c["measure"] in parts and measures[c["measure"]]["feature"] in GROWING]
    if not keep:
        return None
    used = {c["measure"]: parts[c["measure"]] for c in keep}
    return AccountGate(used, ctx.cond(keep, lambda name: loosen(used[name].measure)))


def running_windows(daily: pl.LazyFrame, kinds: Mapping[str, str], window: int,
                    gate: AccountGate | None = None) -> pl.LazyFrame:
    """Every ``window``-day window ending on an account-day of ``daily`` (per-account daily
    parts, one row per account-day), with the parts combined by ``kinds``. Rolls over
    account-days, not rows (in the generator's busy population a 90-day window holds ~50 of
    them), ordered by the window key (an integer sort, not a string one). ``gate``: only the
    accounts that may pass it (the other accounts' windows would fail it)."""
    if gate is not None:
        daily = daily.join(gate.accounts(daily), on="account_id", how="semi")
    return (
        daily.sort(window_key())
        .rolling(index_column="day", period=f"{window}d", group_by="account_id")
        .agg(combine_parts(kinds))
        .rename({"day": "window_end"})
    )


def windows_of_rows(
    rows: pl.LazyFrame, parts: Mapping[str, Parts], window: int, gate: AccountGate | None = None
) -> pl.LazyFrame:
    """Every account's ``window``-day window ending on each day it has rows, with the measures
    of ``parts`` (name -> ``partials.Parts``), rolled over the rows' daily parts (of the
    accounts that may pass ``gate``)."""
    kinds = {c: WINDOW_AGG[k] for p in parts.values() for c, k in p.kinds.items()}
    if gate is not None:
        rows = rows.join(gate.accounts(rows, of_rows=True), on="account_id", how="semi")
    days = day_parts(rows, [e for p in parts.values() for e in p.day_exprs()])
    return running_windows(days, kinds, window).select(
        "account_id", "window_end", *[p.measure.alias(n) for n, p in parts.items()])


def measure_exprs(ctx: Context, measures: Mapping[str, Any], names: list[str]) -> list[pl.Expr]:
    """The aggregate features of the measures ``names`` (of a typology's ``measures``), over
    whatever rows they are aggregated on, each named after its measure."""
    return [features.get(measures[n]["feature"]).fn(ctx, **ctx.args(measures[n].get("args")))
            .alias(n) for n in names]


#: Aggregate features evaluated window by window as a whole expression (a mode, a median, a
#: duplicate test), each window costing far more than a running sum.
COSTLY_AGGS = {"forwarded_share", "median_forward_lag_h", "median_value",
               "repeated_amount_share", "new_counterparty_share"}


#: (row, window) pairs a second pass may materialise; more, and it rolls again instead.
PAIR_BUDGET = 20_000_000


def _pair_windows(
    rows: pl.LazyFrame, ends: pl.LazyFrame, window: int, aggs: list[pl.Expr]
) -> pl.LazyFrame:
    """``aggs`` over the rows of each (account_id, window_end) window of ``ends``. Rows and
    ends meet in ``window``-day blocks (a window spans at most two), so only pairs from the
    same or the next block are formed before the exact day range is applied."""
    block = pl.col("day").to_physical() // window
    end_block = pl.col("window_end").to_physical() // window
    ends = ends.select(
        "account_id", "window_end", pl.concat_list(end_block - 1, end_block).alias("_b")
    ).explode("_b")
    return (
        rows.with_columns(block.alias("_b"))
        .join(ends, on=["account_id", "_b"])
        .filter((pl.col("day") <= pl.col("window_end"))
                & (pl.col("day") > pl.col("window_end") - pl.duration(days=window)))
        .group_by("account_id", "window_end")
        .agg(*aggs)
    )


def rolling_windows(
    t: Typology, ctx: Context, selected: pl.LazyFrame, window: int, kinds: Mapping[str, str],
    engine: str = "in-memory",
) -> pl.LazyFrame:
    """Every account's ``window``-day window ending on each day it has selected rows, with the
    typology's aggregate measures.

    Costly measures (``COSTLY_AGGS``) are computed in a second pass, only for the windows
    passing the conjuncts of ``where`` that read cheap measures alone (e.g. "at least one
    recipient") and, for a costly measure with a cheap upper bound (``partials.upper_bound``),
    its ``>=`` conjuncts on the bound: no other window can pass, and most fail there. The
    candidates are collected first: their row count decides between pairing rows with
    candidate windows (bounded by ``PAIR_BUDGET``) and a second rolling pass over their
    accounts."""
    measures: Mapping[str, Any] = t.detection["measures"]
    agg_names = [n for n, kind in kinds.items() if kind == "agg"]
    costly = [n for n in agg_names if measures[n]["feature"] in COSTLY_AGGS]
    cheap = [n for n in agg_names if n not in costly]
    where = t.detection["where"]
    gate = [c for c in where if measure_names(c) <= set(cheap)]
    bounds = {f"_ub_{n}": b for n in costly if (b := upper_bound(ctx, n, measures[n]))}
    gate += [{**c, "measure": f"_ub_{c['measure']}"} for c in _at_least(where)
             if f"_ub_{c['measure']}" in bounds]

    def agg(names: list[str]) -> list[pl.Expr]:
        return measure_exprs(ctx, measures, names)

    def rolling(names: list[str], rows: pl.LazyFrame = selected,
                extra: Mapping[str, Parts] | None = None) -> pl.LazyFrame:
        # ``extra``: measures from parts, each part summed (or maxed...) over the window's rows
        extra = extra or {}
        parts = {c: DAY_AGG[k](p.rows.get(c)) for p in extra.values() for c, k in p.kinds.items()}
        return (
            rows.sort("account_id", "day")
            .rolling(index_column="day", period=f"{window}d", group_by="account_id")
            .agg(*agg(names), *[e.alias(c) for c, e in parts.items()])
            .unique(["account_id", "day"])
            .rename({"day": "window_end"})
            .with_columns(*[p.measure.alias(n) for n, p in extra.items()])
            .drop(*parts)
        )

    def cheap_windows() -> pl.LazyFrame:
        # the cheap measures, the bounds and the rows of each window (``_n``): over daily
        # parts when they combine from them
        extra = {**bounds, "_n": Parts({}, {"_n__0": "rows"}, pl.col("_n__0"))}
        if all(measures[n]["feature"] in DECOMPOSABLE for n in cheap):
            parts = {n: partial_exprs(ctx, n, measures[n]) for n in cheap}
            return windows_of_rows(selected, {**parts, **extra}, window)
        return rolling(cheap, extra=extra)

    if costly and gate:
        first = (
            cheap_windows().filter(ctx.cond(gate)).collect(engine=engine)  # type: ignore[arg-type]
        )  # how many (row, window) pairs the candidates hold decides how to do the second pass
        if first["_n"].sum() <= PAIR_BUDGET:
            second = _pair_windows(selected, first.lazy(), window, agg(costly))
        else:  # roll again, over the candidates' accounts only
            second = rolling(costly, selected.join(first.lazy(), on="account_id", how="semi"))
        frame = first.lazy().drop("_n", *bounds).join(second, on=["account_id", "window_end"],
                                                       how="left")
    else:
        frame = rolling(agg_names)
    return frame
