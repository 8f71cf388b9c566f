"""Windows combined from per-account daily parts (exact integer sums, maxima, distinct values)
equal each feature computed over the window's rows."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from txflags import features
from txflags.features.context import Context
from txflags.partials import DECOMPOSABLE, WINDOW_AGG, partial_exprs
from txflags.windows import (
    GROWING,
    account_gate,
    combine_parts,
    day_parts,
    running_windows,
    windows_ending_from,
    windows_of_rows,
)

START = date(2026, 1, 1)
INFLOW = [{"column": "direction", "op": "==", "value": "in"}]
#: one measure per decomposable feature (two for n_distinct: with and without ``where``)
MEASURES = {
    "n": {"feature": "count"},
    "usd": {"feature": "sum_usd"},
    "n_in": {"feature": "count_where", "args": {"where": INFLOW}},
    "usd_in": {"feature": "sum_usd_where", "args": {"where": INFLOW}},
    "share_in": {"feature": "share_where", "args": {"where": INFLOW}},
    "usd_share_in": {"feature": "usd_share_where", "args": {"where": INFLOW}},
    "payers": {"feature": "n_distinct", "args": {"where": INFLOW}},
    "parties": {"feature": "n_distinct"},
    "busiest_day": {"feature": "max_per_day"},
    "largest": {"feature": "max_value", "args": {"column": "amount_usd"}},
    "smallest": {"feature": "min_value", "args": {"column": "amount_usd"}},
    "night": {"feature": "night_share"},
    "night_weekend": {"feature": "night_or_weekend_share"},
    "round": {"feature": "round_share", "args": {"unit": 10}},
}

row = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.integers(0, 45),  # day
    st.integers(1, 200_000),  # cents
    st.sampled_from(["in", "out"]),
    st.sampled_from(["p", "q", "r", "s", None]),
    st.integers(0, 1439),  # minute of day
)


def _rows(data: list[tuple]) -> pl.DataFrame:
    acct, day, cents, direction, cp, minute = zip(*data, strict=True)
    days = [START + timedelta(days=d) for d in day]
    return pl.DataFrame({
        "account_id": acct,
        "day": days,
        "amount_usd": [c / 100 for c in cents],
        "direction": direction,
        "counterparty_id": pl.Series(cp, dtype=pl.String),
        "minute_of_day": minute,
        "is_weekend": [d.isoweekday() >= 6 for d in days],
    })


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("account_id", "window_end").with_columns(
        pl.col(c).round(6) for c, t in frame.schema.items() if t.is_float()
    )


def test_every_decomposable_feature_is_covered():
    assert {m["feature"] for m in MEASURES.values()} == DECOMPOSABLE


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=60), st.integers(1, 20), st.integers(0, 45))
def test_parts_equal_rows(data, window, report_day):
    rows = _rows(data)
    ctx = Context(rows.lazy(), pl.LazyFrame(), START + timedelta(days=60), {}, window)
    direct = (
        rows.lazy().sort("account_id", "day")
        .rolling(index_column="day", period=f"{window}d", group_by="account_id")
        .agg(features.get(s["feature"]).fn(ctx, **s.get("args", {})).alias(n)
             for n, s in MEASURES.items())
        .unique(["account_id", "day"])
        .rename({"day": "window_end"})
        .collect()
    )
    parts = [partial_exprs(ctx, n, s) for n, s in MEASURES.items()]
    kinds = {c: WINDOW_AGG[k] for p in parts for c, k in p.kinds.items()}
    measures = [p.measure.alias(n) for n, p in zip(MEASURES, parts, strict=True)]
    days = day_parts(rows.lazy(), [e for p in parts for e in p.day_exprs()])

    running = running_windows(days, kinds, window).select(
        "account_id", "window_end", *measures).collect()
    assert _rounded(running).equals(_rounded(direct.select(running.columns)))

    # straight from the rows (the full-scan path)
    from_rows = windows_of_rows(rows.lazy(), dict(zip(MEASURES, parts, strict=True)),
                                window).collect()
    assert _rounded(from_rows).equals(_rounded(running))

    report_from = START + timedelta(days=report_day)
    ending = windows_ending_from(days, report_from, window, combine_parts(kinds)).select(
        "account_id", "window_end", *measures).collect()
    expected = direct.filter(pl.col("window_end") >= report_from).select(ending.columns)
    assert _rounded(ending).equals(_rounded(expected))


#: a measure of each growing feature (``windows.GROWING``)
GATED = ["n", "usd", "n_in", "usd_in", "payers", "parties", "busiest_day", "largest"]


def test_every_growing_feature_is_gated():
    assert {MEASURES[n]["feature"] for n in GATED} == GROWING


@settings(max_examples=100, deadline=None)
@given(st.lists(row, min_size=1, max_size=60), st.integers(1, 20),
       st.lists(st.tuples(st.sampled_from(GATED), st.integers(0, 10_000)), min_size=1,
                max_size=2, unique_by=lambda c: c[0]))
def test_account_gate_drops_no_passing_window(data, window, conjuncts):
    """Windows rolled for the accounts that pass the gate on their totals only: the windows
    passing ``where`` are exactly those of rolling every account (from rows and from days).
    Each threshold is some window's value, so a window passes right at it."""
    rows = _rows(data)
    ctx = Context(rows.lazy(), pl.LazyFrame(), START + timedelta(days=60), {}, window)
    parts = {n: partial_exprs(ctx, n, MEASURES[n]) for n in GATED}
    windows = windows_of_rows(rows.lazy(), parts, window).collect()
    where = [{"measure": n, "op": ">=", "value": windows[n].sort()[pick % windows.height]}
             for n, pick in conjuncts]
    gate = account_gate(where, MEASURES, parts, ctx)
    passing = ctx.cond(where)
    everyone = windows.filter(passing)
    gated = windows_of_rows(rows.lazy(), parts, window, gate).filter(passing).collect()
    assert _rounded(gated).equals(_rounded(everyone))
    kinds = {c: WINDOW_AGG[k] for p in parts.values() for c, k in p.kinds.items()}
    days = day_parts(rows.lazy(), [e for p in parts.values() for e in p.day_exprs()])
    measures = [p.measure.alias(n) for n, p in parts.items()]
    from_days = running_windows(days, kinds, window, gate).select(
        "account_id", "window_end", *measures).filter(passing).collect()
    assert _rounded(from_days).equals(_rounded(everyone))
