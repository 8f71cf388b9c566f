"""Small generated data shared by the model tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from txflags.models.checks import CheckData
from txflags.models.daily import daily_features
from txflags.synthetic import SynthConfig, generate


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models-synth")
    generate(SynthConfig(customers=600, days=30, seed=5), out)
    return out


@pytest.fixture(scope="session")
def daily(synth_dir: Path) -> pl.DataFrame:
    return daily_features(
        pl.scan_parquet(synth_dir / "transactions.parquet"),
        pl.scan_parquet(synth_dir / "accounts.parquet"),
    ).collect()


@pytest.fixture(scope="session")
def check_data(daily: pl.DataFrame) -> CheckData:
    """Learn the first 20 days; score day 28, where a seeded 10% of the active accounts start
    behaving differently (cash deposits x20 plus $3,000, ten new counterparties): label 1."""
    days = daily["day"].unique().sort()
    learn = daily.filter(pl.col("day") < days[20])
    today = daily.filter(pl.col("day") == days[28])
    rng = np.random.default_rng(3)
    labels = (rng.random(today.height) < 0.1).astype(int)
    hit = pl.Series(labels == 1)
    score = today.with_columns(
        pl.when(hit).then(pl.col("usd_in_cash") * 20 + 3000).otherwise(pl.col("usd_in_cash"))
        .alias("usd_in_cash"),
        pl.when(hit).then(pl.col("n_new_counterparties") + 10)
        .otherwise(pl.col("n_new_counterparties")).alias("n_new_counterparties"),
    )
    return CheckData(learn=learn, score=score, labels=labels)
