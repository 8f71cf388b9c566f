"""Daily entity features on a hand-made frame: one row per (account, local day)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from txflags.models.daily import FEATURE_NAMES, FEATURES, daily_features, scale
from txflags.schema import Accounts, Transactions


def _txns(rows):
    keys = ("txn_id", "ts", "account_id", "direction", "amount_usd", "channel", "mcc",
            "counterparty_id", "counterparty_country", "city")
    df = pl.DataFrame([dict(zip(keys, r, strict=True)) for r in rows])
    return Transactions.conform(
        df.with_columns(pl.col("amount_usd").alias("amount"), pl.lit("USD").alias("currency"))
    )


ACCTS = Accounts.conform(pl.DataFrame({
    "account_id": ["A", "B"], "customer_id": ["C1", "C2"],
    "customer_type": ["individual", "individual"],
    "timezone": ["America/New_York", None],
}))


def ts(d, h, m=0):
    return datetime(2026, 1, d, h, m, tzinfo=UTC)


@pytest.fixture(scope="module")
def frame():
    rows = [
        # A, New York: 03:30 UTC on the 2nd is 22:30 local on the 1st (night, day 1)
        ("t1", ts(2, 3, 30), "A", "in", 500.0, "cash", None, None, None, "NYC"),
        ("t2", ts(2, 15), "A", "out", 100.0, "card", 7011, "M1", "US", "NYC"),
        ("t3", ts(2, 16), "A", "out", 300.0, "money_transfer", None, "R1", "PH", "Newark"),
        ("t4", ts(3, 16), "A", "out", 50.0, "money_transfer", None, "R1", "PH", "NYC"),
        ("t5", ts(3, 17), "A", "in", 80.0, "p2p", None, "P9", "US", None),
        # B, no zone: UTC
        ("t6", ts(2, 12), "B", "in", 1000.0, "wire", None, "W1", "US", None),
    ]
    return daily_features(_txns(rows), ACCTS).collect()


def test_one_row_per_account_local_day(frame):
    assert frame.columns == ["account_id", "day", *FEATURE_NAMES]
    keys = frame.select("account_id", "day").rows()
    assert keys == [("A", date(2026, 1, 1)), ("A", date(2026, 1, 2)), ("A", date(2026, 1, 3)),
                    ("B", date(2026, 1, 2))]


def test_values(frame):
    a1 = frame.row(0, named=True)
    assert a1["usd_in_cash"] == 500.0 and a1["n_in_cash"] == 1 and a1["night_share"] == 1.0
    assert a1["cash_share"] == 1.0
    a2 = frame.row(1, named=True)
    assert a2["usd_out"] == 400.0 and a2["usd_corridor_out"] == 300.0
    assert a2["share_lodging"] == pytest.approx(0.25) and a2["n_cities"] == 2
    assert a2["n_counterparties"] == 2 and a2["n_new_counterparties"] == 2
    a3 = frame.row(2, named=True)
    assert a3["n_counterparties"] == 2 and a3["n_new_counterparties"] == 1  # R1 seen before
    assert frame.row(3, named=True)["usd_in_wire"] == 1000.0


def test_start_end_keep_history_as_context():
    rows = [("t1", ts(2, 15), "B", "out", 10.0, "p2p", None, "X", None, None),
            ("t2", ts(5, 15), "B", "out", 10.0, "p2p", None, "X", None, None)]
    out = daily_features(_txns(rows), ACCTS, start=date(2026, 1, 5)).collect()
    assert out.height == 1 and out["n_new_counterparties"][0] == 0


def test_feature_catalogue_is_documented_and_scaled():
    import numpy as np

    assert all(f.kind in ("amount", "count", "share") and f.label and f.doc
               for f in FEATURES.values())
    x = np.array([[0.0] * len(FEATURE_NAMES), [1e12] * len(FEATURE_NAMES)])
    s = scale(FEATURE_NAMES, x)
    assert s.min() == 0.0 and s.max() == 1.0
