"""Raw frame + mapping -> canonical frame + quarantine, lazily.

Every raw row ends in exactly one of the two outputs: a row is kept when every check passes,
otherwise it is quarantined with the *first* failing check's reason code, the canonical column
that failed, a message naming the offending value, and the source row as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from txflags import parsers
from txflags.currency import attach_usd, known_currencies
from txflags.mapping import ColumnSpec, Mapping
from txflags.readers import EXTRA_COL, FILE_COL, ROW_COL, RawBatch
from txflags.schema import MONEY, UTC_TS, Quarantine

RAW = "__raw_"  # prefix of the raw (pre-parse) value of each canonical column
MAX_AMOUNT = 1_000_000_000_000  # no single posting is a trillion
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Normalized:
    """Lazy outputs of normalisation; collect them together (``pl.collect_all``)."""

    kept: pl.LazyFrame
    quarantine: pl.LazyFrame
    notes: pl.LazyFrame  # one row of counts: values defaulted, optional values dropped


@dataclass(frozen=True)
class _Check:
    condition: pl.Expr
    reason: str
    column: str | None
    message: pl.Expr


def normalize(
    raw: RawBatch,
    mapping: Mapping,
    rates: pl.DataFrame | None = None,
    *,
    as_of: datetime | None = None,
    zones: list[str] | None = None,
) -> Normalized:
    """Plan the canonical frame and the quarantine for ``raw`` under ``mapping``.

    ``rates`` (transactions only) gives ``amount_usd``; ``as_of`` bounds plausible timestamps
    (default: now); ``zones`` lists the distinct values of a ``timezone_column``, if any.
    """
    frame_type = mapping.frame_type
    schema = raw.frame.collect_schema()
    source_names = [n for n in schema.names() if not n.startswith("__")]
    now = as_of or datetime.now(UTC)

    # Stage 1: raw value per canonical column, then parsed value.
    raw_exprs, parsed, checks, notes = {}, {}, [], []
    for target, specs in mapping.columns.items():
        dtype = frame_type.column(target).dtype
        alts_raw, alts_parsed = [], []
        for spec in specs:
            r = _raw_value(spec, schema)
            alts_raw.append(r)
            alts_parsed.append(_parse(r, _source_dtype(spec, schema), dtype, spec, zones))
        raw_exprs[target] = pl.coalesce(alts_raw) if len(alts_raw) > 1 else alts_raw[0]
        parsed[target] = pl.coalesce(alts_parsed) if len(alts_parsed) > 1 else alts_parsed[0]
    lf = raw.frame.with_columns(
        [e.cast(pl.String).alias(RAW + t) for t, e in raw_exprs.items()]
        + [e.alias(t) for t, e in parsed.items()]
    )
    cols = set(mapping.columns)

    def raw_of(t: str) -> pl.Expr:
        return pl.col(RAW + t)

    def failed(t: str) -> pl.Expr:
        return raw_of(t).is_not_null() & pl.col(t).is_null()

    # Stage 2: checks in priority order; a row's first failing check is its reason.
    checks.append(
        _Check(
            pl.col(EXTRA_COL).is_not_null(),
            "bad_row",
            None,
            pl.format(
                "the row is broken (more fields than the header, or not valid JSON): {}",
                pl.col(EXTRA_COL).str.slice(0, 80),
            ),
        )
    )
    checks.append(_missing("account_id", "missing_account", raw_of))
    checks += [
        _missing(t, "missing_required", raw_of)
        for t in frame_type.required
        if t in cols and t != "account_id"
    ]
    if frame_type.name == "Transactions":
        lf, derived_checks = _derive_transaction_columns(lf, mapping, cols, raw_of)
    else:
        derived_checks = _accounts_checks(cols, now)
    for t in sorted(cols):
        dtype = frame_type.column(t).dtype
        reason = _failure_reason(dtype)
        if reason:
            message = pl.format(f"{t}: {{}} {_hint(t, dtype, mapping)}", _quoted(raw_of(t)))
            checks.append(_Check(failed(t), reason, t, message))
        elif dtype.is_integer():  # optional codes such as MCC: kept as null, counted
            notes.append(failed(t).sum().alias(f"unparsed_{t}"))
    checks += derived_checks
    if frame_type.name == "Transactions":
        checks += _late_transaction_checks(now)

    first = pl.coalesce([pl.when(c.condition).then(pl.lit(i)) for i, c in enumerate(checks)])
    lf = lf.with_columns(first.alias("__check"))
    index = list(range(len(checks)))
    reason = pl.col("__check").replace_strict(index, [c.reason for c in checks], default=None)
    column = pl.col("__check").replace_strict(index, [c.column for c in checks], default=None)
    message = pl.coalesce(
        [pl.when(pl.col("__check") == i).then(c.message) for i, c in enumerate(checks)]
    )
    lf = lf.with_columns(
        reason.alias("__reason"), column.alias("__column"), message.alias("__message")
    )

    if frame_type.name == "Transactions":
        # A mapped amount_usd wins where present; the rate table fills the rest.
        if "amount_usd" in cols:
            lf = (
                attach_usd(lf, rates, "__usd")
                .with_columns(pl.coalesce("amount_usd", "__usd").alias("amount_usd"))
                .drop("__usd")
            )
        else:
            lf = attach_usd(lf, rates)
        lf = (
            lf.with_columns(
                pl.when(pl.col("__reason").is_null() & pl.col("amount_usd").is_null())
                .then(
                    pl.struct(
                        r=pl.lit("missing_rate"),
                        c=pl.lit("amount_usd"),
                        m=pl.format(
                            "no USD rate for {} on {}", pl.col("currency"), pl.col("ts").dt.date()
                        ),
                    )
                )
                .otherwise(
                    pl.struct(r=pl.col("__reason"), c=pl.col("__column"), m=pl.col("__message"))
                )
                .alias("__s")
            )
            .with_columns(
                pl.col("__s").struct.field("r").alias("__reason"),
                pl.col("__s").struct.field("c").alias("__column"),
                pl.col("__s").struct.field("m").alias("__message"),
            )
            .drop("__s")
        )

    # Stage 3: duplicate ids among otherwise good rows (first occurrence wins).
    key = frame_type.key[0]
    ok = pl.col("__reason").is_null()
    first_file = pl.col(FILE_COL).first().over([ok, key])
    first_row = pl.col(ROW_COL).first().over([ok, key])
    is_dup = ok & ~pl.col(key).is_first_distinct().over(ok)
    lf = lf.with_columns(
        pl.when(is_dup)
        .then(pl.lit("duplicate_id"))
        .otherwise(pl.col("__reason"))
        .alias("__reason"),
        pl.when(is_dup).then(pl.lit(key)).otherwise(pl.col("__column")).alias("__column"),
        pl.when(is_dup)
        .then(
            pl.format(
                f"{key} {{}} already seen in {{}} row {{}}", pl.col(key), first_file, first_row
            )
        )
        .otherwise(pl.col("__message"))
        .alias("__message"),
    )

    provenance = [pl.col(FILE_COL).alias("source_file"), pl.col(ROW_COL).alias("source_row")]
    kept = frame_type.conform(lf.filter(pl.col("__reason").is_null()).with_columns(provenance))
    raw_json = pl.struct([pl.col(n).cast(pl.String) for n in source_names]).struct.json_encode()
    quarantine = Quarantine.conform(
        lf.filter(pl.col("__reason").is_not_null()).select(
            *provenance,
            pl.col("__reason").alias("reason"),
            pl.col("__column").alias("column"),
            pl.col("__message").alias("message"),
            raw_json.alias("raw"),
        )
    )
    notes_lf = lf.select(notes) if notes else pl.LazyFrame()
    return Normalized(kept, quarantine, notes_lf)


def _quoted(expr: pl.Expr) -> pl.Expr:
    return pl.format("'{}'", expr.str.slice(0, 60))


def _hint(target: str, dtype: pl.DataType, mapping: Mapping) -> str:
    specs = mapping.columns.get(target, ())
    if isinstance(dtype, pl.Datetime):
        fmts = ", ".join(f for s in specs for f in s.formats) or "ISO 8601"
        return f"matches none of the formats ({fmts}); add its format under columns.{target}.format"
    if dtype == pl.Date:
        fmts = ", ".join(f for s in specs for f in s.formats) or "%Y-%m-%d"
        return f"matches none of the date formats ({fmts})"
    if isinstance(dtype, pl.Decimal) or dtype == pl.Float64:
        seps = "; ".join(f"decimal {s.decimal!r}, thousands {s.thousands!r}" for s in specs)
        return f"is not a number ({seps}); check columns.{target}.decimal/thousands"
    if isinstance(dtype, pl.Enum):
        return f"is not in columns.{target}.map and not one of {list(dtype.categories)}"
    return "does not parse"


def _failure_reason(dtype: pl.DataType) -> str | None:
    if isinstance(dtype, pl.Datetime):
        return "bad_timestamp"
    if dtype == pl.Date:
        return "bad_date"
    if isinstance(dtype, pl.Decimal) or dtype == pl.Float64:
        return "bad_amount"
    if isinstance(dtype, pl.Enum):
        return "bad_code"
    return None


def _missing(target: str, reason: str, raw_of) -> _Check:
    return _Check(raw_of(target).is_null(), reason, target, pl.lit(f"{target} is blank"))


def _source_dtype(spec: ColumnSpec, schema: pl.Schema) -> pl.DataType:
    if spec.is_constant or any(c not in schema for c in spec.columns):
        return pl.String
    if len(spec.columns) == 1:
        return schema[spec.columns[0]]
    return pl.String


def _raw_value(spec: ColumnSpec, schema: pl.Schema) -> pl.Expr:
    if spec.is_constant:
        return pl.lit(None if spec.value is None else str(spec.value), pl.String)
    if any(c not in schema for c in spec.columns):  # an optional column this file lacks
        return pl.lit(None, pl.String)
    if len(spec.columns) == 1:
        col = pl.col(spec.columns[0])
        return parsers.text(col) if schema[spec.columns[0]] == pl.String else col
    parts = [parsers.text(pl.col(c)) for c in spec.columns]
    return parsers.text(pl.concat_str(parts, separator=" ", ignore_nulls=True))


def _parse(
    raw: pl.Expr,
    source_dtype: pl.DataType,
    dtype: pl.DataType,
    spec: ColumnSpec,
    zones: list[str] | None,
) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        return parsers.parse_timestamp(raw, source_dtype, spec, zones).cast(UTC_TS)
    if dtype == pl.Date:
        return parsers.parse_date(raw, source_dtype, spec)
    if isinstance(dtype, pl.Decimal):
        return parsers.parse_decimal(raw, source_dtype, spec)
    if dtype == pl.Float64:
        return parsers.parse_float(raw, source_dtype, spec)
    if dtype.is_integer():
        return parsers.parse_int(raw, source_dtype, dtype)
    if isinstance(dtype, pl.Enum):
        return parsers.map_codes(parsers.text(raw), spec, list(dtype.categories)).cast(dtype)
    if spec.map or spec.default is not None:
        return parsers.map_codes(parsers.text(raw), spec, None)
    return raw.cast(pl.String)


def _derive_transaction_columns(lf, mapping: Mapping, cols: set[str], raw_of):
    """Transaction-only derivations (direction from sign, currency) and their checks."""
    checks: list[_Check] = []
    signed = any(s.signed for s in mapping.columns.get("amount", ()))
    negative = pl.col("amount") < 0
    sign_direction = pl.when(negative).then(pl.lit("out")).otherwise(pl.lit("in"))
    if "direction" in cols:
        direction = (
            pl.coalesce(pl.col("direction").cast(pl.String), sign_direction)
            if signed
            else (pl.col("direction").cast(pl.String))
        )
        direction_raw = (
            pl.coalesce(raw_of("direction"), pl.col(RAW + "amount"))
            if signed
            else (raw_of("direction"))
        )
    else:
        direction, direction_raw = sign_direction, raw_of("amount")
    lf = lf.with_columns(
        direction.cast(pl.Enum(["in", "out"])).alias("direction"),
        direction_raw.alias(RAW + "direction"),
    )
    # A negative amount is fine when its sign carries the direction or agrees with it.
    lf = lf.with_columns(negative.alias("__negative"), pl.col("amount").abs().cast(MONEY))
    contradiction = pl.col("__negative") & (pl.col("direction") == "in") & pl.lit(not signed)
    currency = pl.col("currency").str.to_uppercase()
    lf = lf.with_columns(currency.alias("currency"))
    checks.append(
        _Check(
            raw_of("currency").is_not_null()
            & ~pl.col("currency").is_in(sorted(known_currencies())),
            "unknown_currency",
            "currency",
            pl.format(
                "currency {} is not an ISO 4217 code; map it under columns.currency.map",
                _quoted(raw_of("currency")),
            ),
        )
    )
    checks.append(
        _Check(
            contradiction & raw_of("amount").is_not_null(),
            "impossible_value",
            "amount",
            pl.format("negative amount {} on a credit (direction in)", _quoted(raw_of("amount"))),
        )
    )
    return lf, checks


def _late_transaction_checks(now: datetime) -> list[_Check]:
    latest = now + timedelta(days=2)
    return [
        _Check(
            pl.col("amount") == 0,
            "impossible_value",
            "amount",
            pl.lit("amount is zero"),
        ),
        _Check(
            pl.col("amount") > MAX_AMOUNT,
            "impossible_value",
            "amount",
            pl.format("amount {} exceeds {}", pl.col("amount").cast(pl.String), pl.lit(MAX_AMOUNT)),
        ),
        _Check(
            (pl.col("ts") < EARLIEST) | (pl.col("ts") > latest),
            "impossible_value",
            "ts",
            pl.format(
                "timestamp {} is before 1970 or more than 2 days in the future",
                pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
            ),
        ),
    ]


def _accounts_checks(cols: set[str], now: datetime) -> list[_Check]:
    today = now.date()
    out = []
    if "birth_date" in cols:
        out.append(
            _Check(
                (pl.col("birth_date") > today) | (pl.col("birth_date").dt.year() < 1900),
                "impossible_value",
                "birth_date",
                pl.format("birth date {} is in the future or before 1900", pl.col("birth_date")),
            )
        )
    if "opened_at" in cols:
        out.append(
            _Check(
                pl.col("opened_at") > today + timedelta(days=2),
                "impossible_value",
                "opened_at",
                pl.format("account opening date {} is in the future", pl.col("opened_at")),
            )
        )
    return out
