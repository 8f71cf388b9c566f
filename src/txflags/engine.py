"""Compile every typology into a lazy Polars plan and run them together.

Stage order follows ``depends_on``: a second-stage typology reads the (still lazy) hits of the
typologies it depends on, so the whole catalogue is collected in one ``pl.collect_all``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Catalogue, Typology
from txflags.errors import InputError
from txflags.features.context import Context, build_accounts, build_rows, conform
from txflags.schema import Accounts, Hits, Transactions

ENGINES = ("auto", "in-memory", "streaming")


@dataclass
class DetectResult:
    """Hits of one run, which typologies ran, and which were skipped (id -> reason)."""

    hits: pl.DataFrame
    run: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    as_of: date | None = None


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
    det = t.detection
    wd = det.get("window_days")
    window = int(t.params[wd["param"]]) if isinstance(wd, Mapping) else wd
    ctx = Context(rows, accounts, as_of, t.params, window, prior_hits)
    measures: Mapping[str, Any] = det["measures"]
    kinds = {n: features.get(s["feature"]).kind for n, s in measures.items()}
    acct_measures = [n for n in measures if kinds[n] == "account"]

    if det.get("scope", "window") == "account":
        frame = accounts.select("account_id")
        for n in acct_measures:
            frame = frame.join(_account_measure(ctx, n, measures[n]), on="account_id", how="left")
        frame = frame.with_columns(
            pl.lit(None, pl.Date).alias("window_start"), pl.lit(None, pl.Date).alias("window_end")
        ).filter(ctx.cond(det["where"]))
        evidence = None
        selected = None
    else:
        r = rows
        for name, spec in (det.get("derive") or {}).items():
            feat = features.get(spec["feature"])
            r = feat.fn(r, ctx, name, **_args(ctx, spec.get("args")))
        selected = r.filter(ctx.cond(det.get("rows")))
        aggs = [
            features.get(s["feature"]).fn(ctx, **_args(ctx, s.get("args"))).alias(n)
            for n, s in measures.items()
            if kinds[n] == "agg"
        ]
        if window:
            frame = (
                selected.sort("account_id", "day")
                .rolling(index_column="day", period=f"{window}d", group_by="account_id")
                .agg(*aggs)
                .unique(["account_id", "day"])
                .with_columns(
                    (pl.col("day") - pl.duration(days=window - 1)).alias("window_start"),
                    pl.col("day").alias("window_end"),
                )
                .drop("day")
            )
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

    rank = det.get("rank_by") or next(iter(measures))
    frame = frame.group_by("account_id").agg(
        pl.all()
        .sort_by([rank, "window_end"], descending=[True, True], nulls_last=True)
        .first()
    )
    if selected is not None:
        win = frame.select("account_id", "window_start", "window_end")
        evidence = (
            selected.select("account_id", "day", "txn_id")
            .join(win, on="account_id")
            .filter(pl.col("day").is_between(pl.col("window_start"), pl.col("window_end")))
            .group_by("account_id")
            .agg(pl.col("txn_id").sort().alias("evidence_txn_ids"))
        )
        frame = frame.join(evidence, on="account_id", how="left")
    else:
        frame = frame.with_columns(pl.lit([], pl.List(pl.String)).alias("evidence_txn_ids"))

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


def plan(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    report_from: date | None = None,
) -> tuple[dict[str, pl.LazyFrame], dict[str, str], date | None]:
    """The lazy hit plan of every typology that can run, the skipped ones with reasons, as_of.

    ``report_from`` (see ``compile_typology``) limits the reported windows; second-stage
    typologies still read their dependencies' hits over all the data.
    """
    txns, accts = conform(transactions.lazy(), accounts.lazy())
    if as_of is not None:
        end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
        txns = txns.filter(pl.col("ts") < pl.lit(end).dt.replace_time_zone("UTC"))
    needed = {c for t in catalogue for c in t.requires}
    present, zones, last_day = _metadata(txns, accts, needed)
    as_of = as_of or last_day or date.today()
    rows = build_rows(txns, accts, zones).cache()
    acct = build_accounts(accts, as_of).cache()
    plans: dict[str, pl.LazyFrame] = {}
    full: dict[str, pl.LazyFrame] = {}  # unrestricted hits, read by second-stage typologies
    skipped: dict[str, str] = {}
    needed_by_others = {d for t in catalogue for d in t.depends_on}
    for t in _order(catalogue):
        missing = [c for c in t.requires if c not in present]
        bad_deps = [d for d in t.depends_on if d in skipped]
        if missing:
            skipped[t.id] = f"needs column(s) absent or empty in the data: {', '.join(missing)}"
            continue
        if bad_deps and len(bad_deps) == len(t.depends_on):
            skipped[t.id] = f"every typology it depends on was skipped: {', '.join(bad_deps)}"
            continue
        prior = None
        if t.depends_on:
            deps = [full[d] for d in t.depends_on if d in full]
            prior = pl.concat(deps) if deps else None
        plans[t.id] = compile_typology(t, rows, acct, as_of, prior, report_from)
        if t.id in needed_by_others:
            full[t.id] = (
                plans[t.id]
                if report_from is None
                else compile_typology(t, rows, acct, as_of, prior)
            )
    return plans, skipped, as_of


def detect(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    catalogue: Catalogue,
    *,
    as_of: date | None = None,
    engine: str = "auto",
    report_from: date | None = None,
) -> DetectResult:
    """Run every typology of ``catalogue`` over the transactions (up to ``as_of``, inclusive).

    ``report_from``: report only windows ending on or after this day (earlier rows are context).

    Returns a Hits frame sorted by typology and account, the ids that ran, and the skipped ids
    with the reason (e.g. a required column absent from the export).
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    plans, skipped, as_of = plan(
        transactions, accounts, catalogue, as_of=as_of, report_from=report_from
    )
    frames = pl.collect_all(list(plans.values()), engine=engine) if plans else []  # type: ignore[arg-type]
    hits = pl.concat([Hits.empty(), *frames]) if frames else Hits.empty()
    hits = hits.sort("typology_id", "account_id")
    return DetectResult(hits=hits, run=sorted(plans), skipped=skipped, as_of=as_of)
