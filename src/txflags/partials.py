"""Stored state of a typology configuration: per-account daily parts of summable windows
(``partial_key``) and the window-end hits of a dependency (``hits_key``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Typology
from txflags.features.conditions import in_hours
from txflags.features.context import FWD_COLUMNS, Context
from txflags.spans import deciding_measures, names_used, window_of

#: Bump when the layout of the daily aggregates changes (old ones are then ignored).
AGG_FORMAT = "2"


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
    if not decomposable(t):
        return None
    if any(s["feature"] not in DAY_LOCAL_DERIVED
           for s in (t.detection.get("derive") or {}).values()):
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


#: USD sums are kept in whole micro-dollars (Int64): a window's total is then the exact sum of
#: its rows' amounts, whatever the order or grouping of the summation (rows, daily parts,
#: running totals), so a nightly run and a full scan agree to the last digit.
MICRO = 1_000_000


def _micro(usd: pl.Expr) -> pl.Expr:
    return (usd * MICRO).round(0).cast(pl.Int64)


#: how a day's rows make a part: an aggregation of the part's row values
DAY_AGG = {
    "rows": lambda c: pl.len().cast(pl.Int64),  # the day's rows (no row value)
    "rows_max": lambda c: pl.len().cast(pl.Int64),  # the same; a window takes the largest day
    "sum": lambda c: c.sum(),
    "max": lambda c: c.max(),
    "min": lambda c: c.min(),
    "distinct": lambda c: c.drop_nulls().unique(),  # the day's distinct values, as a list
}
#: how a window combines its days' parts
WINDOW_AGG = {"rows": "sum", "rows_max": "max", "sum": "sum", "max": "max", "min": "min",
              "distinct": "distinct"}


@dataclass
class Parts:
    """How one aggregate measure is computed from per-account daily parts."""

    #: part column -> its value on each row (what a day aggregates; none for ``rows`` parts)
    rows: dict[str, pl.Expr]
    #: part column -> ``DAY_AGG`` key: how a day's rows make the part, and (``WINDOW_AGG``)
    #: how a window combines its days' parts
    kinds: dict[str, str]
    #: the measure, from the combined part columns
    measure: pl.Expr

    def day_exprs(self) -> list[pl.Expr]:
        """Aggregations of one account-day's rows into the parts."""
        return [DAY_AGG[k](self.rows.get(c)).alias(c) for c, k in self.kinds.items()]


def _ratio(name: str, num: pl.Expr, den: pl.Expr) -> Parts:
    """Parts of a share: two sums (``num`` and ``den`` per row), their quotient (0 when the
    window's ``den`` is 0)."""
    p0, p1 = f"{name}__0", f"{name}__1"
    n, d = pl.col(p0), pl.col(p1)
    return Parts({p0: num, p1: den}, {p0: "sum", p1: "sum"},
                 pl.when(d > 0).then(n / d).otherwise(0.0))


def loosen(value: pl.Expr) -> pl.Expr:
    """``value`` a hair above itself: the same quantity summed in another order, or the same
    quotient from another Polars kernel, can differ in its last bit (50000 / 1e6 < 0.05 after
    a group-by), so a bound compared with a threshold must not sit exactly on it."""
    return value + value.abs() * 1e-9 + 1e-12


def partial_exprs(ctx: Context, name: str, spec: Mapping[str, Any]) -> Parts:
    """The daily parts of one aggregate measure (``DECOMPOSABLE``) and how a window combines
    them into the value the feature computes over the window's rows."""
    feat = spec["feature"]
    args = ctx.args(spec.get("args"))
    p0 = f"{name}__0"
    usd = _micro(pl.col("amount_usd"))

    def single(value: pl.Expr | None, kind: str, measure: pl.Expr | None = None) -> Parts:
        return Parts({} if value is None else {p0: value}, {p0: kind},
                     pl.col(p0) if measure is None else measure)

    def where(value: pl.Expr, otherwise: Any = None) -> pl.Expr:
        return pl.when(ctx.cond(args["where"])).then(value).otherwise(otherwise)

    if feat == "count":
        return single(None, "rows")
    if feat == "max_per_day":
        return single(None, "rows_max")
    if feat == "sum_usd":
        return single(usd, "sum", pl.col(p0) / MICRO)
    if feat == "count_where":
        return single(ctx.cond(args["where"]).cast(pl.Int64), "sum")
    if feat == "sum_usd_where":
        return single(where(usd, 0), "sum", pl.col(p0) / MICRO)
    if feat == "usd_share_where":
        return _ratio(name, where(usd, 0), usd)
    if feat in ("share_where", "night_share", "night_or_weekend_share", "round_share"):
        mask = _mask(ctx, feat, args)
        return _ratio(name, mask.cast(pl.Int64), mask.is_not_null().cast(pl.Int64))
    if feat == "n_distinct":
        value = pl.col(args.get("column", "counterparty_id"))
        return single(where(value) if args.get("where") else value, "distinct")
    if feat == "max_value":
        return single(pl.col(args["column"]), "max")
    if feat == "min_value":
        return single(pl.col(args["column"]), "min")
    raise ValueError(f"{feat} has no daily parts")  # partial_key() excludes it


def upper_bound(ctx: Context, name: str, spec: Mapping[str, Any]) -> Parts | None:
    """Daily parts of a cheap upper bound of the costly aggregate measure ``name``, or None.
    A window whose bound fails ``>= x`` fails the measure's ``>= x`` too, so the measure need
    not be computed for it. ``forwarded_share``: the share forwarded to anyone (with
    ``to_one`` only what went on to the top recipient counts, never more)."""
    if spec["feature"] != "forwarded_share":
        return None
    args = {k: v for k, v in ctx.args(spec.get("args")).items() if k != "to_one"}
    share = _ratio(name, features.aggregates.forwarded_amount(ctx, **args), pl.col("amount_usd"))
    return replace(share, measure=loosen(share.measure))


def decomposable(t: Typology) -> bool:
    """Whether ``t``'s windows can be combined from per-account daily parts within one run
    (every aggregate measure deciding the windows, ``window_measures``, is ``DECOMPOSABLE``;
    derived columns are computed on the rows first). Storing the parts between runs asks
    more: ``partial_key``."""
    det = t.detection
    if det.get("scope", "window") == "account" or not window_of(t):
        return False
    return all(det["measures"][n]["feature"] in DECOMPOSABLE for n in window_measures(t))


def window_measures(t: Typology) -> list[str]:
    """The aggregate measures computed for every window: those deciding whether and which
    window is reported (``spans.deciding_measures``). The others are computed only for the
    strongest window of each account hit (with its evidence); all of them when ``t`` has no
    window (one per account)."""
    measures = t.detection["measures"]
    aggs = [n for n, s in measures.items() if features.get(s["feature"]).kind == "agg"]
    if not window_of(t):
        return aggs
    deciding = deciding_measures(t)
    return [n for n in aggs if n in deciding]


@dataclass
class Partial:
    """How one typology reads daily parts: the stored ones (days before tonight the store
    holds) and the local days to compute from rows."""

    stored: pl.LazyFrame | None
    raw_days: set[date]
    daily: pl.LazyFrame | None = None  # the computed parts, when already collected
