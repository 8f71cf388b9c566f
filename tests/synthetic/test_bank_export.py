"""The generator's bank-export rendering goes back through ingestion unchanged."""

from __future__ import annotations

import json

import polars as pl

from txflags.ingest import ingest
from txflags.synthetic import SynthConfig, generate
from txflags.synthetic.bank_export import export_dataset

PROVENANCE = ["source_file", "source_row"]


def test_bank_export_round_trips_through_ingest(tmp_path):
    generate(SynthConfig(customers=400, days=30, seed=11), tmp_path)
    export = export_dataset(tmp_path, seed=11)
    assert export.junk_rows == 4
    text = export.transactions.read_text()
    assert "*** END OF REPORT ***" in text and ",DR," in text and "/2026," in text
    tx = ingest([export.transactions], export.transactions_mapping)
    assert tx.summary["rows_quarantined"] == export.junk_rows
    assert tx.summary["quarantine_reasons"] == {
        "bad_timestamp": 1,
        "duplicate_id": 1,
        "missing_account": 1,
        "missing_required": 1,
    }
    original = pl.read_parquet(tmp_path / "transactions.parquet").drop(PROVENANCE)
    assert tx.kept.drop(PROVENANCE).equals(original)
    acc = ingest([export.accounts], export.accounts_mapping)
    assert acc.summary["rows_quarantined"] == 0
    assert acc.kept.drop(PROVENANCE).equals(
        pl.read_parquet(tmp_path / "accounts.parquet").drop(PROVENANCE)
    )


def test_cli_bank_export(tmp_path, cli):
    proc = cli("synth", "--out", str(tmp_path), "-n", "200", "-d", "20", "--bank-export", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)["bank_export"]
    assert info["junk_rows"] == 4
    ingested = cli(
        "ingest", info["transactions"], "-m", "synthetic-bank-export", "-o", str(tmp_path / "i")
    )
    assert ingested.returncode == 0, ingested.stderr


def test_canonical_parquet_through_the_canonical_mapping(tmp_path):
    generate(SynthConfig(customers=200, days=20, seed=5), tmp_path)
    tx = ingest([tmp_path / "transactions.parquet"], "canonical")
    assert tx.summary["rows_quarantined"] == 0
    original = pl.read_parquet(tmp_path / "transactions.parquet").drop(PROVENANCE)
    assert tx.kept.drop(PROVENANCE).equals(original)
    acc = ingest([tmp_path / "accounts.parquet"], "canonical-accounts")
    assert acc.kept.drop(PROVENANCE).equals(
        pl.read_parquet(tmp_path / "accounts.parquet").drop(PROVENANCE)
    )
