"""Costly window measures (a mode, a median) computed only for candidate windows equal the
measures rolled over every window, whichever way the second pass goes."""

from __future__ import annotations

import polars as pl
import pytest

from txflags import windows
from txflags.catalogue import load_catalogue
from txflags.engine import detect

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
