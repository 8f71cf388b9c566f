"""Vectorised parsers: one source expression in, one typed canonical expression out.

Each parser returns a Polars expression that is null where the input does not parse; the caller
compares it with the raw value to tell "blank" from "unparseable". No Python runs per row.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from txflags.mapping import EPOCH_FORMATS, ISO_DATE_FORMATS, ISO_TS_FORMATS, ColumnSpec
from txflags.schema import MONEY, UTC_TS

_MARKS = " \t$€£¥₱₹₩₦₽¤ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # currency signs and codes around a number


def text(expr: pl.Expr) -> pl.Expr:
    """Trimmed text; blank becomes null."""
    return expr.cast(pl.String).str.strip_chars().replace("", None)


def parse_number(
    expr: pl.Expr,
    dtype: pl.DataType,
    target: pl.DataType,
    decimal: str = ".",
    thousands: str | None = None,
) -> pl.Expr:
    """A number from text such as ``$1,250.00``, ``1.250,00 EUR``, ``(12.50)`` or ``12.50-``
    (the last two negative), or from a numeric column. Null where it does not parse.

    Only declared separators are accepted: with ``thousands`` set, groups must be of three digits
    (``1,25`` is refused, not read as 125); with ``decimal: ","`` a ``.`` makes the value invalid.
    """
    if dtype.is_numeric():
        return expr.cast(target, strict=False)
    s = expr.str.strip_chars(_MARKS)
    negative = (s.str.starts_with("(") & s.str.ends_with(")")) | s.str.ends_with("-")
    s = s.str.strip_chars_start("(").str.strip_chars_end(")-").str.strip_chars(_MARKS)
    if thousands:
        t = "\\" + thousands if thousands in ".^$|?*+()[]{}\\" else thousands
        d = "\\" + decimal if decimal in ".^$|?*+()[]{}\\" else decimal
        grouped = rf"^[+-]?\d{{1,3}}({t}\d{{3}})+({d}\d*)?$"
        well_formed = ~s.str.contains(thousands, literal=True) | s.str.contains(grouped)
        s = pl.when(well_formed).then(s.str.replace_all(thousands, "", literal=True))
    if decimal != ".":
        s = s.str.replace_all(".", "x", literal=True).str.replace_all(decimal, ".", literal=True)
    value = s.cast(target, strict=False)
    if target == pl.Float64:
        value = pl.when(value.is_finite()).then(value)
    return pl.when(negative).then(-value).otherwise(value)


def parse_decimal(expr: pl.Expr, dtype: pl.DataType, spec: ColumnSpec) -> pl.Expr:
    """Exact decimal from text or numbers."""
    return parse_number(expr, dtype, MONEY, spec.decimal, spec.thousands)


def parse_float(expr: pl.Expr, dtype: pl.DataType, spec: ColumnSpec) -> pl.Expr:
    return parse_number(expr, dtype, pl.Float64, spec.decimal, spec.thousands)


def parse_int(
    expr: pl.Expr, dtype: pl.DataType, target: pl.DataType, max_digits: int = 9
) -> pl.Expr:
    """Integer codes such as MCC, from numbers or text like '5411', '05411' or '5411.0'."""
    if dtype.is_integer():
        return expr.cast(target, strict=False)
    s = expr.cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "")
    valid = s.str.contains(rf"^-?\d{{1,{max_digits}}}$")
    return pl.when(valid).then(s).otherwise(None).cast(target, strict=False)


def _localize(naive: pl.Expr, zone: str | None) -> pl.Expr:
    localized = naive.dt.replace_time_zone(zone or "UTC", ambiguous="earliest", non_existent="null")
    return localized.dt.convert_time_zone("UTC")


def parse_timestamp(
    expr: pl.Expr,
    dtype: pl.DataType,
    spec: ColumnSpec,
    zones: list[str] | None = None,
) -> pl.Expr:
    """UTC microsecond timestamp. Naive values are read in ``spec.timezone`` (default UTC), or per
    row in the zone named by ``spec.timezone_column`` (``zones``: the distinct values present)."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return expr.dt.convert_time_zone("UTC").cast(UTC_TS)
        return _with_zones(expr.cast(pl.Datetime("us")), spec, zones)
    if dtype == pl.Date:
        return _with_zones(expr.cast(pl.Datetime("us")), spec, zones)
    formats = spec.formats or ISO_TS_FORMATS
    if formats[0] in EPOCH_FORMATS:
        number = expr if dtype.is_integer() else parse_int(expr, dtype, pl.Int64, 19)
        return pl.from_epoch(number, time_unit=EPOCH_FORMATS[formats[0]]).dt.replace_time_zone(
            "UTC"
        )
    if formats[0] == "offset":
        start = datetime.fromisoformat(str(spec.start))
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[spec.unit]
        number = expr.cast(pl.Float64, strict=False)
        naive = pl.lit(start.replace(tzinfo=None)) + pl.duration(
            microseconds=(number * seconds * 1_000_000).round(0).cast(pl.Int64)
        )
        if start.tzinfo is not None:
            return _localize(naive, "UTC") - pl.duration(
                seconds=int(start.utcoffset().total_seconds())
            )
        return _with_zones(naive.cast(pl.Datetime("us")), spec, zones)
    s = expr.cast(pl.String)
    zulu = s.str.replace(r"Z$", "+00:00")  # ISO 8601 "Z" means UTC (only for %z formats)
    attempts = []
    for fmt in formats:
        if "%z" in fmt or "%:z" in fmt:
            attempts.append(
                zulu.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
            )
        else:
            naive = s.str.to_datetime(fmt, strict=False, time_unit="us")
            attempts.append(_with_zones(naive, spec, zones))
    return pl.coalesce(attempts) if len(attempts) > 1 else attempts[0]


def _with_zones(naive: pl.Expr, spec: ColumnSpec, zones: list[str] | None) -> pl.Expr:
    if not spec.timezone_column:
        return _localize(naive, spec.timezone)
    zone_col = text(pl.col(spec.timezone_column))
    out = pl.lit(None, UTC_TS)
    for zone in zones or []:
        out = pl.when(zone_col == zone).then(_localize(naive, zone)).otherwise(out)
    if spec.timezone:  # rows with a blank zone fall back to the fixed zone
        out = pl.when(zone_col.is_null()).then(_localize(naive, spec.timezone)).otherwise(out)
    return out


def parse_date(expr: pl.Expr, dtype: pl.DataType, spec: ColumnSpec) -> pl.Expr:
    if dtype == pl.Date:
        return expr
    if isinstance(dtype, pl.Datetime):
        return expr.dt.date()
    s = expr.cast(pl.String)
    attempts = [s.str.to_date(fmt, strict=False) for fmt in (spec.formats or ISO_DATE_FORMATS)]
    return pl.coalesce(attempts) if len(attempts) > 1 else attempts[0]


def _variants(value: str) -> list[str]:
    return list(
        dict.fromkeys([value, value.upper(), value.lower(), value.capitalize(), value.title()])
    )


def map_codes(
    expr: pl.Expr, spec: ColumnSpec, allowed: list[str] | None, dtype: pl.DataType = pl.String
) -> pl.Expr:
    """Apply the spec's value map with one vectorised lookup on the trimmed value.

    Keys match as written or in upper, lower, capitalised or title case unless
    ``spec.case_sensitive`` (one exact-match lookup per row, no per-row case folding). For enum
    targets (``allowed``) canonical values pass through in those cases too; anything else
    becomes ``spec.default``, or null (a bad code). Free-text targets keep values the map does
    not name.
    """
    s = expr.cast(pl.String)
    variants = (lambda v: [v]) if spec.case_sensitive else _variants
    table: dict[str, str] = {}
    for value in allowed or []:
        for v in variants(value):
            table.setdefault(v, value)
    for source, canonical in (spec.map or {}).items():
        for v in variants(source):
            table[v] = str(canonical)  # the map wins over a canonical value spelled the same
    if spec.default is not None:
        fallback: pl.Expr | None = pl.lit(str(spec.default))
    else:
        fallback = None if allowed else s
    if not table:
        out = s if fallback is None else pl.when(s.is_not_null()).then(fallback)
        return out.cast(dtype)
    mapped = s.replace_strict(
        list(table), list(table.values()), default=fallback, return_dtype=dtype
    )
    return pl.when(s.is_not_null()).then(mapped) if fallback is not None else mapped
