"""End to end: a messy bank-style CSV through `txflags ingest`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl

from txflags.ingest import ingest

DATA = Path(__file__).parent / "data"


def test_messy_bank_csv_via_cli(tmp_path, cli):
    out = tmp_path / "out"
    proc = cli(
        "ingest",
        str(DATA / "messy_bank.csv"),
        "-m",
        str(DATA / "messy_bank.yaml"),
        "-o",
        str(out),
        "--as-of",
        "2026-02-10",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows_in"] == 17
    assert summary["rows_in"] == summary["rows_kept"] + summary["rows_quarantined"]
    assert summary["rows_kept"] == 8
    assert summary["quarantine_reasons"] == {
        "bad_amount": 1,
        "bad_code": 1,
        "bad_row": 1,
        "bad_timestamp": 1,
        "duplicate_id": 1,
        "impossible_value": 1,
        "missing_account": 2,
        "unknown_currency": 1,
    }
    assert summary["notes"] == {"unparsed_mcc": 1}
    kept = pl.read_parquet(out / "transactions.parquet")
    quarantine = pl.read_parquet(out / "quarantine.parquet")
    # every input row is in exactly one output
    rows = sorted(kept["source_row"].to_list() + quarantine["source_row"].to_list())
    assert rows == list(range(1, 18))
    by_id = {r["txn_id"]: r for r in kept.to_dicts()}
    first = by_id["ACME-0001"]
    assert first["amount"] == Decimal("1250.00")
    assert first["direction"] == "out" and first["channel"] == "card" and first["mcc"] == 5411
    # 31/01/2026 23:10 in Chicago (UTC-6) is 05:10 UTC the next day
    assert first["ts"].isoformat() == "2026-02-01T05:10:00+00:00"
    assert by_id["ACME-0003"]["currency"] == "EUR"
    assert by_id["ACME-0003"]["amount_usd"] == 45.90 * 1.08
    assert by_id["ACME-0003"]["merchant"] == "MOTEL SIX"  # trimmed
    assert by_id["ACME-0004"]["amount"] == Decimal("12000.50")
    assert by_id["ACME-0014"]["mcc"] is None
    assert by_id["ACME-0002"]["country"] == "US"
    reasons = dict(zip(quarantine["source_row"], quarantine["reason"].cast(pl.String), strict=True))
    assert reasons[7] == "bad_timestamp"  # 31/02
    assert reasons[13] == "duplicate_id"
    assert reasons[16] == "missing_account"  # the report footer
    assert reasons[17] == "bad_row"  # an extra field
    raw = json.loads(quarantine.filter(pl.col("source_row") == 8)["raw"][0])
    assert raw["Amount"] == "ten dollars"
    message = quarantine.filter(pl.col("source_row") == 13)["message"][0]
    assert "ACME-0012" in message and "row 12" in message


def test_human_output_and_rerun_is_identical(tmp_path, cli):
    args = [
        str(DATA / "messy_bank.csv"),
        "-m",
        str(DATA / "messy_bank.yaml"),
        "--as-of",
        "2026-02-10",
    ]
    first = cli("ingest", *args, "-o", str(tmp_path / "a"))
    second = cli("ingest", *args, "-o", str(tmp_path / "b"))
    assert first.returncode == second.returncode == 0
    assert "quarantined by reason" in first.stderr
    for name in ("transactions.parquet", "quarantine.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_library_api_matches_cli(tmp_path):
    result = ingest([DATA / "messy_bank.csv"], DATA / "messy_bank.yaml")
    assert result.reconciled
    assert result.kept.height == 8
