"""Render generated data as a messy core-banking export, with the mappings that ingest it.

The export is what a bank's nightly job might hand over: its own column names, local
``DD/MM/YYYY`` dates, a ``DR``/``CR`` flag, quoted thousands separators, bank transaction codes,
and a few junk rows (a report footer, a duplicated posting, an impossible date, a blank amount)
that ingestion must quarantine, not lose. ``txflags ingest`` with the bundled mapping
``synthetic-bank-export`` gives back the canonical transactions exactly.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import polars as pl

from txflags.atomic import write_atomic
from txflags.mapping import load_mapping
from txflags.render import render_export

TRANSACTIONS_MAPPING = "synthetic-bank-export"
ACCOUNTS_MAPPING = "synthetic-bank-accounts"
JUNK_KINDS = ("footer", "duplicate", "impossible_date", "blank_amount")


@dataclass(frozen=True)
class BankExport:
    """Where the export went and how many junk rows it holds (all must be quarantined)."""

    transactions: Path
    accounts: Path
    transactions_mapping: Path
    accounts_mapping: Path
    junk_rows: int


def _bundled(name: str) -> Path:
    return Path(str(files("txflags").joinpath(f"data/mappings/{name}.yaml")))


def _junk(rendered: pl.DataFrame, seed: int) -> pl.DataFrame:
    """A few broken rows, copied from real ones and damaged, in a deterministic way."""
    if rendered.height == 0:
        return rendered.clear()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, rendered.height, len(JUNK_KINDS) - 1)
    duplicate = rendered[int(picks[0])]
    bad_date = rendered[int(picks[1])].with_columns(
        pl.lit("31/02/2026").alias("Booking Date"),
        (pl.col("Transaction Ref") + "-X1").alias("Transaction Ref"),
    )
    blank = rendered[int(picks[2])].with_columns(
        pl.lit(None, pl.String).alias("Amount"),
        (pl.col("Transaction Ref") + "-X2").alias("Transaction Ref"),
    )
    footer = pl.DataFrame(
        {c: ["*** END OF REPORT ***" if i == 0 else None] for i, c in enumerate(rendered.columns)},
        schema=rendered.schema,
    )
    return pl.concat([duplicate, bad_date, blank, footer])


def write_bank_export(
    transactions: pl.DataFrame, accounts: pl.DataFrame, out_dir: str | Path, seed: int = 0
) -> BankExport:
    """Write ``out_dir/transactions.csv``, ``accounts.csv`` and the two mapping files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tx_map, acc_map = (
        load_mapping(_bundled(TRANSACTIONS_MAPPING)),
        load_mapping(_bundled(ACCOUNTS_MAPPING)),
    )
    rendered = render_export(transactions, tx_map)
    junk = _junk(rendered, seed)
    tx_path = write_atomic(
        out / "transactions.csv", lambda p: pl.concat([rendered, junk]).write_csv(p)
    )
    acc_rendered = render_export(accounts, acc_map)
    acc_path = write_atomic(out / "accounts.csv", lambda p: acc_rendered.write_csv(p))
    tx_map_path, acc_map_path = out / "mapping.yaml", out / "accounts_mapping.yaml"
    shutil.copyfile(_bundled(TRANSACTIONS_MAPPING), tx_map_path)
    shutil.copyfile(_bundled(ACCOUNTS_MAPPING), acc_map_path)
    return BankExport(tx_path, acc_path, tx_map_path, acc_map_path, junk.height)


def export_dataset(dataset: str | Path, seed: int = 0) -> BankExport:
    """Render a written ``txflags synth`` dataset into ``dataset/bank_export/``."""
    root = Path(dataset)
    single = root / "transactions.parquet"
    tx_files = [single] if single.exists() else sorted((root / "days").glob("transactions-*"))
    if not tx_files:
        raise FileNotFoundError(f"no transactions found under {root}")
    read = pl.read_parquet if tx_files[0].suffix == ".parquet" else pl.read_csv
    transactions = pl.concat([read(f) for f in tx_files])
    accounts_file = next(
        p for p in (root / "accounts.parquet", root / "accounts.csv") if p.exists()
    )
    accounts = (pl.read_parquet if accounts_file.suffix == ".parquet" else pl.read_csv)(
        accounts_file
    )
    return write_bank_export(transactions, accounts, root / "bank_export", seed)
