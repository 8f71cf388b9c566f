"""Compile every typology into a lazy Polars plan and run them together.

The row context (transactions + account attributes + local time + the context columns the
catalogue uses) is built once and materialised; every typology reads it. Stage order follows
``depends_on``: a stage's plans are collected one after the other and a second-stage typology
reads the materialised hits of the typologies it depends on. A run featurising more than
``SHARD_ROWS`` rows for everyone goes shard of accounts by shard (``_detect_shards``).
One typology's plans come from ``plans`` (windows in ``windows``, daily parts and stored
dependency hits in ``partials``, what it reads in ``spans``).

A nightly run (``report_from``) computes only windows ending on or after that day, and each
typology reads only the days its window and its context features need (``span_days``).
``focus`` restricts detection to the entities that matter tonight (accounts active in the batch):
their hits are the same as without it (``tests/scan/test_focus.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from txflags.catalogue import Catalogue, Typology
from txflags.errors import InputError
from txflags.features.context import (
    build_accounts,
    build_rows,
    conform,
    row_columns,
    source_columns,
)
from txflags.partials import Partial, hits_key, partial_key
from txflags.plans import (
    Compiled,
    as_hits,
    compile_parts,
    compile_typology,
    raw_condition,
    strongest,
    with_evidence,
)
from txflags.schema import Accounts, Hits, Transactions
from txflags.spans import (
    DEVICE_SHARING_FEATURES,
    NETWORK_HIT_FEATURES,
    lookback_days,
    needed_columns,
    network_keys,
    span_days,
    uses,
    window_of,
)

ENGINES = ("auto", "in-memory", "streaming")

#: row-context columns marking a focused run's focus and extended focus accounts
FOCUS, EXT_FOCUS = "_focus", "_ext_focus"


#: ``auto`` collects with Polars' in-memory engine up to this many rows (transactions given, for
#: the row context; rows of the row context, for the typologies), with the streaming one above.
IN_MEMORY_ROWS = 4_000_000


def _polars_engine(engine: str, n_rows: int) -> str:
    """The Polars engine to collect with. Every plan here reads frames already in memory (the
    row context): there the in-memory engine is faster than Polars 2's default streaming one
    (night 91 of the 1M-row bench: 3.5 s streaming, 2.3 s in memory; the shards of a 10M-row
    scan, ~2.7M rows each: detection 47 s streaming, 42 s in memory, same peak). Above
    ``IN_MEMORY_ROWS`` (a run that is not sharded) the streaming engine bounds memory."""
    if engine != "auto":
        return engine
    return "in-memory" if n_rows <= IN_MEMORY_ROWS else "streaming"


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
) -> tuple[set[str], list[str], tuple[datetime, datetime] | None]:
    """Which of ``columns`` have at least one value, the time zones in use, the first and last
    ``ts`` (None without rows)."""
    tcols = [c for c in columns if c in Transactions.names]
    acols = [c for c in columns if c in Accounts.names]
    t = txns.select(
        *[pl.col(c).is_not_null().any().alias(c) for c in tcols],
        pl.col("ts").min().alias("_min_ts"),
        pl.col("ts").max().alias("_max_ts"),
    )
    a = accounts.select(
        *[pl.col(c).is_not_null().any().alias(c) for c in acols],
        pl.col("timezone").drop_nulls().unique().sort().implode().alias("_zones"),
    )
    tr, ar = pl.collect_all([t, a])
    present = {c for c in tcols if tr[c][0]} | {c for c in acols if ar[c][0]}
    min_ts, max_ts = tr["_min_ts"][0], tr["_max_ts"][0]
    zones = ar["_zones"][0].to_list() if ar.height else []
    return present, zones, ((min_ts, max_ts) if max_ts is not None else None)


# -- run settings -------------------------------------------------------------------------------
#: A focus covering more than this share of the accounts is not worth restricting to (the run
#: covers everyone and reports the focus accounts: the same hits).
FOCUS_MAX_SHARE = 0.5
#: Windows ending in at most this many report days are computed directly (one group-by per end
#: day) instead of rolling over every day of the span.
ENDS_ONLY_MAX_DAYS = 7
#: A run featurising more rows than this for everyone splits the accounts into shards of about
#: this many rows (``detect(shard_rows=...)``): the row context of 10M rows takes ~2 GB and
#: the features several times that; a shard's only its share. (10M rows: 3.5M-row shards peak
#: at the 2.5M ones' 7.3 GB and repeat less of the focus context: detect 26-31 -> 24-26 s.)
SHARD_ROWS = 3_500_000


# -- run the catalogue ----------------------------------------------------------------------------
def _of(accounts: pl.DataFrame) -> pl.Expr:
    """Rows of ``accounts`` (an ``account_id`` frame), as a mask: a semi-join would gather the
    rows it cuts (10M rows: 0.65 s against 0.11 s)."""
    return pl.col("account_id").is_in(accounts["account_id"].implode())


def _finish_all(
    jobs: list[tuple[Compiled, pl.LazyFrame, pl.LazyFrame | None]],
    rows_df: pl.DataFrame,
    starts: Mapping[str, date | None],
    n_accounts: int,
    engine: str,
) -> list[pl.DataFrame]:
    """``finish`` of several typologies (compiled, candidate windows, selected rows) in two
    passes: the strongest windows of every one first, then their evidence from the rows of the
    accounts hit (cut from the row context once, not once per typology; each typology reads
    them from the first day it reads, ``starts``)."""
    best = _collect_each([strongest(c, frame) for c, frame, _ in jobs], engine)
    own = [s.select("account_id") for (c, _, sel), s in zip(jobs, best, strict=True)
           if sel is not None and c.select_for is not None]
    source = rows_df
    if own:
        ids = pl.concat(own).unique()
        if ids.height <= FOCUS_MAX_SHARE * n_accounts:  # else cutting copies most rows
            source = rows_df.filter(_of(ids))
    plans = []
    for (c, _, selected), frame in zip(jobs, best, strict=True):
        rows = source.lazy()
        start = starts.get(c.t.id)
        if start is not None:
            rows = rows.filter(pl.col("day") >= start)
        plans.append(as_hits(c, with_evidence(c, frame.lazy(), selected, rows)))
    return _collect_each(plans, engine)


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
    hits of those are read by cp_prior_hits / sharers_with_hits), when a typology reads those.
    The row filter keeps their rows plus the rows of any account that share a network key
    (key_degree: beneficiary, device, card) with them, so that hub degrees are counted over
    everyone, and a device when a typology reads who shares one (DEVICE_SHARING_FEATURES).
    A catalogue reading none of these (each account's own rows only) keeps the focus rows.
    """
    from txflags.features.identifiers import KINDS, sharing_pairs

    in_focus = _of(focus)
    ext_df = focus
    if any(uses(t, NETWORK_HIT_FEATURES) for t in typologies):
        mine = txns.filter(in_focus)
        cps = mine.select(pl.col("counterparty_id").alias("account_id")).drop_nulls().unique()
        cps = cps.join(acct.select("account_id"), on="account_id", how="semi")
        pairs = sharing_pairs(acct, txns.select("account_id", "device_id"), list(KINDS), False)
        sharers = pairs.filter(in_focus).select(pl.col("other_account_id").alias("account_id"))
        ext_df = pl.concat([focus.lazy(), cps, sharers]).unique().collect(
            engine=engine)  # type: ignore[call-overload]
    keys: list[tuple[str, list, Mapping[str, Any]]] = []
    if any(uses(t, DEVICE_SHARING_FEATURES) for t in typologies):
        keys.append(("device_id", [], {}))
    for t in typologies:
        keys += network_keys(t)
    if not keys and ext_df is focus:  # nothing read of other accounts
        return ext_df, in_focus
    raw = set(Transactions.names)
    keep = _of(ext_df)
    ext_rows = txns.filter(keep)
    key_exprs, key_conds = [], []
    for key, where, params in keys:
        if key not in raw:
            continue
        cond = raw_condition(where, raw, params)
        if any(k == key and str(c) == str(cond) for k, c in key_conds):
            continue  # the same key rows already
        col = pl.col(key) if cond is None else pl.col(key).filter(cond)
        key_exprs.append(col.drop_nulls().unique().implode().alias(f"k{len(key_exprs)}"))
        key_conds.append((key, cond))
    key_df = ext_rows.select(key_exprs).collect(engine=engine)  # type: ignore[call-overload]
    for i, (key, cond) in enumerate(key_conds):
        hit = pl.col(key).is_in(key_df[f"k{i}"])
        keep = keep | (hit if cond is None else (hit & cond))
    return ext_df, keep


@dataclass(frozen=True)
class _Prepared:
    """The conformed inputs of a run and what one pass over them tells."""

    txns: pl.LazyFrame
    accounts: pl.LazyFrame
    present: set[str]  # the columns with at least one value
    zones: list[str]
    as_of: date
    span: tuple[datetime, datetime] | None  # the first and last ts


def _prepare(
    transactions: pl.LazyFrame | pl.DataFrame,
    accounts: pl.LazyFrame | pl.DataFrame,
    catalogue: Catalogue,
    as_of: date | None,
) -> _Prepared:
    txns, accts = conform(transactions.lazy(), accounts.lazy())
    if as_of is not None:
        end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
        txns = txns.filter(pl.col("ts") < pl.lit(end).dt.replace_time_zone("UTC"))
    needed = {c for t in catalogue for c in t.requires}
    present, zones, span = _metadata(txns, accts, needed)
    last_day = span[1].date() if span is not None else None
    return _Prepared(txns, accts, present, zones, as_of or last_day or date.today(), span)


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
    typology with a costly gated measure (``rolling_windows``) runs its cheap first pass while
    it is planned: its plan starts from those candidate windows.
    """
    p = _prepare(transactions, accounts, catalogue, as_of)
    txns, accts, present, as_of = p.txns, p.accounts, p.present, p.as_of
    rows = build_rows(txns, accts, p.zones, span=p.span).cache()
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
    p = _prepare(transactions, accounts, catalogue, as_of)
    txns, accts, present, as_of = p.txns, p.accounts, p.present, p.as_of
    n_rows = txns.select(pl.len()).collect().item()
    # a shard's plans read its own accounts' rows (about shard_rows), not all of them
    requested, engine = engine, _polars_engine(
        engine, min(n_rows, shard_rows) if _shard and shard_rows else n_rows)
    ran, skipped = _runnable(catalogue, present)
    if not ran:
        return DetectResult(Hits.empty(), [], skipped, as_of)
    needed_by_others = {d for t in ran for d in t.depends_on}
    span = _reach(ran)
    stored_hits: dict[str, pl.DataFrame] = {}
    if dependency_hits is not None and report_from is not None:
        # a dependency read over all the rows: over the lookback a nightly scan reads
        everything = lookback_days(catalogue) + 1
        for t in ran:
            key = hits_key(t)
            if t.id in needed_by_others and key is not None:
                reach = span[t.id] if span[t.id] is not None else everything
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
    unrestrictable = any(uses(t, NETWORK_HIT_FEATURES) for t in ran if t.id in needed_by_others)
    if focus is not None:
        focus_df = pl.DataFrame({"account_id": pl.Series(list(focus) if not isinstance(
            focus, pl.DataFrame) else focus["account_id"], dtype=pl.String)}).unique()
        if not _shard and (focus_df.height > FOCUS_MAX_SHARE * acct.height or unrestrictable):
            # most accounts are active (restricting costs more than it saves), or a dependency
            # reads other accounts' hits (no safe restriction): run everyone, report the focus
            report_only, focus_df, focus = focus_df, None, None
    if (shard_rows and not _shard and focus_df is None and not unrestrictable
            and n_rows > shard_rows):
        # the shards cut the columns the run reads (a light catalogue few) from all the rows
        read = (source_columns(needed_columns(ran)) | set(Transactions.required)
                | {c for t in ran for c in t.requires} | {"counterparty_id", "device_id"})
        return _detect_shards(
            txns.select([c for c in Transactions.names if c in read]).collect(
                engine=engine),  # type: ignore[call-overload]
            accts, catalogue, report_only, shard_rows,
            as_of=as_of, engine=requested, report_from=report_from, partials=partials,
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
    # a focused run marks the focus (and extended focus) accounts' rows once: each typology
    # then filters on a column instead of joining its rows with the focus
    marks = [] if focus_df is None or ext_df is None else [
        _of(focus_df).alias(FOCUS),
        _of(ext_df).alias(EXT_FOCUS),
    ]
    rows_df = (
        build_rows(ctx_txns, acct.lazy(), p.zones, cols, p.span)
        .select(*[c for c in row_columns() if c in cols], *marks)
        .collect(engine=engine)  # type: ignore[arg-type]
    )
    # the typologies read the row context: its size decides (a night's focus is far smaller
    # than the history it was cut from)
    engine = _polars_engine(requested, rows_df.height)
    full: dict[str, pl.DataFrame] = {}
    computed: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    tonight: dict[str, pl.DataFrame] = {}
    if daily:
        # the daily parts of the days not stored, first: from those days' rows only (their
        # features read nothing beyond the day), for every account
        lazy_parts = []
        raw_days = sorted(set().union(*(days for _, _, days in daily.values())))
        few = len(raw_days) <= ENDS_ONLY_MAX_DAYS
        source = rows_df.lazy()
        if few:
            source = source.filter(pl.col("day").is_in(raw_days))
        if _shard:  # a shard's own accounts and those whose dependency hits they read
            source = source.filter(pl.col(EXT_FOCUS))
        if few:  # a few nights: those rows cut out once, for every typology
            source = source.collect(engine=engine).lazy()  # type: ignore[arg-type]
        for t in ran:
            if t.id in daily:
                raw = source.filter(pl.col("day").is_in(sorted(daily[t.id][2])))
                if _shard and t.id not in needed_by_others:
                    raw = raw.filter(pl.col(FOCUS))
                c = compile_parts(t, raw, acct.lazy(), as_of, None, report_from,
                             ends_only=ends_only, partial=Partial(None, daily[t.id][2]),
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
                if _shard and t.id in needed_by_others:  # computed for the extended focus:
                    # each shard saves its own accounts' parts
                    frame = frame.filter(_of(focus_df))  # type: ignore[arg-type]
                computed[key] = (frame.filter(pl.col("day") <= complete),
                                 sorted(d for d in raw_days if d <= complete))
    frames: list[pl.DataFrame] = []
    hit_days: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    evaluated: list[date] = []  # the local days whose dependency windows tonight evaluates
    if dependency_hits is not None and report_from is not None:
        last = max(as_of, rows_df["day"].max() or as_of)  # type: ignore[type-var]
        evaluated = [report_from + timedelta(days=i)
                     for i in range((last - report_from).days + 1)]  # type: ignore[operator]
    starts: dict[str, date | None] = {}  # the first day of the rows each typology reads
    for stage in _stages(ran):
        plans: list[pl.LazyFrame] = []
        twice: list[Compiled] = []
        jobs: list[tuple[Compiled, pl.LazyFrame, pl.LazyFrame | None]] = []
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
                part = Partial(stored, raw_days, tonight[key].lazy())
            c = compile_parts(
                t, rows, acct.lazy(), as_of, prior,
                report_from=None if from_rows else report_from,
                focus=None if fl is None else fl.lazy(),
                ends_only=ends_only,
                partial=part,
                engine=engine,
                focus_column=(EXT_FOCUS if is_dep else FOCUS) if marks else None,
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
            if evaluated and key is not None:
                ended = frame.filter(pl.col("window_end") >= report_from)
                if _shard:  # each shard records its own accounts' (others': their shard)
                    ended = ended.join(focus_df, on="account_id", how="semi")  # type: ignore[arg-type]
                hit_days[key] = (
                    ended.select("account_id", pl.col("window_end").alias("day")).unique(),
                    evaluated,
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


def _by_key(
    shards: list[dict[str, tuple[pl.DataFrame, list[date]]]],
) -> dict[str, tuple[pl.DataFrame, list[date]]]:
    """Per key, the shards' frames one after the other, with the days (the same in every
    shard: each covers its own accounts on those days)."""
    frames: dict[str, list[pl.DataFrame]] = {}
    days: dict[str, list[date]] = {}
    for shard in shards:
        for key, (frame, covered) in shard.items():
            frames.setdefault(key, []).append(frame)
            days[key] = covered
    return {key: (pl.concat(parts), days[key]) for key, parts in frames.items()}


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
    # lazy: an eager group-by over the 10M strings of a multi-chunk frame took 1.4-3 s, the
    # same plan collected 0.1-0.5 s
    counts = txns.lazy().group_by("account_id").len()
    ids = pl.concat([counts.select("account_id"), accounts.select("account_id")]).unique()
    if report is not None:
        ids = ids.join(report.lazy(), on="account_id", how="semi")
    own = ids.join(counts, on="account_id", how="left").sort("account_id").with_columns(
        (pl.col("len").fill_null(0).cum_sum() // shard_rows).alias("shard")
    ).collect()
    results = [
        detect(txns, accounts, catalogue, focus=part.select("account_id"), _shard=True, **kw)
        for _, part in own.group_by("shard", maintain_order=True)
    ]
    partials = _by_key([r.partials for r in results])
    hit_days = {k: (f.unique(), d)
                for k, (f, d) in _by_key([r.dependency_hits for r in results]).items()}
    hits = pl.concat([r.hits for r in results]).sort("typology_id", "account_id")
    first = results[0]
    return DetectResult(hits=hits, run=first.run, skipped=first.skipped, as_of=first.as_of,
                        partials=partials, dependency_hits=hit_days,
                        dependencies_stored=first.dependencies_stored)
