"""Per-account EW baselines: river's update rule, cold start, reasons in words."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from river import stats

from txflags.models import EWBaseline


def _days(values_by_account):
    rows = []
    for acc, values in values_by_account.items():
        for i, v in enumerate(values):
            rows.append({"account_id": acc, "day": date(2026, 1, 1) + timedelta(days=i),
                         "usd_in_cash": v, "n_in": float(i % 3)})
    return pl.DataFrame(rows)


def test_same_update_as_river_ewmean_ewvar():
    rng = np.random.default_rng(0)
    series = rng.lognormal(4, 1, 60).tolist()
    other = rng.lognormal(2, 1, 60).tolist()
    m = EWBaseline(half_life_days=5, features=("usd_in_cash", "n_in")).learn_many(
        _days({"A": series, "B": other})
    )
    mean, var = stats.EWMean(m.fading_factor), stats.EWVar(m.fading_factor)
    for v in series:
        mean.update(v)
        var.update(v)
    i = m.accounts_.to_list().index("A")
    assert m.mean_[i, 0] == pytest.approx(mean.get(), rel=1e-12)
    assert m.var_[i, 0] == pytest.approx(var.get(), rel=1e-9)
    assert m.n_[i] == 60 and m.n_accounts == 2


def test_fading_factor_from_half_life():
    assert (1 - EWBaseline(half_life_days=10).fading_factor) ** 10 == pytest.approx(0.5)


def test_cold_start_scores_zero_with_reason():
    m = EWBaseline(min_days=5, features=("usd_in_cash",)).learn_many(_days({"A": [10.0] * 3}))
    x = {"account_id": "A", "usd_in_cash": 90_000.0}
    assert m.score_one(x) == 0.0
    assert m.explain_one(x)[0].sentence == "building baseline (3 of 5 active days seen)"
    assert m.score_one({"account_id": "NEW", "usd_in_cash": 1.0}) == 0.0


def test_spike_scores_high_with_ratio_sentence():
    m = EWBaseline(min_days=5, features=("usd_in_cash", "n_in")).learn_many(
        _days({"A": [120.0] * 20})
    )
    normal = m.score_one({"account_id": "A", "usd_in_cash": 130.0, "n_in": 1.0})
    spike = {"account_id": "A", "usd_in_cash": 732.0, "n_in": 1.0}
    assert m.score_one(spike) > 0.5 > normal
    (top,) = m.explain_one(spike)
    assert top.feature == "usd_in_cash"
    assert top.sentence == "cash deposits today $732, 6.1× this account's usual (EW mean $120)"


def test_decreases_are_not_unusual():
    m = EWBaseline(min_days=5, features=("usd_in_cash",)).learn_many(_days({"A": [500.0] * 10}))
    assert m.score_one({"account_id": "A", "usd_in_cash": 0.0}) == 0.0


def test_vectorised_over_many_accounts_is_fast():
    import time

    n = 200_000
    frame = pl.DataFrame({"account_id": [f"A{i}" for i in range(n)], "day": [date(2026, 1, 1)] * n,
                          **{f: np.ones(n) for f in EWBaseline().features}})
    m = EWBaseline()
    t0 = time.perf_counter()
    m.learn_many(frame)
    m.learn_many(frame.with_columns(pl.lit(date(2026, 1, 2)).alias("day")))
    m.score_many(frame)
    assert time.perf_counter() - t0 < 10
    assert m.n_accounts == n and (m.n_ == 2).all()
