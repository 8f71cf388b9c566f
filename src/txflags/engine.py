"""Compile every typology into a lazy Polars plan and run them together.

The row context (transactions + account attributes + local time + the context columns the
catalogue uses) is built once and materialised; every typology reads it. Stage order follows
``depends_on``: a stage's plans are collected one after the other and a second-stage typology
reads the materialised hits of the typologies it depends on. A run featurising more than
``SHARD_ROWS`` rows for everyone goes shard of accounts by shard (``_detect_shards``).

A nightly run (``report_from``) computes only windows ending on or after that day, and each
typology reads only the days its window and its context features need (``span_days``).
``focus`` restricts detection to the entities that matter tonight (accounts active in the batch):
their hits are the same as without it (``tests/scan/test_focus.py``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Catalogue, Typology
from txflags.errors import InputError
from txflags.features.conditions import _value as _cond_value
from txflags.features.conditions import compile_condition, in_hours, subject_of, walk
from txflags.features.context import (
    FWD_COLUMNS,
    Context,
    build_accounts,
    build_rows,
    conform,
    row_columns,
)
from txflags.schema import Accounts, Hits, Transactions

ENGINES = ("auto", "in-memory", "streaming")


def _polars_engine(engine: str) -> str:
    """The Polars engine to collect with: ``auto`` is the in-memory one. Every plan here reads
    frames already in memory (the row context); Polars 2's default streaming engine ran a
    night's detection at 1M rows in 3.5 s against 2.3 s in memory (same hits; the same at 10M)."""
    return "in-memory" if engine == "auto" else engine


@dataclass
class DetectResult:
    """Hits of one run, which typologies ran, and which were skipped (id -> reason)."""

    hits: pl.DataFrame
    run: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    as_of: date | None = None
    #: daily parts computed from rows, per aggregate key: (frame, local days it covers)
    partials: dict[str, tuple[pl.DataFrame, list[date]]] = field(default_factory=dict)
    #: window-end hits of the dependencies, per ``hits_key``: (account_id + day frame, the
    #: local days evaluated)
    dependency_hits: dict[str, tuple[pl.DataFrame, list[date]]] = field(default_factory=dict)
    #: dependencies that read earlier nights' hits (the others computed every window of their
    #: span from rows)
    dependencies_stored: list[str] = field(default_factory=list)


# -- metadata (one small aggregate pass) --------------------------------------------------------
def _metadata(
    txns: pl.LazyFrame, accounts: pl.LazyFrame, columns: set[str]
) -> tuple[set[str], list[str], date | None]:
    """Which of ``columns`` have at least one value, the time zones in use, the last UTC day."""
    tcols = [c for c in columns if c in Transactions.names]
    acols = [c for c in columns if c in Accounts.names]
    t = txns.select(
        *[pl.col(c).is_not_null().any().alias(c) for c in tcols],
        pl.col("ts").max().alias("_max_ts"),
    )
    a = accounts.select(
        *[pl.col(c).is_not_null().any().alias(c) for c in acols],
        pl.col("timezone").drop_nulls().unique().sort().implode().alias("_zones"),
    )
    tr, ar = pl.collect_all([t, a])
    present = {c for c in tcols if tr[c][0]} | {c for c in acols if ar[c][0]}
    max_ts = tr["_max_ts"][0]
    zones = ar["_zones"][0].to_list() if ar.height else []
    return present, zones, (max_ts.date() if max_ts is not None else None)


# -- compile one typology -----------------------------------------------------------------------
def _args(ctx: Context, args: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: ctx.arg(v) for k, v in (args or {}).items()}


def _account_measure(ctx: Context, name: str, spec: Mapping[str, Any]) -> pl.LazyFrame:
    feat = features.get(spec["feature"])
    return feat.fn(ctx, **_args(ctx, spec.get("args"))).select(
        "account_id", pl.col("value").alias(name)
    )


def _fmt_number(expr: pl.Expr, dtype: pl.DataType, spec: str) -> pl.Expr:
    if spec == "%":
        return ((expr * 100).round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%"))
    if dtype.is_float():
        digits = int(spec[1:-1]) if spec.startswith(".") and spec.endswith("f") else 2
        text = expr.round(digits).cast(pl.String)
        return text.str.replace(r"\.0+$", "") if digits else text
    return expr.cast(pl.String)


def _fmt_literal(value: Any, spec: str) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and spec == "%":
        return f"{value * 100:.0f}%"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sentence(template: str, t: Typology, schema: pl.Schema, window: int | None) -> pl.Expr:
    parts: list[str] = []
    exprs: list[pl.Expr] = []
    for literal, fname, spec, _ in string.Formatter().parse(template):
        parts.append(literal.replace("{", "").replace("}", ""))
        if fname is None:
            continue
        parts.append("{}")
        spec = spec or ""
        if fname in schema and fname not in ("window_days",):
            dtype = schema[fname]
            col = pl.col(fname)
            e = _fmt_number(col, dtype, spec) if dtype.is_numeric() else col.cast(pl.String)
        elif fname in t.params:
            e = pl.lit(_fmt_literal(t.params[fname], spec))
        elif fname == "window_days":
            e = pl.lit(str(window) if window else "all")
        else:
            e = pl.lit("")
        exprs.append(e.fill_null("?"))
    return pl.format("".join(parts), *exprs) if exprs else pl.lit("".join(parts))


def _bands(t: Typology, ctx: Context) -> tuple[pl.Expr, pl.Expr]:
    bands = t.doc["bands"]
    last = bands[-1]
    band: Any = pl.lit(last["band"])
    reason: Any = pl.lit(last["reason"])
    for b in reversed(bands[:-1]):
        cond = ctx.cond(b["when"])
        band = pl.when(cond).then(pl.lit(b["band"])).otherwise(band)
        reason = pl.when(cond).then(pl.lit(b["reason"])).otherwise(reason)
    return band, reason


# -- how much history a typology reads ------------------------------------------------------------
#: A focus covering more than this share of the accounts is not worth restricting to (the run
#: covers everyone and reports the focus accounts: the same hits).
FOCUS_MAX_SHARE = 0.5
#: Windows ending in at most this many report days are computed directly (one group-by per end
#: day) instead of rolling over every day of the span.
ENDS_ONLY_MAX_DAYS = 7
#: A run featurising more rows than this for everyone splits the accounts into shards of about
#: this many rows (``detect(shard_rows=...)``): the row context of 10M rows takes ~2 GB and
#: the features several times that; a shard's only its share.
SHARD_ROWS = 2_500_000


def window_of(t: Typology) -> int | None:
    """The typology's window in days (after overrides); None: the whole data / account scope."""
    wd = t.detection.get("window_days")
    if isinstance(wd, Mapping):
        return int(t.params[wd["param"]])
    return int(wd) if wd else None


def _thresholds(t: Typology, names: set[str]) -> list[float]:
    """Numeric values that conditions anywhere in ``t`` compare ``names`` (columns, measures)
    with (params and scales resolved; ``ref`` sides ignored)."""
    det = t.detection
    conds: list[Any] = [det.get("rows"), det.get("where")]
    conds += [b.get("when") for b in t.doc.get("bands") or []]
    for spec in [*(det.get("derive") or {}).values(), *det["measures"].values()]:
        conds.append((spec.get("args") or {}).get("where"))
    out: list[float] = []
    for leaf in walk([c for c in conds if c]):
        subj = subject_of(leaf)
        if subj is None or subj[1] not in names or "ref" in leaf:
            continue
        try:
            v = _cond_value(leaf, t.params, pl.col)
        except (KeyError, TypeError):
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(float(v))
    return out


def context_days(t: Typology) -> int | None:
    """Days of history before its window that ``t``'s row features need (None: all there is).

    ``prev_match_lag_h`` needs as far back as its thresholds look (hours), ``period_sum_usd``
    by month the start of the month, ``key_degree`` its own window, ``new_counterparty_share``
    its ``new_days`` and conditions on ``cp_age_days`` their threshold. Counterparty first-seen
    dates (``cp_first_day``) are taken over all the history read (the catalogue's lookback).
    """
    det = t.detection
    measures = det["measures"]
    need = 0
    for name, spec in (det.get("derive") or {}).items():
        feat, args = spec["feature"], spec.get("args") or {}
        if feat == "prev_match_lag_h":
            over = {name} | {m for m, s in measures.items()
                             if (s.get("args") or {}).get("column") == name}
            hours = _thresholds(t, over)
            if not hours:
                return None
            need = max(need, int(-(-max(hours) // 24)) + 1)
        elif feat == "period_sum_usd":
            period = args.get("period", "month")
            if period not in ("month", "day"):
                return None
            need = max(need, 31 if period == "month" else 0)
        elif feat == "key_degree":
            days = args.get("window_days")
            days = t.params[days["param"]] if isinstance(days, Mapping) else days
            if days is None:
                return None
            need = max(need, int(days))
    for spec in measures.values():
        if spec["feature"] == "new_counterparty_share":
            nd = (spec.get("args") or {}).get("new_days")
            nd = t.params[nd["param"]] if isinstance(nd, Mapping) else nd
            need = max(need, int(nd) if nd is not None else (window_of(t) or 0))
    if "cp_age_days" in _names_used(t):
        days = _thresholds(t, {"cp_age_days"})
        if not days:
            return None
        need = max(need, int(max(days)))
    return need


def span_days(t: Typology) -> int | None:
    """Local days before ``report_from`` whose rows ``t`` reads: window - 1 + context days.
    None: all the rows given (account-scope typologies, unbounded context)."""
    w, c = window_of(t), context_days(t)
    if w is None or c is None or t.detection.get("scope", "window") == "account":
        return None
    return w - 1 + c


def lookback_days(catalogue: Catalogue) -> int:
    """Days of history before a batch that a nightly scan reads: the longest ``span_days`` (or
    window) in the catalogue, plus one for the UTC/local day offset."""
    longest = 1
    for t in catalogue:
        for v in (span_days(t), window_of(t)):
            if v is not None:
                longest = max(longest, v)
    return longest


def _names_used(t: Typology) -> set[str]:
    found: set[str] = set()

    def visit(x: Any) -> None:
        if isinstance(x, str):
            found.add(x)
        elif isinstance(x, Mapping):
            for k, v in x.items():
                visit(k)
                visit(v)
        elif isinstance(x, list | tuple):
            for v in x:
                visit(v)

    visit(t.detection)
    visit(t.doc.get("bands"))
    visit(list(t.params.values()))
    for spec in [*(t.detection.get("derive") or {}).values(), *t.detection["measures"].values()]:
        fn = features.get(spec["feature"]).fn
        visit([p.default for p in inspect.signature(fn).parameters.values()
               if isinstance(p.default, str | list)])
    return found


#: Row columns every typology may read through the features themselves.
CORE_COLUMNS = {"account_id", "customer_id", "txn_id", "ts", "day", "amount_usd",
                "counterparty_id", "direction", "channel", "device_id"}


#: Row columns features read in their code (beyond their arguments' defaults).
FEATURE_COLUMNS = {
    "new_counterparty_share": {"cp_first_day"},
    "night_share": {"minute_of_day"},
    "night_or_weekend_share": {"minute_of_day", "is_weekend"},
}


def needed_columns(catalogue: Catalogue | list[Typology]) -> set[str]:
    """The row columns the typologies (and the features they name) read."""
    known = set(row_columns())
    used = set(CORE_COLUMNS)
    for t in catalogue:
        used |= _names_used(t)
        for spec in [*(t.detection.get("derive") or {}).values(),
                     *t.detection["measures"].values()]:
            used |= FEATURE_COLUMNS.get(spec["feature"], set())
    return used & known


def _network_keys(t: Typology) -> list[tuple[str, list, Mapping[str, Any]]]:
    """(key column, where, params) of each key_degree the typology derives (it reads other
    accounts' rows with the same key)."""
    out = []
    for spec in (t.detection.get("derive") or {}).values():
        if spec["feature"] == "key_degree":
            args = spec.get("args") or {}
            where = list(args.get("where") or [])
            out.append((args.get("key", "counterparty_id"), where, t.params))
    return out


NETWORK_HIT_FEATURES = {"cp_prior_hits", "sharers_with_hits"}


def _uses(t: Typology, names: set[str]) -> bool:
    specs = [*(t.detection.get("derive") or {}).values(), *t.detection["measures"].values()]
    return any(s["feature"] in names for s in specs)


# -- daily partial aggregates ---------------------------------------------------------------------
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
    if _names_used(t) & CONTEXT_COLUMNS:
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


def _partial_exprs(ctx: Context, name: str, spec: Mapping[str, Any]) -> tuple[list, pl.Expr]:
    """(daily part expressions, window expression over the parts) of one aggregate measure;
    the same values the feature computes over the window's rows."""
    feat = spec["feature"]
    args = _args(ctx, spec.get("args"))
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


# -- compile one typology -----------------------------------------------------------------------
@dataclass
class _Compiled:
    t: Typology
    ctx: Context
    window: int | None
    frame: pl.LazyFrame  # candidate windows passing ``where`` (before choosing the strongest)
    selected: pl.LazyFrame | None  # the rows the windows aggregate (evidence)
    daily: pl.LazyFrame | None = None  # daily parts computed from rows (to be stored)
    #: selected rows of some accounts only (features of one account's rows): evidence reads
    #: the hit accounts' rows (from the compiled rows, or from a given source of rows)
    select_for: Callable[[pl.LazyFrame, pl.LazyFrame | None], pl.LazyFrame] | None = None


@dataclass
class _Partial:
    """How one typology reads daily parts: the stored ones (days before tonight the store
    holds) and the local days to compute from rows."""

    stored: pl.LazyFrame | None
    raw_days: set[date]
    daily: pl.LazyFrame | None = None  # the computed parts, when already collected


def _windows_ending_from(
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


#: Aggregate features evaluated window by window as a whole expression (a mode, a median, a
#: duplicate test), each window costing far more than a running sum.
COSTLY_AGGS = {"forwarded_share", "median_forward_lag_h", "median_value",
               "repeated_amount_share", "new_counterparty_share"}


def _measure_names(cond: Any) -> set[str]:
    names = {subj[1] for leaf in walk(cond) if (subj := subject_of(leaf))}
    return names | {leaf["ref"] for leaf in walk(cond) if "ref" in leaf}


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


def _rolling_windows(
    t: Typology, ctx: Context, selected: pl.LazyFrame, window: int, kinds: Mapping[str, str],
    engine: str = "in-memory",
) -> pl.LazyFrame:
    """Every account's ``window``-day window ending on each day it has selected rows, with the
    typology's aggregate measures.

    Costly measures (``COSTLY_AGGS``) are computed in a second pass, only for the windows
    passing the conjuncts of ``where`` that read cheap measures alone (e.g. "at least one
    recipient"): no other window can pass, and most fail there. The candidates are collected
    first: their row count decides between pairing rows with candidate windows (bounded by
    ``PAIR_BUDGET``) and a second rolling pass over their accounts."""
    measures: Mapping[str, Any] = t.detection["measures"]
    agg_names = [n for n in measures if kinds[n] == "agg"]
    costly = [n for n in agg_names if measures[n]["feature"] in COSTLY_AGGS]
    cheap = [n for n in agg_names if n not in costly]
    gate = [c for c in t.detection["where"] if _measure_names(c) <= set(cheap)]

    def agg(names: list[str]) -> list[pl.Expr]:
        return [features.get(measures[n]["feature"]).fn(ctx, **_args(ctx, measures[n].get(
            "args"))).alias(n) for n in names]

    def rolling(names: list[str], rows: pl.LazyFrame = selected,
                n_rows: bool = False) -> pl.LazyFrame:
        return (
            rows.sort("account_id", "day")
            .rolling(index_column="day", period=f"{window}d", group_by="account_id")
            .agg(*agg(names), *([pl.len().alias("_n")] if n_rows else []))
            .unique(["account_id", "day"])
            .rename({"day": "window_end"})
        )

    if costly and cheap and gate:
        first = (
            rolling(cheap, n_rows=True).filter(ctx.cond(gate)).collect(engine=engine)  # type: ignore[arg-type]
        )  # how many (row, window) pairs the candidates hold decides how to do the second pass
        if first["_n"].sum() <= PAIR_BUDGET:
            second = _pair_windows(selected, first.lazy(), window, agg(costly))
        else:  # roll again, over the candidates' accounts only
            second = rolling(costly, selected.join(first.lazy(), on="account_id", how="semi"))
        frame = first.lazy().drop("_n").join(second, on=["account_id", "window_end"],
                                              how="left")
    else:
        frame = rolling(agg_names)
    return frame.with_columns(
        (pl.col("window_end") - pl.duration(days=window - 1)).alias("window_start")
    )


def _compile(
    t: Typology,
    rows: pl.LazyFrame,
    accounts: pl.LazyFrame,
    as_of: date,
    prior_hits: pl.LazyFrame | None = None,
    report_from: date | None = None,
    focus: pl.LazyFrame | None = None,
    ends_only: bool = False,
    partial: _Partial | None = None,
    engine: str = "in-memory",
) -> _Compiled:
    det = t.detection
    window = window_of(t)
    ctx = Context(rows, accounts, as_of, t.params, window, prior_hits)
    measures: Mapping[str, Any] = det["measures"]
    kinds = {n: features.get(s["feature"]).kind for n, s in measures.items()}
    acct_measures = [n for n in measures if kinds[n] == "account"]

    def keep(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame if focus is None else frame.join(focus, on="account_id", how="semi")

    if det.get("scope", "window") == "account":
        frame = keep(accounts.select("account_id"))
        for n in acct_measures:
            frame = frame.join(_account_measure(ctx, n, measures[n]), on="account_id", how="left")
        frame = frame.with_columns(
            pl.lit(None, pl.Date).alias("window_start"), pl.lit(None, pl.Date).alias("window_end")
        ).filter(ctx.cond(det["where"]))
        return _Compiled(t, ctx, window, frame, None)

    derive = det.get("derive") or {}
    network = bool(_network_keys(t))

    # the conjuncts of the row filter that read stored columns only cut the candidate rows
    # before any derived feature is computed (those read every row through ctx.rows)
    pre = _raw_condition(list(det.get("rows") or []), set(rows.collect_schema().names()),
                         t.params) if derive else None

    def select_for(accounts_hit: pl.LazyFrame, source: pl.LazyFrame | None = None
                   ) -> pl.LazyFrame:
        # features of one account's rows: the hit accounts' rows are all they read
        cx = ctx if source is None else replace(ctx, rows=source)
        r = cx.rows.join(accounts_hit, on="account_id", how="semi")
        return _derive(r if pre is None else r.filter(pre), cx, derive).filter(
            cx.cond(det.get("rows")))

    # features that read other accounts' rows (key_degree) see every row; the rest only the
    # focus accounts' rows (daily parts are computed, and saved, for every account)
    r = rows if network or partial is not None else keep(rows)
    if pre is not None:
        r = r.filter(pre)
    selected = _derive(r, ctx, derive).filter(ctx.cond(det.get("rows")))
    aggs = [
        features.get(s["feature"]).fn(ctx, **_args(ctx, s.get("args"))).alias(n)
        for n, s in measures.items()
        if kinds[n] == "agg"
    ]
    daily: pl.LazyFrame | None = None
    if partial is not None and window:
        # per-account daily parts of the days not stored yet, for every account (saved)
        parts, combine = [], []
        for n, s in measures.items():
            if kinds[n] == "agg":
                p, w = _partial_exprs(ctx, n, s)
                parts += p
                combine.append(w.alias(n))
        if partial.daily is not None:  # computed already (detect collects them first)
            daily = partial.daily
        else:
            daily = (
                selected.filter(pl.col("day").is_in(sorted(partial.raw_days)))
                .group_by("account_id", "day")
                .agg(*parts)
            )
    if network or partial is not None:
        selected = keep(selected)
    if daily is not None and report_from is not None and window:
        # windows from the daily parts: the stored ones for the days before tonight, the
        # computed ones for the rest
        mine = keep(daily)
        if partial.stored is not None:  # type: ignore[union-attr]
            stored = partial.stored.select(mine.collect_schema().names())  # type: ignore[union-attr]
            mine = pl.concat([keep(stored), mine], how="vertical")
        if ends_only:
            frame = _windows_ending_from(mine, report_from, window, combine)
        else:  # a long batch: roll over account-days instead of rows
            frame = (
                mine.sort("account_id", "day")
                .rolling(index_column="day", period=f"{window}d", group_by="account_id")
                .agg(*combine)
                .rename({"day": "window_end"})
            )
        frame = frame.with_columns(
            (pl.col("window_end") - pl.duration(days=window - 1)).alias("window_start")
        )
        # evidence: the focus accounts' selected rows (raw rows are kept for that)
    elif window and ends_only and report_from is not None:
        # only windows ending in the report days: one group-by per (account, end day)
        frame = _windows_ending_from(selected, report_from, window, aggs).with_columns(
            (pl.col("window_end") - pl.duration(days=window - 1)).alias("window_start")
        )
    elif window:
        frame = _rolling_windows(t, ctx, selected, window, kinds, engine)
    else:
        frame = selected.group_by("account_id").agg(
            *aggs,
            pl.col("day").min().alias("window_start"),
            pl.col("day").max().alias("window_end"),
        )
    if report_from is not None:
        frame = frame.filter(pl.col("window_end") >= report_from)
    for n in acct_measures:
        frame = frame.join(_account_measure(ctx, n, measures[n]), on="account_id", how="left")
    frame = frame.filter(ctx.cond(det["where"]))
    return _Compiled(t, ctx, window, frame, selected, daily,
                     None if network else select_for)


def _derive(rows: pl.LazyFrame, ctx: Context, derive: Mapping[str, Any]) -> pl.LazyFrame:
    """``rows`` with the typology's derived columns. Nearest-row features that share their
    ``where`` and direction are computed by one as-of join."""
    from txflags.features.derived import MATCH_FEATURES, match_asof

    matches: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    wheres: dict[str, Any] = {}
    for name, spec in derive.items():
        feat = spec["feature"]
        args = _args(ctx, spec.get("args"))
        if feat in MATCH_FEATURES:
            strategy, kind = MATCH_FEATURES[feat]
            key = json.dumps(args.get("where"), sort_keys=True, default=str)
            wheres[key] = args.get("where")
            out = ("lag", "") if kind == "lag" else (
                "value", "amount_usd" if kind == "usd" else args["column"])
            matches.setdefault((key, strategy), {})[name] = out
        else:
            rows = features.get(feat).fn(rows, ctx, name, **args)
    for (key, strategy), outputs in matches.items():
        rows = match_asof(rows, ctx, wheres[key], strategy, outputs)
    return rows


def _strongest(c: _Compiled, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The strongest window per account (by ``rank_by``, then the latest)."""
    measures: Mapping[str, Any] = c.t.detection["measures"]
    rank = c.t.detection.get("rank_by") or next(iter(measures))
    # measures are reported to 6 decimals; rank on those, so that float summation order (rolling
    # vs one group-by per window) never decides between two windows
    schema = frame.collect_schema()
    frame = frame.with_columns(pl.col([n for n in measures if schema[n].is_float()]).round(6))
    return frame.group_by("account_id").agg(
        pl.all()
        .sort_by([rank, "window_end"], descending=[True, True], nulls_last=True)
        .first()
    )


def _with_evidence(
    c: _Compiled, frame: pl.LazyFrame, selected: pl.LazyFrame | None,
    source: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """``frame`` (strongest windows) with ``evidence_txn_ids``: the selected rows of each
    window. A typology whose features read only its own account's rows re-selects the hit
    accounts' rows from ``source`` (default: the rows it was compiled with)."""
    if selected is None:
        return frame.with_columns(pl.lit([], pl.List(pl.String)).alias("evidence_txn_ids"))
    win = frame.select("account_id", "window_start", "window_end")
    if c.select_for is not None:
        selected = c.select_for(win.select("account_id"), source)
    evidence = (
        selected.select("account_id", "day", "txn_id")
        .join(win, on="account_id")
        .filter(pl.col("day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by("account_id")
        .agg(pl.col("txn_id").sort().alias("evidence_txn_ids"))
    )
    return frame.join(evidence, on="account_id", how="left")


def _as_hits(c: _Compiled, frame: pl.LazyFrame) -> pl.LazyFrame:
    """Strongest windows with evidence as a Hits frame: bands, observed values, sentence."""
    t, ctx, window = c.t, c.ctx, c.window
    measures: Mapping[str, Any] = t.detection["measures"]
    schema = frame.collect_schema()
    floats = [n for n in measures if schema[n].is_float()]
    frame = frame.with_columns(pl.col(floats).round(6))
    band, reason = _bands(t, ctx)
    return frame.select(
        pl.lit(t.id).alias("typology_id"),
        pl.lit(t.version, pl.Int32).alias("typology_version"),
        pl.lit(t.family).alias("family"),
        pl.lit(t.indicator).alias("indicator"),
        "account_id",
        "window_start",
        "window_end",
        band.alias("band"),
        reason.alias("reason"),
        pl.lit(t.weight, pl.Int8).alias("weight"),
        pl.lit(t.roles[0]).alias("role_hint"),
        pl.struct([pl.col(n) for n in measures]).struct.json_encode().alias("observed"),
        pl.lit(t.params_json()).alias("params"),
        pl.col("evidence_txn_ids").fill_null(pl.lit([], pl.List(pl.String))),
        _sentence(t.doc["sentence"], t, schema, window).alias("sentence"),
    ).pipe(Hits.conform)


def _finish(c: _Compiled, frame: pl.LazyFrame, selected: pl.LazyFrame | None) -> pl.LazyFrame:
    """The strongest window per account, its evidence, bands and sentence: a Hits frame."""
    return _as_hits(c, _with_evidence(c, _strongest(c, frame), selected))


def _finish_all(
    jobs: list[tuple[_Compiled, pl.LazyFrame, pl.LazyFrame | None]],
    rows_df: pl.DataFrame,
    starts: Mapping[str, date | None],
    n_accounts: int,
    engine: str,
) -> list[pl.DataFrame]:
    """``_finish`` of several typologies (compiled, candidate windows, selected rows) in two
    passes: the strongest windows of every one first, then their evidence from the rows of the
    accounts hit (cut from the row context once, not once per typology; each typology reads
    them from the first day it reads, ``starts``)."""
    strongest = _collect_each([_strongest(c, frame) for c, frame, _ in jobs], engine)
    own = [s.select("account_id") for (c, _, sel), s in zip(jobs, strongest, strict=True)
           if sel is not None and c.select_for is not None]
    source = rows_df
    if own:
        ids = pl.concat(own).unique()
        if ids.height <= FOCUS_MAX_SHARE * n_accounts:  # else cutting copies most rows
            source = rows_df.join(ids, on="account_id", how="semi")
    plans = []
    for (c, _, selected), frame in zip(jobs, strongest, strict=True):
        rows = source.lazy()
        start = starts.get(c.t.id)
        if start is not None:
            rows = rows.filter(pl.col("day") >= start)
        plans.append(_as_hits(c, _with_evidence(c, frame.lazy(), selected, rows)))
    return _collect_each(plans, engine)


def compile_typology(
    t: Typology,
    rows: pl.LazyFrame,
    accounts: pl.LazyFrame,
    as_of: date,
    prior_hits: pl.LazyFrame | None = None,
    report_from: date | None = None,
) -> pl.LazyFrame:
    """The lazy plan of one typology's hits (a Hits frame).

    ``report_from``: only windows ending on or after this day compete for the strongest window
    (a nightly scan reports what ends in its batch; older rows are lookback context).
    """
    c = _compile(t, rows, accounts, as_of, prior_hits, report_from)
    return _finish(c, c.frame, c.selected)


# -- run the catalogue ----------------------------------------------------------------------------
def _order(cat: Catalogue) -> list[Typology]:
    done: dict[str, Typology] = {}

    def visit(t: Typology) -> None:
        if t.id in done:
            return
        for dep in t.depends_on:
            visit(cat.get(dep))
        done[t.id] = t

    for t in sorted(cat, key=lambda x: x.id):
        visit(t)
    return list(done.values())


def _collect_each(plans: list[pl.LazyFrame], engine: str) -> list[pl.DataFrame]:
    """Collect the plans one after the other. Each plan already uses every core; running them
    side by side (``pl.collect_all``) only holds more intermediate frames in memory at once
    and was slower (1M rows: detect 8.4 s side by side, 7.9 s one after the other)."""
    return [p.collect(engine=engine) for p in plans]  # type: ignore[arg-type]


def _stages(order: list[Typology]) -> list[list[Typology]]:
    depth: dict[str, int] = {}
    for t in order:  # dependencies come first
        depth[t.id] = 1 + max((depth[d] for d in t.depends_on if d in depth), default=-1)
    n = max(depth.values(), default=-1) + 1
    return [[t for t in order if depth[t.id] == k] for k in range(n)]


def _raw_condition(
    conds: list, names: set[str], params: Mapping[str, Any]
) -> pl.Expr | None:
    """The conjuncts of ``conds`` that read only raw transaction columns, compiled."""
    keep = []
    for c in conds:
        cols = {subject_of(leaf)[1] for leaf in walk(c) if subject_of(leaf)}  # type: ignore[index]
        cols |= {leaf["ref"] for leaf in walk(c) if "ref" in leaf}
        if cols <= names:
            keep.append(c)
    return compile_condition(keep, params, pl.col) if keep else None


def _focus_context(
    txns: pl.LazyFrame,
    acct: pl.LazyFrame,
    focus: pl.DataFrame,
    typologies: list[Typology],
    engine: str,
) -> tuple[pl.DataFrame, pl.Expr]:
    """(extended focus, row filter) for a focused run.

    The extended focus adds what the focus accounts' results read of other accounts: the
    counterparties they deal with and the accounts sharing an identifier with them (earlier-stage
    hits of those are read by cp_prior_hits / sharers_with_hits). The row filter keeps their
    rows plus the rows of any account that share a network key (key_degree: beneficiary, device,
    card) with them, so that hub degrees are counted over everyone.
    """
    from txflags.features.identifiers import KINDS, sharing_pairs

    fl = focus.lazy()
    mine = txns.join(fl, on="account_id", how="semi")
    cps = mine.select(pl.col("counterparty_id").alias("account_id")).drop_nulls().unique()
    cps = cps.join(acct.select("account_id"), on="account_id", how="semi")
    pairs = sharing_pairs(acct, txns.select("account_id", "device_id"), list(KINDS), False)
    sharers = pairs.join(fl, on="account_id", how="semi").select(
        pl.col("other_account_id").alias("account_id")
    )
    ext = pl.concat([fl, cps, sharers]).unique()
    keys: list[tuple[str, list, Mapping[str, Any]]] = [("device_id", [], {})]
    for t in typologies:
        keys += _network_keys(t)
    raw = set(Transactions.names)
    ext_rows = txns.join(ext, on="account_id", how="semi")
    key_exprs, key_conds = [], []
    for key, where, params in keys:
        if key not in raw:
            continue
        cond = _raw_condition(where, raw, params)
        if any(k == key and str(c) == str(cond) for k, c in key_conds):
            continue  # the same key rows already
        col = pl.col(key) if cond is None else pl.col(key).filter(cond)
        key_exprs.append(col.drop_nulls().unique().implode().alias(f"k{len(key_exprs)}"))
        key_conds.append((key, cond))
    ext_df, key_df = pl.collect_all(  # type: ignore[misc]
        [ext, ext_rows.select(key_exprs)], engine=engine  # type: ignore[arg-type]
    )
    keep = pl.col("account_id").is_in(ext_df["account_id"].implode())
    for i, (key, cond) in enumerate(key_conds):
        hit = pl.col(key).is_in(key_df[f"k{i}"])
        keep = keep | (hit if cond is None else (hit & cond))
    return ext_df, keep


def _prepare(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    catalogue: Catalogue,
    as_of: date | None,
) -> tuple[pl.LazyFrame, pl.LazyFrame, set[str], list[str], date]:
    txns, accts = conform(transactions.lazy(), accounts.lazy())
    if as_of is not None:
        end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
        txns = txns.filter(pl.col("ts") < pl.lit(end).dt.replace_time_zone("UTC"))
    needed = {c for t in catalogue for c in t.requires}
    present, zones, last_day = _metadata(txns, accts, needed)
    return txns, accts, present, zones, as_of or last_day or date.today()


def plan(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    report_from: date | None = None,
) -> tuple[dict[str, pl.LazyFrame], dict[str, str], date | None]:
    """The lazy hit plan of every typology that can run (one plan each, second-stage ones
    reading their dependencies' lazy hits), the skipped ones with reasons, and as_of.

    For inspection (``explain``); ``detect`` runs the same typologies stage by stage. A
    typology with a costly gated measure (``_rolling_windows``) runs its cheap first pass while
    it is planned: its plan starts from those candidate windows.
    """
    txns, accts, present, zones, as_of = _prepare(transactions, accounts, catalogue, as_of)
    rows = build_rows(txns, accts, zones).cache()
    acct = build_accounts(accts, as_of).cache()
    ran, skipped = _runnable(catalogue, present)
    plans: dict[str, pl.LazyFrame] = {}
    full: dict[str, pl.LazyFrame] = {}
    for t in ran:
        deps = [full[d] for d in t.depends_on if d in full]
        prior = pl.concat(deps) if deps else None
        plans[t.id] = compile_typology(t, rows, acct, as_of, prior, report_from)
        full[t.id] = compile_typology(t, rows, acct, as_of, prior)
    return plans, skipped, as_of


def _runnable(catalogue: Catalogue, present: set[str]) -> tuple[list[Typology], dict[str, str]]:
    ran: list[Typology] = []
    skipped: dict[str, str] = {}
    for t in _order(catalogue):
        missing = [c for c in t.requires if c not in present]
        bad_deps = [d for d in t.depends_on if d in skipped]
        if missing:
            skipped[t.id] = f"needs column(s) absent or empty in the data: {', '.join(missing)}"
        elif bad_deps and len(bad_deps) == len(t.depends_on):
            skipped[t.id] = f"every typology it depends on was skipped: {', '.join(bad_deps)}"
        else:
            ran.append(t)
    return ran, skipped


def detect(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    engine: str = "auto",
    report_from: date | None = None,
    focus: pl.DataFrame | pl.Series | list[str] | None = None,
    partials: Mapping[str, tuple[pl.LazyFrame | None, set[date]]] | None = None,
    shard_rows: int | None = SHARD_ROWS,
    dependency_hits: Callable[[str, date], pl.DataFrame | None] | None = None,
    _shard: bool = False,
) -> DetectResult:
    """Run every typology of ``catalogue`` over the transactions (up to ``as_of``, inclusive).

    ``report_from``: report only windows ending on or after this day (earlier rows are
    context); each typology then reads only the days its window and context need
    (``span_days``), and second-stage typologies read their dependencies' hits over their own
    span. ``focus``: report only these accounts (e.g. the accounts active in a nightly batch);
    what their results read of other accounts (counterparties, identifier sharers, network hubs)
    is still computed, so their hits are the same as an unfocused run's.
    ``partials``: turn on daily parts (``partial_key``) for a nightly run: aggregate key ->
    (stored parts of the days before ``report_from``, the days they cover). Typologies whose
    windows sum from daily parts read those and compute the other days from rows (every
    account's); those up to the day before ``as_of`` (complete) are returned in
    ``DetectResult.partials`` for the store.

    ``shard_rows``: when more rows than this would be featurised for everyone, the accounts
    are split into shards of about this many rows, each run as a focus (the same hits; memory
    bounded by a shard; None: never).

    ``dependency_hits``: for a nightly run, the hits of earlier nights of a typology others
    depend on: ``(hits_key, first local day) -> accounts hit by a window ending from that day
    up to the day before report_from``, or None when not every such day (since history began)
    was evaluated with that configuration. A dependency with stored hits computes only tonight's
    windows (daily parts too, when summable); without, every window of its span from rows.
    Either way the accounts hit by windows ending from ``report_from`` on are returned in
    ``DetectResult.dependency_hits`` for the store.

    Returns a Hits frame sorted by typology and account, the ids that ran, and the skipped ids
    with the reason (e.g. a required column absent from the export).
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    engine = _polars_engine(engine)
    txns, accts, present, zones, as_of = _prepare(transactions, accounts, catalogue, as_of)
    ran, skipped = _runnable(catalogue, present)
    if not ran:
        return DetectResult(Hits.empty(), [], skipped, as_of)
    needed_by_others = {d for t in ran for d in t.depends_on}
    span = _reach(ran)
    stored_hits: dict[str, pl.DataFrame] = {}
    if dependency_hits is not None and report_from is not None:
        for t in ran:
            key = hits_key(t)
            if t.id in needed_by_others and key is not None:
                # a dependency read over all the rows: over the lookback a nightly scan reads
                reach = span[t.id] if span[t.id] is not None else lookback_days(catalogue) + 1
                got = dependency_hits(key, report_from - timedelta(days=reach))
                if got is not None:
                    stored_hits[t.id] = got
    acct = build_accounts(accts, as_of).collect(engine=engine)  # type: ignore[arg-type]
    n_report = (as_of - report_from).days + 1 if report_from is not None else None
    ends_only = n_report is not None and n_report <= ENDS_ONLY_MAX_DAYS
    daily: dict[str, tuple[str, pl.LazyFrame | None, set[date]]] = {}
    if partials is not None and report_from is not None:
        for t in ran:
            key = partial_key(t)
            if key is None or (t.id in needed_by_others and t.id not in stored_hits):
                continue
            w = window_of(t) or 1
            days = {report_from + timedelta(days=i) for i in range(1 - w, n_report)}  # type: ignore[arg-type]
            stored, covered = partials.get(key, (None, set()))
            covered = {d for d in covered if report_from - timedelta(days=w - 1) <= d < report_from}
            daily[t.id] = (key, stored if covered else None, days - covered)
    focus_df = ext_df = None
    ctx_txns = txns
    report_only: pl.DataFrame | None = None
    # a dependency reading other accounts' hits: no run can be restricted to some accounts
    unrestrictable = any(_uses(t, NETWORK_HIT_FEATURES) for t in ran if t.id in needed_by_others)
    if focus is not None:
        focus_df = pl.DataFrame({"account_id": pl.Series(list(focus) if not isinstance(
            focus, pl.DataFrame) else focus["account_id"], dtype=pl.String)}).unique()
        if not _shard and (focus_df.height > FOCUS_MAX_SHARE * acct.height or unrestrictable):
            # most accounts are active (restricting costs more than it saves), or a dependency
            # reads other accounts' hits (no safe restriction): run everyone, report the focus
            report_only, focus_df, focus = focus_df, None, None
    if (shard_rows and not _shard and focus_df is None and not unrestrictable
            and txns.select(pl.len()).collect().item() > shard_rows):
        return _detect_shards(
            txns.collect(engine=engine), accts, catalogue, report_only, shard_rows,  # type: ignore[arg-type]
            as_of=as_of, engine=engine, report_from=report_from, partials=partials,
            dependency_hits=dependency_hits,
        )
    if focus is not None and focus_df is not None:
        ext_df, keep = _focus_context(txns, acct.lazy(), focus_df, ran, engine)
        if daily and not _shard:  # daily parts computed from rows cover every account of those days
            utc = {d + timedelta(days=k) for _, _, days in daily.values() for d in days
                   for k in (-1, 0, 1)}
            keep = keep | pl.col("ts").dt.date().is_in(sorted(utc))
        ctx_txns = txns.filter(keep)
    # the row context, once: only the columns the catalogue reads
    cols = needed_columns(ran)
    rows_df = (
        build_rows(ctx_txns, acct.lazy(), zones, cols)
        .select([c for c in row_columns() if c in cols])
        .collect(engine=engine)  # type: ignore[arg-type]
    )
    full: dict[str, pl.DataFrame] = {}
    computed: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    tonight: dict[str, pl.DataFrame] = {}
    if daily:
        # the daily parts of the days not stored, first: from those days' rows only (their
        # features read nothing beyond the day), for every account
        lazy_parts = []
        raw_days = sorted(set().union(*(days for _, _, days in daily.values())))
        source = rows_df
        if len(raw_days) <= ENDS_ONLY_MAX_DAYS:  # a few nights: cut those rows out once
            source = rows_df.filter(pl.col("day").is_in(raw_days))
            if _shard:  # each shard saves the parts of its own accounts
                source = source.join(focus_df, on="account_id", how="semi")  # type: ignore[arg-type]
        for t in ran:
            if t.id in daily:
                raw = source.lazy().filter(pl.col("day").is_in(sorted(daily[t.id][2])))
                if _shard and source is rows_df:
                    raw = raw.join(focus_df.lazy(), on="account_id", how="semi")  # type: ignore[union-attr]
                c = _compile(t, raw, acct.lazy(), as_of, None, report_from,
                             ends_only=ends_only, partial=_Partial(None, daily[t.id][2]),
                             engine=engine)
                lazy_parts.append(c.daily)
        parts_out = iter(_collect_each(lazy_parts, engine))
        # only days whose rows are all in (UTC days up to as_of) are saved: the last local day
        # can still get rows from the next UTC day, and a late batch (as_of before the newest
        # history) must not replace a complete day with part of it
        complete = as_of - timedelta(days=1)
        for t in ran:
            if t.id in daily:
                key, _, raw_days = daily[t.id]
                frame = next(parts_out)
                tonight[key] = frame
                computed[key] = (frame.filter(pl.col("day") <= complete),
                                 sorted(d for d in raw_days if d <= complete))
    frames: list[pl.DataFrame] = []
    hit_days: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    starts: dict[str, date | None] = {}  # the first day of the rows each typology reads
    for stage in _stages(ran):
        plans: list[pl.LazyFrame] = []
        twice: list[_Compiled] = []
        jobs: list[tuple[_Compiled, pl.LazyFrame, pl.LazyFrame | None]] = []
        for t in stage:
            deps = [full[d] for d in t.depends_on if d in full]
            prior = pl.concat(deps).lazy() if deps else None
            rows = rows_df.lazy()
            is_dep = t.id in needed_by_others
            # a dependency without stored hits computes every window over what reads its hits
            from_rows = is_dep and t.id not in stored_hits
            days = span[t.id] if from_rows else span_days(t)
            starts[t.id] = None
            if report_from is not None and days is not None:
                starts[t.id] = report_from - timedelta(days=days)
                rows = rows.filter(pl.col("day") >= starts[t.id])
            fl = ext_df if is_dep else focus_df
            part = None
            if t.id in daily:
                key, stored, raw_days = daily[t.id]
                part = _Partial(stored, raw_days, tonight[key].lazy())
            c = _compile(
                t, rows, acct.lazy(), as_of, prior,
                report_from=None if from_rows else report_from,
                focus=None if fl is None else fl.lazy(),
                ends_only=ends_only,
                partial=part,
                engine=engine,
            )
            if is_dep:
                twice.append(c)
                keep_rows = c.selected is not None and c.select_for is None
                plans += [c.frame, c.selected] if keep_rows else [c.frame]  # type: ignore[list-item]
            else:
                jobs.append((c, c.frame, c.selected))
        out = iter(_collect_each(plans, engine))
        for c in twice:
            frame = next(out)
            selected = next(out) if c.selected is not None and c.select_for is None else None
            found = frame.select("account_id")
            if c.t.id in stored_hits:
                found = pl.concat([stored_hits[c.t.id], found])
            full[c.t.id] = found.select(
                "account_id", pl.lit(c.t.id).alias("typology_id"),
                pl.lit(c.t.family).alias("family"),
            ).unique("account_id")
            key = hits_key(c.t)
            if dependency_hits is not None and report_from is not None and key is not None:
                last = max(as_of, rows_df["day"].max() or as_of)  # type: ignore[type-var]
                hit_days[key] = (
                    frame.filter(pl.col("window_end") >= report_from)
                    .select("account_id", pl.col("window_end").alias("day")).unique(),
                    [report_from + timedelta(days=i)
                     for i in range((last - report_from).days + 1)],  # type: ignore[operator]
                )
            mine = frame.lazy()
            if report_from is not None:  # account-scope hits have no window: keep them
                mine = mine.filter(pl.col("window_end").is_null()
                                   | (pl.col("window_end") >= report_from))
            if focus_df is not None:
                mine = mine.join(focus_df.lazy(), on="account_id", how="semi")
            jobs.append((c, mine, c.selected if selected is None else selected.lazy()))
        frames += _finish_all(jobs, rows_df, starts, acct.height, engine)
    hits = pl.concat([Hits.empty(), *frames]) if frames else Hits.empty()
    if report_only is not None:
        hits = hits.join(report_only, on="account_id", how="semi")
    hits = hits.sort("typology_id", "account_id")
    return DetectResult(hits=hits, run=sorted(t.id for t in ran), skipped=skipped, as_of=as_of,
                        partials=computed, dependency_hits=hit_days,
                        dependencies_stored=sorted(stored_hits))


def _reach(ran: list[Typology]) -> dict[str, int | None]:
    """Days before ``report_from`` each typology reads: its own span, or for a dependency the
    longest span of what reads its hits (None: all the rows given)."""
    span: dict[str, int | None] = {t.id: span_days(t) for t in ran}
    for t in reversed(ran):
        for d in t.depends_on:
            if d in span and (span[d] is not None):
                span[d] = None if span[t.id] is None else max(span[d], span[t.id])  # type: ignore[type-var]
    return span


def _detect_shards(
    txns: pl.DataFrame,
    accounts: pl.LazyFrame,
    catalogue: Catalogue,
    report: pl.DataFrame | None,
    shard_rows: int,
    **kw: Any,
) -> DetectResult:
    """``detect`` over shards of the accounts to ``report`` (None: every account with rows or
    in ``accounts``), each of about ``shard_rows`` of their own rows, as one result."""
    ids = pl.concat([txns.select("account_id"),
                     accounts.select("account_id").collect()]).unique()
    if report is not None:
        ids = ids.join(report, on="account_id", how="semi")
    own = ids.join(txns.group_by("account_id").len(), on="account_id", how="left")
    own = own.sort("account_id").with_columns(
        (pl.col("len").fill_null(0).cum_sum() // shard_rows).alias("shard")
    )
    results = [
        detect(txns, accounts, catalogue, focus=part.select("account_id"), _shard=True, **kw)
        for _, part in own.group_by("shard", maintain_order=True)
    ]
    partials: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    for r in results:
        for key, (frame, days) in r.partials.items():
            prev = partials.get(key)
            partials[key] = (frame if prev is None else pl.concat([prev[0], frame]), days)
    partials = {k: (f.sort("account_id", "day"), d) for k, (f, d) in partials.items()}
    hit_days: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    for r in results:
        for key, (frame, days) in r.dependency_hits.items():
            prev = hit_days.get(key)
            hit_days[key] = (frame if prev is None else pl.concat([prev[0], frame]).unique(),
                             days)
    hits = pl.concat([r.hits for r in results]).sort("typology_id", "account_id")
    first = results[0]
    return DetectResult(hits=hits, run=first.run, skipped=first.skipped, as_of=first.as_of,
                        partials=partials, dependency_hits=hit_days,
                        dependencies_stored=first.dependencies_stored)
