"""Costly window measures (a mode, a median) computed only for candidate windows equal the
measures rolled over every window, whichever way the second pass goes; the upper bounds that
gate them never fall below the measure."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from txflags import windows
from txflags.catalogue import load_catalogue
from txflags.engine import detect
from txflags.features.aggregates import forwarded_share
from txflags.features.context import Context
from txflags.partials import upper_bound

CAT = load_catalogue()
#: typologies with a costly measure behind a cheap gate (pass-through, wages sent on, ...)
GATED = [t.id for t in CAT if any(s["feature"] in windows.COSTLY_AGGS
                                  for s in t.detection["measures"].values())]


@pytest.fixture(scope="module")
def data(small):
    return (pl.read_parquet(small / "transactions.parquet"),
            pl.read_parquet(small / "accounts.parquet"))


@pytest.fixture(scope="module")
def rolled_once(data):
    """Every measure rolled over every window (no second pass)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(windows, "COSTLY_AGGS", set())
        return detect(*data, CAT.subset(GATED)).hits


@pytest.mark.parametrize("budget", [windows.PAIR_BUDGET, 0], ids=["pairs", "roll-again"])
def test_second_pass_equals_one_rolling_pass(data, rolled_once, monkeypatch, budget):
    monkeypatch.setattr(windows, "PAIR_BUDGET", budget)
    assert len(GATED) >= 5 and rolled_once.height > 0
    assert detect(*data, CAT.subset(GATED)).hits.equals(rolled_once)


_AMOUNTS = st.floats(0.01, 5000, allow_nan=False)
_ROW = st.tuples(_AMOUNTS, st.one_of(st.none(), st.floats(0, 100)),
                 st.one_of(st.none(), _AMOUNTS), st.one_of(st.none(), st.sampled_from("xyz")))


@settings(max_examples=80, deadline=None)
@given(st.lists(_ROW, min_size=1, max_size=30))
def test_forwarded_share_bound_is_never_below_the_share(rows):
    """The gate's upper bound of forwarded_share (the share forwarded to anyone, from daily
    parts) is at least the share to the top recipient, and the share itself without to_one."""
    frame = pl.DataFrame(rows, schema={"amount_usd": pl.Float64, "lag": pl.Float64,
                                       "usd": pl.Float64, "cp": pl.String}, orient="row")
    ctx = Context(frame.lazy(), pl.LazyFrame(), date(2026, 1, 1))
    spec = {"feature": "forwarded_share",
            "args": {"within_hours": 24, "lag": "lag", "usd": "usd", "to_one": "cp"}}
    bound = upper_bound(ctx, "s", spec)
    parts = frame.select(*[bound.rows[c].sum().alias(c) for c in bound.kinds])
    value = parts.select(bound.measure).item()
    to_one = frame.select(forwarded_share(ctx, 24, "lag", "usd", "cp")).item()
    anyone = frame.select(forwarded_share(ctx, 24, "lag", "usd")).item()
    assert value >= to_one
    assert value == pytest.approx(anyone * (1 + 1e-9) + 1e-12, rel=1e-12, abs=1e-12)
