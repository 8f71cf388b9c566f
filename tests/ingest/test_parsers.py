"""Unit tests per parser: amounts, timestamps, dates, codes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from txflags import parsers
from txflags.mapping import ColumnSpec
from txflags.schema import MONEY


def run(expr, values, dtype=pl.String):
    return (
        pl.DataFrame({"x": pl.Series(values, dtype=dtype)}).select(expr.alias("y"))["y"].to_list()
    )


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "expected"),
    [
        ("1,250.00", ".", ",", "1250.00"),
        ("$1,250.00", ".", ",", "1250.00"),
        ("1.250,00", ",", ".", "1250.00"),
        ("1 250,00", ",", " ", "1250.00"),
        ("1 250,00", ",", None, None),  # undeclared separator: refuse
        ("1,25", ".", ",", None),  # malformed grouping is refused, not read as 125
        ("(12.50)", ".", None, "-12.50"),
        ("12.50-", ".", None, "-12.50"),
        ("-0.5", ".", None, "-0.5"),
        ("1250.00 USD", ".", None, "1250.00"),
        ("0.00000001", ".", None, "0.00000001"),
        ("1,250.00", ".", None, None),  # thousands separator not declared: refuse, do not guess
        ("1.5", ",", None, None),  # '.' is not the decimal point here
        ("ten", ".", None, None),
        ("1e5", ".", None, "100000"),  # exact scientific notation is accepted
        ("inf", ".", None, None),
    ],
)
def test_parse_decimal(text, decimal, thousands, expected):
    spec = ColumnSpec("amount", ("x",), decimal=decimal, thousands=thousands)
    got = run(parsers.parse_decimal(parsers.text(pl.col("x")), pl.String, spec), [text])[0]
    assert got == (None if expected is None else Decimal(expected))


def test_parse_decimal_from_numbers_is_exact():
    spec = ColumnSpec("amount", ("x",))
    got = run(parsers.parse_decimal(pl.col("x"), pl.Float64, spec), [0.1, 1250.5], pl.Float64)
    assert got == [Decimal("0.1"), Decimal("1250.5")]
    assert pl.DataFrame({"a": got}).schema["a"] == MONEY


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "spec", "expected"),
    [
        ("31/01/2026", ColumnSpec("ts", ("x",), formats=("%d/%m/%Y",)), utc(2026, 1, 31)),
        ("2026-01-31T23:10:00+01:00", ColumnSpec("ts", ("x",)), utc(2026, 1, 31, 22, 10)),
        ("2026-01-31T23:10:00Z", ColumnSpec("ts", ("x",)), utc(2026, 1, 31, 23, 10)),
        (
            "2026-01-31 23:10:00",
            ColumnSpec("ts", ("x",), timezone="Asia/Manila"),
            utc(2026, 1, 31, 15, 10),
        ),
        (
            "2026-07-01 12:00",
            ColumnSpec("ts", ("x",), timezone="America/New_York"),
            utc(2026, 7, 1, 16, 0),
        ),
        (
            "2026-03-08 02:30",
            ColumnSpec("ts", ("x",), timezone="America/New_York"),
            None,
        ),  # DST gap
        (
            "1769900000",
            ColumnSpec("ts", ("x",), formats=("epoch_s",)),
            utc(2026, 1, 31, 22, 53, 20),
        ),
        (
            "5",
            ColumnSpec("ts", ("x",), formats=("offset",), start="2026-01-01T00:00:00", unit="h"),
            utc(2026, 1, 1, 5),
        ),
        ("31/02/2026", ColumnSpec("ts", ("x",), formats=("%d/%m/%Y",)), None),
        ("yesterday", ColumnSpec("ts", ("x",)), None),
    ],
)
def test_parse_timestamp(text, spec, expected):
    got = run(parsers.parse_timestamp(pl.col("x"), pl.String, spec), [text])[0]
    assert got == expected


def test_parse_timestamp_several_formats_first_match_wins():
    spec = ColumnSpec("ts", ("x",), formats=("%d/%m/%Y %H:%M", "%d/%m/%Y"))
    got = run(
        parsers.parse_timestamp(pl.col("x"), pl.String, spec), ["01/02/2026 10:30", "01/02/2026"]
    )
    assert got == [utc(2026, 2, 1, 10, 30), utc(2026, 2, 1)]


def test_parse_timestamp_per_row_zone():
    spec = ColumnSpec("ts", ("x",), formats=("%Y-%m-%d %H:%M",), timezone_column="tz")
    frame = pl.DataFrame(
        {"x": ["2026-01-10 22:00", "2026-01-10 22:00"], "tz": ["Europe/London", "Asia/Tokyo"]}
    )
    got = frame.select(
        parsers.parse_timestamp(pl.col("x"), pl.String, spec, ["Asia/Tokyo", "Europe/London"])
    )
    assert got.to_series().to_list() == [utc(2026, 1, 10, 22), utc(2026, 1, 10, 13)]


def test_typed_timestamps_from_parquet():
    spec = ColumnSpec("ts", ("x",), timezone="Europe/Paris")
    naive = run(
        parsers.parse_timestamp(pl.col("x"), pl.Datetime("us"), spec),
        [datetime(2026, 1, 1, 12)],
        pl.Datetime("us"),
    )
    assert naive == [utc(2026, 1, 1, 11)]


def test_parse_date_and_int():
    spec = ColumnSpec("birth_date", ("x",), formats=("%m/%d/%Y",))
    assert run(parsers.parse_date(pl.col("x"), pl.String, spec), ["12/31/1990", "31/12/1990"]) == [
        datetime(1990, 12, 31).date(),
        None,
    ]
    assert run(
        parsers.parse_int(pl.col("x"), pl.String, pl.Int16), ["5411", "05411", "5411.0", "x", None]
    ) == [
        5411,
        5411,
        5411,
        None,
        None,
    ]


def test_map_codes():
    spec = ColumnSpec("channel", ("x",), map={"CASH_DEP": "cash", "POS": "card"})
    allowed = ["card", "cash", "other"]
    got = run(
        parsers.map_codes(pl.col("x"), spec, allowed), ["cash_dep", "POS", "Card", "WEIRD", None]
    )
    assert got == ["cash", "card", "card", None, None]
    with_default = ColumnSpec("channel", ("x",), map={"POS": "card"}, default="other")
    assert run(parsers.map_codes(pl.col("x"), with_default, allowed), ["WEIRD", None]) == [
        "other",
        None,
    ]
    aliases = ColumnSpec("currency", ("x",), map={"US Dollar": "USD"})
    assert run(parsers.map_codes(pl.col("x"), aliases, None), ["us dollar", "EUR"]) == [
        "USD",
        "EUR",
    ]
