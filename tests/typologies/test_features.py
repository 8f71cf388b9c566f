"""Named features on hand-computed cases."""

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.typologies.helpers import accounts, txns
from txflags.features import aggregates, get
from txflags.features.account_features import shared_identifier_count
from txflags.features.context import Context, build_accounts, build_rows, pair_key


def ctx_for(t, a, window=None, params=None):
    zones = [z for z in a["timezone"].drop_nulls().unique().to_list()]
    rows = build_rows(t.lazy(), a.lazy(), zones)
    acc = build_accounts(a.lazy(), date(2024, 6, 1))
    return Context(rows, acc, date(2024, 6, 1), params or {}, window)


def agg(ctx, expr):
    return ctx.rows.group_by("account_id").agg(expr.alias("v")).sort("account_id").collect()


def test_registry_has_docs():
    for name in ["count", "n_distinct", "night_share", "forwarded_share", "key_degree",
                 "shared_identifier_count", "prior_hits", "round_share"]:
        assert get(name).doc


def test_night_share_uses_local_time_across_zones():
    # 04:00 UTC is 23:00 in New York (EST, UTC-5) but 12:00 in Manila (UTC+8)
    t = txns([
        {"account_id": "NY", "ts": "2024-01-10T04:00:00"},
        {"account_id": "NY", "ts": "2024-01-10T17:00:00"},   # 12:00 local
        {"account_id": "MNL", "ts": "2024-01-10T04:00:00"},
        {"account_id": "MNL", "ts": "2024-01-10T15:30:00"},  # 23:30 local
        {"account_id": "MNL", "ts": "2024-01-10T16:30:00"},  # 00:30 local, next day
    ])
    a = accounts([{"account_id": "NY", "timezone": "America/New_York"},
                  {"account_id": "MNL", "timezone": "Asia/Manila"}])
    ctx = ctx_for(t, a)
    out = dict(agg(ctx, aggregates.night_share(ctx)).iter_rows())
    assert out == {"NY": 0.5, "MNL": pytest.approx(2 / 3)}
    days = ctx.rows.filter(pl.col("account_id") == "MNL").sort("ts").collect()["day"].to_list()
    assert days == [date(2024, 1, 10), date(2024, 1, 10), date(2024, 1, 11)]


def test_distinct_and_new_counterparties_in_window():
    t = txns([
        {"account_id": "A", "ts": "2024-01-01T10:00:00", "counterparty_id": "old"},
        {"account_id": "A", "ts": "2024-02-01T10:00:00", "counterparty_id": "old"},
        {"account_id": "A", "ts": "2024-02-02T10:00:00", "counterparty_id": "new1"},
        {"account_id": "A", "ts": "2024-02-03T10:00:00", "counterparty_id": "new2"},
        {"account_id": "A", "ts": "2024-02-03T11:00:00", "counterparty_id": "new2"},
    ])
    a = accounts([{"account_id": "A"}])
    ctx = ctx_for(t, a, window=7)
    win = (
        ctx.rows.sort("account_id", "day")
        .rolling(index_column="day", period="7d", group_by="account_id")
        .agg(aggregates.n_distinct(ctx).alias("n"),
             aggregates.new_counterparty_share(ctx).alias("new"))
        .unique(["account_id", "day"]).sort("day").collect()
    )
    last = win.row(-1, named=True)
    assert last["n"] == 3 and last["new"] == pytest.approx(2 / 3)
    assert win.row(0, named=True)["n"] == 1


def test_pass_through_share_and_lag():
    t = txns([
        {"account_id": "A", "ts": "2024-01-01T10:00:00", "direction": "in", "amount_usd": 100.0},
        {"account_id": "A", "ts": "2024-01-01T16:00:00", "direction": "out", "amount_usd": 80.0},
        {"account_id": "A", "ts": "2024-01-02T10:00:00", "direction": "in", "amount_usd": 100.0},
        {"account_id": "A", "ts": "2024-01-05T10:00:00", "direction": "out", "amount_usd": 100.0},
    ])
    ctx = ctx_for(t, accounts([{"account_id": "A"}]))
    ins = ctx.rows.filter(pl.col("direction") == "in").sort("ts").collect()
    assert ins["fwd_lag_h"].to_list() == [6.0, 72.0]
    res = ctx.rows.filter(pl.col("direction") == "in").select(
        aggregates.forwarded_share(ctx, within_hours=24).alias("share"),
        aggregates.median_forward_lag_h(ctx).alias("lag"),
    ).collect()
    assert res["share"][0] == pytest.approx(80 / 200)
    assert res["lag"][0] == pytest.approx(39.0)


def test_round_and_repeated_amount_shares():
    amounts = [40.0, 50.0, 50.0, 12.34, 600.0]
    t = txns([{"account_id": "A", "ts": f"2024-01-0{i + 1}T10:00:00", "amount_usd": x}
              for i, x in enumerate(amounts)])
    ctx = ctx_for(t, accounts([{"account_id": "A"}]))
    res = ctx.rows.select(
        aggregates.round_share(ctx, unit=10, low=40, high=500).alias("round"),
        aggregates.repeated_amount_share(ctx).alias("rep"),
    ).collect()
    assert res["round"][0] == pytest.approx(3 / 5)   # 600 is outside the band
    assert res["rep"][0] == pytest.approx(2 / 5)


def test_shared_identifiers_exclude_households():
    a = accounts([
        {"account_id": "A", "name": "Ann Roe", "address": "1 Elm St", "phone": "555-0100-11"},
        {"account_id": "B", "name": "Bob Roe", "address": "1 ELM ST", "phone": "(555) 0100 11"},
        {"account_id": "C", "name": "Cy Li", "address": "1 Elm St."},
        {"account_id": "D", "name": "Di Wu", "address": "9 Oak"},
    ])
    t = txns([{"account_id": "A", "ts": "2024-01-01T10:00:00"}])
    ctx = ctx_for(t, a)
    addr = dict(shared_identifier_count(ctx, kind="address").collect().iter_rows())
    # A and B are one household (Roe): each counts only C besides itself
    assert addr == {"A": 2, "B": 2, "C": 3, "D": 1}
    phone = dict(shared_identifier_count(ctx, kind="phone").collect().iter_rows())
    assert phone["A"] == 1 and phone["C"] == 0
    loose = dict(shared_identifier_count(ctx, kind="phone", exclude_same_surname=False)
                 .collect().iter_rows())
    assert loose["A"] == 2


_IDS = st.one_of(st.none(), st.sampled_from(["a", "b", "ab", "", "acct-1", "é"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_IDS, _IDS), min_size=1, max_size=40))
def test_pair_key_groups_as_the_two_columns(pairs):
    """One integer per (first, second) pair, nulls a value of their own: grouping by it groups
    exactly as grouping by both string columns."""
    df = pl.DataFrame({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]},
                      schema={"a": pl.String, "b": pl.String}).with_row_index("i")
    by_pair = df.with_columns(pl.col("i").min().over(pair_key("a", "b")).alias("first"))
    by_columns = df.with_columns(pl.col("i").min().over("a", "b").alias("first"))
    assert by_pair["first"].to_list() == by_columns["first"].to_list()


_DEGREE_ROW = st.tuples(st.sampled_from(["d1", "d2", "d3", None]), st.integers(0, 30),
                        st.sampled_from(["c1", "c2", "c3", None]))


@settings(max_examples=80, deadline=None)
@given(st.lists(_DEGREE_ROW, min_size=1, max_size=40), st.one_of(st.none(), st.integers(1, 10)))
def test_window_degree_equals_rolling_every_key(data, days):
    """A key's degree (most distinct customers in any window) is the same when only the keys
    seen with two or more customers are rolled."""
    from txflags.features.derived import _window_degree

    rows = pl.DataFrame(
        {"device_id": [r[0] for r in data],
         "day": [date(2026, 1, 1) + timedelta(days=r[1]) for r in data],
         "customer_id": [r[2] for r in data]},
        schema={"device_id": pl.String, "day": pl.Date, "customer_id": pl.String},
    ).filter(pl.col("device_id").is_not_null())
    got = _window_degree(rows.lazy(), "device_id", "customer_id", days).collect()
    if days is None:
        want = rows.group_by("device_id").agg(pl.col("customer_id").drop_nulls().n_unique())
    else:
        want = (rows.sort("device_id", "day")
                .rolling(index_column="day", period=f"{days}d", group_by="device_id")
                .agg(pl.col("customer_id").drop_nulls().n_unique())
                .group_by("device_id").agg(pl.col("customer_id").max()))
    want = want.rename({"customer_id": "_deg"}).sort("device_id")
    assert got.sort("device_id").equals(want)
