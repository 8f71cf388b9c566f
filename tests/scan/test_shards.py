"""A run split into account shards (``detect(shard_rows=...)``) equals one run over everyone.

Large scans featurise one shard of accounts at a time (each as a focus: its accounts plus what
their results read of other accounts), to bound memory. Nothing about the hits, or about the
daily parts saved for the store, may depend on that.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from txflags.catalogue import load_catalogue
from txflags.engine import detect

CAT = load_catalogue()


@pytest.fixture(scope="module")
def data(small):
    return (pl.read_parquet(small / "transactions.parquet"),
            pl.read_parquet(small / "accounts.parquet"))


def _parts(result) -> dict:
    return {k: (f.sort("account_id", "day"), list(d)) for k, (f, d) in result.partials.items()}


def test_full_run_in_shards_equals_one_run(data):
    tx, acc = data
    whole = detect(tx, acc, CAT, shard_rows=None)
    sharded = detect(tx, acc, CAT, shard_rows=tx.height // 4)
    assert whole.hits.height > 0
    assert sharded.hits.equals(whole.hits)
    assert sharded.run == whole.run and sharded.skipped == whole.skipped


def _no_earlier_hits(key: str, since) -> pl.DataFrame:
    return pl.DataFrame(schema={"account_id": pl.String})


@pytest.mark.parametrize(("days_back", "stored_hits"), [(0, False), (20, False), (20, True)])
def test_nightly_run_in_shards_saves_the_same_daily_parts(data, days_back, stored_hits):
    """With stored dependency hits, the dependencies' windows come from daily parts too, and
    a shard must compute them for the accounts outside it whose hits its accounts read."""
    tx, acc = data
    report_from = tx["ts"].max().date() - timedelta(days=days_back)  # type: ignore[union-attr]
    active = tx.filter(pl.col("ts").dt.date() >= report_from)["account_id"].unique()
    kw = {"report_from": report_from, "focus": active, "partials": {},
          "dependency_hits": _no_earlier_hits if stored_hits else None}
    whole = detect(tx, acc, CAT, shard_rows=None, **kw)
    sharded = detect(tx, acc, CAT, shard_rows=tx.height // 3, **kw)
    assert sharded.hits.equals(whole.hits)
    for key, (frame, days) in whole.dependency_hits.items():
        got, got_days = sharded.dependency_hits[key]
        assert got_days == days and got.sort(got.columns).equals(frame.sort(frame.columns))
    assert whole.partials and _parts(sharded).keys() == _parts(whole).keys()
    for key, (frame, days) in _parts(whole).items():
        got, got_days = _parts(sharded)[key]
        assert got_days == days
        # sums of the same amounts, added in another order: equal to the last cents' bits
        assert_frame_equal(got, frame.select(got.columns), check_exact=False, rel_tol=1e-12)
