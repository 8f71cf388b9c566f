"""One night of anomaly models against the daily-feature step and a plain Polars floor.

    python bench/bench_models.py --customers 800000

Generates ``--days`` nights for ``--customers`` (about 1.25 transactions per customer per day),
learns every night but the last, then times on the last night (same process, same data):
  - floor:  ``group_by(account_id, UTC date).agg(len, sum)`` of the night's transactions
  - daily:  ``daily_features`` of the night (all features, local days)
  - models: ``ModelSuite.update_and_score`` on those vectors (baseline + HST + iforest: score,
            explain rows >= 0.5, learn), then ``save`` of the state
and prints seconds, peak extra RSS and the ratios models/daily and (daily+models)/floor.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import psutil

from txflags.models import ModelSuite, daily_features
from txflags.synthetic import SynthConfig, generate


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak RSS above the start in MB), sampling RSS every 5 ms."""
    proc = psutil.Process()
    start = proc.memory_info().rss
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t0
    done.set()
    th.join()
    return out, secs, (max(peak[0], proc.memory_info().rss) - start) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=800_000)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        generate(SynthConfig(customers=args.customers, days=args.days, seed=args.seed), d / "data")
        print(f"generated in {time.perf_counter() - t0:.1f}s")
        txns = pl.read_parquet(d / "data" / "transactions.parquet")
        accts = pl.read_parquet(d / "data" / "accounts.parquet")
        days = daily_features(txns, accts).collect()
        day_list = days["day"].unique().sort()
        last = day_list[-2]  # the last full local day
        suite = ModelSuite()
        for night in days.filter(pl.col("day") < last).partition_by("day", maintain_order=True):
            suite.update_and_score(night)
        lo = pl.datetime(last.year, last.month, last.day, time_zone="UTC")
        night_txns = txns.filter(
            pl.col("ts").is_between(lo - pl.duration(hours=14), lo + pl.duration(hours=38))
        )
        _, t_floor, m_floor = measure(
            lambda: night_txns.lazy()
            .group_by("account_id", pl.col("ts").dt.date())
            .agg(pl.len(), pl.col("amount_usd").sum())
            .collect()
        )
        daily, t_daily, m_daily = measure(
            lambda: daily_features(night_txns, accts, start=last, end=last).collect()
        )
        scores, t_models, m_models = measure(lambda: suite.update_and_score(daily))
        _, t_save, _ = measure(lambda: suite.save(d / "models"))
        size = sum(p.stat().st_size for p in (d / "models").iterdir()) / 2**20
    print(f"night {last}: {night_txns.height:,} transactions, {daily.height:,} active accounts, "
          f"{suite.info()['accounts_tracked']:,} accounts tracked")
    print(f"floor  group-by       {t_floor:7.2f}s  +{m_floor:7.0f} MB")
    print(f"daily  features       {t_daily:7.2f}s  +{m_daily:7.0f} MB")
    print(f"models score+learn    {t_models:7.2f}s  +{m_models:7.0f} MB  "
          f"({scores.height:,} score rows)")
    print(f"models save state     {t_save:7.2f}s  ({size:.0f} MB on disk)")
    print(f"ratio models / daily            {t_models / t_daily:6.1f}x")
    print(f"ratio (daily+models+save)/floor {(t_daily + t_models + t_save) / t_floor:6.1f}x")
    per_model: dict[str, float] = {}
    for m in suite.models:
        _, t, _ = measure(lambda m=m: m.score_many(daily))
        per_model[m.name] = t
    print("score only, per model: " + ", ".join(f"{k} {v:.2f}s" for k, v in per_model.items()))


if __name__ == "__main__":
    main()
