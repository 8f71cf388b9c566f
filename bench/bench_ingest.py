"""Ingestion throughput against a plain Polars read of the same file, measured in the same run.

    python bench/bench_ingest.py --rows 10000000

Writes a bank-style export (its own column names, D/C flag, three currencies, local naive
timestamps, MCC as numbers) as Parquet and as CSV, then times
  - baseline: ``pl.scan_parquet(f).collect()`` / ``pl.read_csv(f)``
  - txflags:  ``ingest([f], mapping)`` (read, parse, validate, quarantine, USD, dedupe)
and prints rows/s and the ratio txflags / baseline (targets: <= 2x Parquet, <= 3x CSV).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from txflags.ingest import ingest
from txflags.mapping import parse_mapping

CODES = np.array(["POS", "ATM", "CASH_DEP", "P2P_IN", "P2P_OUT", "WIRE_OUT", "ACH_CR", "MT_OUT"])
CHANNEL_MAP = {
    "POS": "card",
    "ATM": "atm",
    "CASH_DEP": "cash",
    "P2P_IN": "p2p",
    "P2P_OUT": "p2p",
    "WIRE_OUT": "wire",
    "ACH_CR": "ach",
    "MT_OUT": "money_transfer",
}


def make_export(rows: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    offsets = np.sort(rng.integers(0, 90 * 86_400, rows)).astype("timedelta64[s]")
    accounts = rng.integers(0, max(rows // 10, 1), rows)
    amounts = np.round(rng.lognormal(3.5, 1.2, rows), 2)
    mcc = rng.choice([5411, 5812, 7011, 6011, 4829, 5814], rows).astype(np.int16)
    codes = rng.integers(0, len(CODES), rows)
    return pl.DataFrame(
        {
            "Ref": pl.int_range(0, rows, eager=True).cast(pl.String).str.pad_start(10, "0"),
            "Booked": start + offsets,
            "Account": pl.Series(accounts).cast(pl.String),
            "Customer": pl.Series(accounts // 2).cast(pl.String),
            "DC": np.where(rng.random(rows) < 0.4, "C", "D"),
            "Amount": amounts,
            "Currency": rng.choice(["USD", "EUR", "CAD"], rows, p=[0.9, 0.05, 0.05]),
            "Code": CODES[codes],
            "MCC": pl.Series(mcc).set(pl.Series(codes != 0), None),
            "Merchant": rng.choice(["FRESH MART", "MOTEL 6", "ATM 42", "ZELLE", "WU AGENT"], rows),
            "City": rng.choice(["Houston", "Dallas", "Austin", "Chicago"], rows),
        }
    )


MAPPING = {
    "columns": {
        "txn_id": "Ref",
        "ts": {"column": "Booked", "format": "%Y-%m-%dT%H:%M:%S%.f", "timezone": "America/Chicago"},
        "account_id": "Account",
        "customer_id": "Customer",
        "direction": {"column": "DC", "map": {"D": "out", "C": "in"}},
        "amount": "Amount",
        "currency": "Currency",
        "channel": {"column": "Code", "map": CHANNEL_MAP},
        "mcc": "MCC",
        "merchant": "Merchant",
        "city": "City",
    }
}


def timed(fn) -> tuple[float, object]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def best_of(n: int, fn) -> float:
    return min(timed(fn)[0] for _ in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    args = parser.parse_args()
    mapping = parse_mapping(MAPPING, name="bench")
    with tempfile.TemporaryDirectory() as tmp:
        export = make_export(args.rows)
        pq, csv = Path(tmp) / "export.parquet", Path(tmp) / "export.csv"
        export.write_parquet(pq)
        export.write_csv(csv)
        del export
        print(f"ingest benchmark: {args.rows:,} rows, best of {args.repeat}")
        for label, path, baseline, target in (
            ("parquet", pq, lambda: pl.scan_parquet(pq).collect(), 2.0),
            ("csv", csv, lambda: pl.read_csv(csv), 3.0),
        ):
            base = best_of(args.repeat, baseline)
            ours = best_of(args.repeat, lambda p=path: ingest([p], mapping))
            kept = ingest([path], mapping).summary["rows_kept"]
            ratio = ours / base
            verdict = "meets" if ratio <= target else "MISSES"
            print(
                f"  {label:8s} baseline {args.rows / base:>12,.0f} rows/s ({base:6.2f} s) | "
                f"txflags {args.rows / ours:>12,.0f} rows/s ({ours:6.2f} s) | "
                f"ratio {ratio:4.2f}x ({verdict} target <= {target:.0f}x) | kept {kept:,}"
            )


if __name__ == "__main__":
    main()
