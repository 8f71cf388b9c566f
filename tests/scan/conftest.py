"""Shared data for the scan tests: one small generated dataset, split into nights."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from txflags.schema import Transactions
from txflags.synthetic import SynthConfig, generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 customers × 45 days, seed 4, schemes ×3 (enough positives for a flagged account)."""
    d = tmp_path_factory.mktemp("small")
    generate(SynthConfig(customers=300, days=45, seed=4, prevalence_scale=3.0), d)
    return d


def _split(small: Path, folder: Path, cut: Callable[[pl.DataFrame], date], name: str) -> list[Path]:
    """The small dataset as two batches: UTC days before ``cut(transactions)``, then the rest."""
    tx = pl.read_parquet(small / "transactions.parquet")
    day, first = pl.col("ts").dt.date(), cut(tx)
    paths = []
    for i, frame in enumerate([tx.filter(day < first), tx.filter(day >= first)], start=1):
        p = folder / f"{name}{i}.parquet"
        frame.write_parquet(p)
        paths.append(p)
    return paths


@pytest.fixture(scope="session")
def nights(small: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The small dataset as two batches: UTC days 1-30, then the rest."""
    return _split(small, tmp_path_factory.mktemp("nights"),
                  lambda tx: tx["ts"].min().date() + timedelta(days=30), "night")


@pytest.fixture(scope="session")
def two_nights(small: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Everything but the last two UTC days, then those two (a short nightly batch)."""
    return _split(small, tmp_path_factory.mktemp("agg-nights"),
                  lambda tx: tx["ts"].max().date() - timedelta(days=1), "n")


def txn_frame(rows: list[dict]) -> pl.DataFrame:
    """Canonical transactions from a few dicts (ts as 'YYYY-MM-DD HH:MM', UTC)."""
    base = {"currency": "USD", "channel": "cash", "direction": "in"}
    full = [
        {
            **base,
            **r,
            "ts": datetime.strptime(r["ts"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC),
            "amount": str(r["amount_usd"]),
        }
        for r in rows
    ]
    return Transactions.conform(pl.DataFrame(full)).collect()
