"""One typology as lazy Polars plans: candidate windows, selected rows (evidence), daily parts;
then the strongest window per account as a Hits frame."""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Typology
from txflags.features.conditions import compile_condition, subject_of, walk
from txflags.features.context import Context
from txflags.partials import (
    WINDOW_AGG,
    Partial,
    decomposable,
    partial_exprs,
    window_measures,
)
from txflags.schema import Hits
from txflags.spans import network_keys, window_of
from txflags.windows import (
    account_gate,
    combine_parts,
    day_parts,
    measure_exprs,
    rolling_windows,
    running_windows,
    windows_ending_from,
    windows_of_rows,
)


def _account_measure(ctx: Context, name: str, spec: Mapping[str, Any]) -> pl.LazyFrame:
    feat = features.get(spec["feature"])
    return feat.fn(ctx, **ctx.args(spec.get("args"))).select(
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


@dataclass
class Compiled:
    t: Typology
    ctx: Context
    window: int | None
    frame: pl.LazyFrame  # candidate windows passing ``where`` (before choosing the strongest)
    selected: pl.LazyFrame | None  # the rows the windows aggregate (evidence)
    daily: pl.LazyFrame | None = None  # daily parts computed from rows (to be stored)
    #: selected rows of some accounts only (features of one account's rows): evidence reads
    #: the hit accounts' rows (from the compiled rows, or from a given source of rows)
    select_for: Callable[[pl.LazyFrame, pl.LazyFrame | None], pl.LazyFrame] | None = None
    #: measures computed for the strongest window only, from its rows (``window_measures``)
    reported: list[pl.Expr] = field(default_factory=list)


def compile_parts(
    t: Typology,
    rows: pl.LazyFrame,
    accounts: pl.LazyFrame,
    as_of: date,
    prior_hits: pl.LazyFrame | None = None,
    report_from: date | None = None,
    focus: pl.LazyFrame | None = None,
    ends_only: bool = False,
    partial: Partial | None = None,
    engine: str = "in-memory",
    focus_column: str | None = None,
) -> Compiled:
    """One typology's lazy plans over ``rows`` (see ``Compiled``). ``focus``: only these
    accounts' windows; ``focus_column``: a boolean column of ``rows`` marking the same
    accounts (a filter instead of a join per plan)."""
    det = t.detection
    window = window_of(t)
    ctx = Context(rows, accounts, as_of, t.params, window, prior_hits)
    measures: Mapping[str, Any] = det["measures"]
    kinds = {n: features.get(s["feature"]).kind for n, s in measures.items()}
    acct_measures = [n for n in measures if kinds[n] == "account"]

    def keep(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame if focus is None else frame.join(focus, on="account_id", how="semi")

    def keep_rows(frame: pl.LazyFrame) -> pl.LazyFrame:  # rows of the row context
        return frame.filter(pl.col(focus_column)) if focus_column else keep(frame)

    if det.get("scope", "window") == "account":
        frame = keep(accounts.select("account_id"))
        for n in acct_measures:
            frame = frame.join(_account_measure(ctx, n, measures[n]), on="account_id", how="left")
        frame = frame.with_columns(
            pl.lit(None, pl.Date).alias("window_start"), pl.lit(None, pl.Date).alias("window_end")
        ).filter(ctx.cond(det["where"]))
        return Compiled(t, ctx, window, frame, None)

    derive = det.get("derive") or {}
    network = bool(network_keys(t))

    # the conjuncts of the row filter that read stored columns only cut the candidate rows
    # before any derived feature is computed (those read every row through ctx.rows)
    pre = raw_condition(list(det.get("rows") or []), set(rows.collect_schema().names()),
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
    r = rows if network or partial is not None else keep_rows(rows)
    if pre is not None:
        r = r.filter(pre)
    selected = _derive(r, ctx, derive).filter(ctx.cond(det.get("rows")))
    # the aggregate measures of every window; the others only for the strongest ones
    agg_names = window_measures(t)

    aggs = measure_exprs(ctx, measures, agg_names)
    reported = measure_exprs(
        ctx, measures, [n for n in measures if kinds[n] == "agg" and n not in agg_names])
    # measures combined from per-account daily parts (sums, maxima, distinct values)
    parts = ([partial_exprs(ctx, n, measures[n]) for n in agg_names]
             if window and decomposable(t) else [])
    part_kinds = {c: WINDOW_AGG[k] for p in parts for c, k in p.kinds.items()}
    part_day_exprs = [e for p in parts for e in p.day_exprs()]
    by_name = dict(zip(agg_names, parts, strict=False))
    combined = [p.measure.alias(n) for n, p in by_name.items()]
    # rolling windows skip the accounts whose totals fail a growing measure's '>=' conjunct
    gate = account_gate(det["where"], measures, by_name, ctx) if parts else None

    def from_parts(days: pl.LazyFrame) -> pl.LazyFrame:
        # windows from per-account daily parts: those ending on the report days only (a
        # night), or every one (rolling over account-days)
        if ends_only and report_from is not None:
            w = windows_ending_from(days, report_from, window, combine_parts(part_kinds))
        else:
            w = running_windows(days, part_kinds, window, gate)  # type: ignore[arg-type]
        return w.select("account_id", "window_end", *combined)

    daily: pl.LazyFrame | None = None
    if partial is not None and window:
        # per-account daily parts of the days not stored yet, for every account (saved)
        if partial.daily is not None:  # computed already (detect collects them first)
            daily = partial.daily
        else:
            daily = day_parts(selected.filter(pl.col("day").is_in(sorted(partial.raw_days))),
                              part_day_exprs)
    if network or partial is not None:
        selected = keep_rows(selected)
    if daily is not None and report_from is not None and window:
        # windows from the daily parts: the stored ones for the days before tonight, the
        # computed ones for the rest
        mine = keep(daily)
        if partial.stored is not None:  # type: ignore[union-attr]
            stored = partial.stored.select(mine.collect_schema().names())  # type: ignore[union-attr]
            mine = pl.concat([keep(stored), mine], how="vertical")
        frame = from_parts(mine)
        # evidence: the focus accounts' selected rows (raw rows are kept for that)
    elif parts and not ends_only:  # every window of the rows, over their daily parts
        frame = windows_of_rows(selected, by_name, window, gate)  # type: ignore[arg-type]
    elif parts:  # a night: the windows ending on its days, from the rows' daily parts
        frame = from_parts(day_parts(selected, part_day_exprs))
    elif window and ends_only and report_from is not None:
        # only windows ending in the report days: one group-by per (account, end day)
        frame = windows_ending_from(selected, report_from, window, aggs)
    elif window:
        frame = rolling_windows(t, ctx, selected, window,
                                {n: k for n, k in kinds.items() if k != "agg" or n in agg_names},
                                engine)
    if window:
        frame = frame.with_columns(
            (pl.col("window_end") - pl.duration(days=window - 1)).alias("window_start"))
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
    return Compiled(t, ctx, window, frame, selected, daily,
                     None if network else select_for, reported)


def _derive(rows: pl.LazyFrame, ctx: Context, derive: Mapping[str, Any]) -> pl.LazyFrame:
    """``rows`` with the typology's derived columns. Nearest-row features that share their
    ``where`` and direction are computed by one as-of join."""
    from txflags.features.derived import MATCH_FEATURES, match_asof

    matches: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    wheres: dict[str, Any] = {}
    for name, spec in derive.items():
        feat = spec["feature"]
        args = ctx.args(spec.get("args"))
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


def strongest(c: Compiled, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The strongest window per account (by ``rank_by``, then the latest)."""
    measures: Mapping[str, Any] = c.t.detection["measures"]
    rank = c.t.detection.get("rank_by") or next(iter(measures))
    # measures are reported to 6 decimals; rank on those, so that float summation order (rolling
    # vs one group-by per window) never decides between two windows
    schema = frame.collect_schema()
    frame = frame.with_columns(
        pl.col([n for n in measures if n in schema and schema[n].is_float()]).round(6))
    return frame.group_by("account_id").agg(
        pl.all()
        .sort_by([rank, "window_end"], descending=[True, True], nulls_last=True)
        .first()
    )


def with_evidence(
    c: Compiled, frame: pl.LazyFrame, selected: pl.LazyFrame | None,
    source: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """``frame`` (strongest windows) with ``evidence_txn_ids``, the selected rows of each
    window, and the measures computed for the strongest windows only (``Compiled.reported``).
    A typology whose features read only its own account's rows re-selects the hit accounts'
    rows from ``source`` (default: the rows it was compiled with)."""
    if selected is None:
        return frame.with_columns(pl.lit([], pl.List(pl.String)).alias("evidence_txn_ids"))
    win = frame.select("account_id", "window_start", "window_end")
    if c.select_for is not None:
        selected = c.select_for(win.select("account_id"), source)
    evidence = (
        selected.join(win, on="account_id")
        .filter(pl.col("day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by("account_id")
        .agg(pl.col("txn_id").sort().alias("evidence_txn_ids"), *c.reported)
    )
    return frame.join(evidence, on="account_id", how="left")


def as_hits(c: Compiled, frame: pl.LazyFrame) -> pl.LazyFrame:
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


def finish(c: Compiled, frame: pl.LazyFrame, selected: pl.LazyFrame | None) -> pl.LazyFrame:
    """The strongest window per account, its evidence, bands and sentence: a Hits frame."""
    return as_hits(c, with_evidence(c, strongest(c, frame), selected))


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
    c = compile_parts(t, rows, accounts, as_of, prior_hits, report_from)
    return finish(c, c.frame, c.selected)


def raw_condition(
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
