"""Mapping files: validation messages that say what to write."""

from __future__ import annotations

import pytest

from txflags.errors import InputError
from txflags.ingest import resolve_mapping
from txflags.mapping import load_mapping, parse_mapping

BASE = {
    "txn_id": "Ref",
    "ts": "Date",
    "account_id": "Acct",
    "direction": {"column": "DC", "map": {"D": "out", "C": "in"}},
    "amount": "Amt",
    "currency": {"value": "USD"},
    "channel": {"value": "card"},
}


def doc(**columns):
    return {"version": 1, "kind": "transactions", "columns": {**BASE, **columns}}


def test_valid_mapping_lists_source_columns():
    m = parse_mapping(doc())
    assert m.kind == "transactions"
    assert m.source_columns() == ["Ref", "Date", "Acct", "DC", "Amt"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"version": 2, "columns": BASE}, "version: 1"),
        ({"kind": "ledger", "columns": BASE}, "must be one of"),
        ({"columns": {**BASE, "amout": "X"}}, "Did you mean `amount`"),
        (
            {"columns": {k: v for k, v in BASE.items() if k != "ts"}},
            "required transactions column(s) not mapped: ts",
        ),
        ({"columns": {**BASE, "source_row": "N"}}, "set by txflags itself"),
        (
            {"columns": {**BASE, "channel": {"column": "C", "map": {"X": "carrier pigeon"}}}},
            "not valid; use one of",
        ),
        (
            {"columns": {**BASE, "ts": {"column": "D", "timezone": "Mars/Olympus"}}},
            "unknown time zone",
        ),
        ({"columns": {**BASE, "ts": {"column": "D", "value": "x"}}}, "exactly one of"),
        (
            {"columns": {**BASE, "amount": {"column": "A", "decimal": ",", "thousands": ","}}},
            "must differ",
        ),
        ({"columns": {k: v for k, v in BASE.items() if k != "direction"}}, "signed: true"),
        ({"source": {"delimiter": ";;"}, "columns": BASE}, "one character"),
        ({"columns": BASE, "extra": 1}, "unknown top-level key"),
        ({"columns": {**BASE, "ts": {"column": "D", "fromat": "%d"}}}, "unknown key(s) ['fromat']"),
    ],
)
def test_invalid_mappings_say_what_to_fix(bad, expected):
    with pytest.raises(InputError) as err:
        parse_mapping({"version": 1, **bad})
    assert expected in str(err.value)


def test_signed_amount_makes_direction_optional():
    cols = {k: v for k, v in BASE.items() if k != "direction"}
    cols["amount"] = {"column": "Amt", "signed": True}
    assert parse_mapping({"columns": cols}).columns["amount"][0].signed


def test_missing_source_column_suggests_the_closest(tmp_path):
    m = parse_mapping(doc())
    with pytest.raises(InputError) as err:
        m.check_source(["Ref", "Date", "Account", "DC", "Amt"], "x.csv")
    assert "'Acct' (did you mean 'Account'?)" in str(err.value)


def test_load_mapping_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read mapping"):
        load_mapping(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [unclosed")
    with pytest.raises(InputError, match="not valid YAML"):
        load_mapping(bad)


def test_bundled_mappings_resolve():
    assert resolve_mapping("canonical").kind == "transactions"
    assert resolve_mapping("canonical-accounts").kind == "accounts"
    with pytest.raises(InputError, match="bundled mapping"):
        resolve_mapping("no-such-mapping")
