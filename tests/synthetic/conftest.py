"""Shared datasets for the synthetic-data tests (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from txflags.synthetic import SynthConfig, generate


def load(d: Path) -> dict[str, pl.DataFrame]:
    return {
        n: pl.read_parquet(d / f"{n}.parquet")
        for n in ("transactions", "accounts", "truth_accounts", "truth_transactions")
    }


@pytest.fixture(scope="session")
def default_set(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """Default settings (2,000 customers × 90 days), seed 7."""
    d = tmp_path_factory.mktemp("default")
    generate(SynthConfig(seed=7), d)
    return load(d)


@pytest.fixture(scope="session")
def large_set(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """12,000 customers × 60 days at default prevalences: enough for prevalence checks."""
    d = tmp_path_factory.mktemp("large")
    generate(SynthConfig(customers=12_000, days=60, seed=3), d)
    return load(d)
