"""Per-transfer layouts of public AML datasets, through bundled mappings alone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from txflags.ingest import ingest, resolve_mapping, write_ingest
from txflags.mapping import parse_mapping

DATA = Path(__file__).parent / "data"

AMLWORLD = (DATA / "amlworld_sample.csv").read_text()
PAYSIM = (DATA / "paysim_sample.csv").read_text()
AMLSIM = (DATA / "amlsim_sample.csv").read_text()
SAMLD = (DATA / "saml-d_sample.csv").read_text()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_amlworld_expands_each_transfer_into_two_sides(tmp_path):
    result = ingest([write(tmp_path, "HI-Small_Trans.csv", AMLWORLD)], "amlworld")
    s = result.summary
    assert s["layout"] == "per_transfer" and s["sides"] == ["in", "out"]
    assert s["rows_in"] == 8 and s["rows_kept"] + s["rows_quarantined"] == 8
    kept = result.kept
    wire_out = kept.filter(pl.col("txn_id") == "HI-Small_Trans.csv:3:out").row(0, named=True)
    assert (
        wire_out["account_id"] == "01 8000F5AD0" and wire_out["counterparty_id"] == "03 8000F5BB0"
    )
    assert wire_out["direction"] == "out" and wire_out["amount"] == Decimal("2700.00")
    assert wire_out["currency"] == "USD" and wire_out["channel"] == "wire"
    wire_in = kept.filter(pl.col("txn_id") == "HI-Small_Trans.csv:3:in").row(0, named=True)
    assert wire_in["account_id"] == "03 8000F5BB0" and wire_in["currency"] == "EUR"
    assert wire_in["direction"] == "in" and wire_in["amount"] == Decimal("2500.00")
    # the unknown currency fails on the payee side only, and says which side
    q = result.quarantine.row(0, named=True)
    assert q["reason"] == "unknown_currency" and q["message"].startswith("[in side]")
    # labels go to truth, never into the canonical rows
    assert "Is Laundering" not in kept.columns
    truth = dict(zip(result.truth["txn_id"], result.truth["Is Laundering"], strict=True))
    assert truth["HI-Small_Trans.csv:3:out"] == "1" and len(truth) == kept.height
    paths = write_ingest(result, tmp_path / "out")
    assert pl.read_parquet(paths["truth"]).height == kept.height


def test_paysim_hour_steps(tmp_path):
    result = ingest([write(tmp_path, "paysim.csv", PAYSIM)], "paysim")
    assert result.summary["rows_in"] == 6
    assert result.summary["rows_quarantined"] == 0  # CASH_OUT and CASH-OUT are both mapped
    ts = result.kept.filter(pl.col("txn_id") == "paysim.csv:2:out")["ts"][0]
    assert ts.isoformat() == "2026-01-01T01:00:00+00:00"


@pytest.mark.parametrize(("name", "text", "rows"), [("amlsim", AMLSIM, 4), ("saml-d", SAMLD, 4)])
def test_other_public_layouts(tmp_path, name, text, rows):
    result = ingest([write(tmp_path, f"{name}.csv", text)], name)
    assert result.summary["rows_in"] == rows and result.summary["rows_quarantined"] == 0
    assert set(result.kept["direction"]) == {"in", "out"}


def test_sides_validation():
    base = {
        "txn_id": {"from_row": True},
        "ts": "t",
        "amount": "a",
        "currency": "c",
        "channel": {"value": "wire"},
    }
    with pytest.raises(Exception, match="sides are `out` and `in`"):
        parse_mapping({"columns": base, "sides": {"up": {"account_id": "x"}}})
    with pytest.raises(Exception, match="side sets it"):
        parse_mapping({"columns": base, "sides": {"out": {"direction": "x"}}})
    with pytest.raises(Exception, match=r"side out.*account_id"):
        parse_mapping({"columns": base, "sides": {"out": {"counterparty_id": "x"}}})
    with pytest.raises(Exception, match="for txn_id only"):
        parse_mapping(
            {"columns": {**base, "memo": {"from_row": True}}, "sides": {"out": {"account_id": "x"}}}
        )
    assert resolve_mapping("amlworld").sides.keys() == {"out", "in"}


def test_mapping_check_understands_sides():
    from txflags.mapping_check import check_mapping

    report = check_mapping("amlworld", [DATA / "amlworld_sample.csv"])
    columns = {c.column: c for c in report.columns}
    assert columns["account_id"].status == "ok"
    assert columns["account_id"].source == "out: From Bank + Account | in: To Bank + Account_2"
    assert columns["currency"].failed == 1
    assert report.unmapped_codes == {}  # currency is free text with aliases, not an enum
    assert report.unused_source_columns == []


def test_camt053_statement(tmp_path):
    result = ingest([DATA / "camt053_sample.xml"], "camt053")
    assert result.summary["rows_in"] == 4 and result.summary["rows_quarantined"] == 0
    rows = {r["txn_id"]: r for r in result.kept.to_dicts()}
    credit = rows["REF-0001"]
    assert credit["direction"] == "in" and credit["channel"] == "wire"
    assert credit["counterparty_id"] == "GB94BARC10201530093459" and credit["memo"] == "ROSES QV"
    assert credit["ts"].isoformat() == "2026-02-01T22:15:00+00:00"
    # a batch entry splits into its transaction details, each with its own amount and payee
    assert rows["TX-A"]["amount"] == Decimal("25") and rows["TX-B"]["counterparty_name"] == (
        "ADS ONLINE LTD"
    )
    assert rows["TX-B"]["counterparty_country"] == "NL" and rows["TX-B"]["channel"] == "card"
    assert rows["REF-0003"]["channel"] == "atm" and rows["REF-0003"]["currency"] == "GBP"
    broken = tmp_path / "broken.xml"
    broken.write_text("<Document><BkToCstmrStmt><Stmt>")
    with pytest.raises(Exception, match="not well-formed XML"):
        ingest([broken], "camt053")
