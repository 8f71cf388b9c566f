"""Raw frame + mapping -> canonical frame + quarantine.

Every raw row ends in exactly one of the two outputs: a row is kept when every check passes,
otherwise it is quarantined with the *first* failing check's reason code, the canonical column
that failed, a message naming the offending value, and the source row as JSON.

Two phases keep good rows cheap. Phase A (lazy, one collect over every row) parses the columns
and finds, per row, the index of the first failing check, carrying the source values only for
rows that fail. Phase B (eager, over the failing rows only) builds their messages and raw JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from txflags import parsers
from txflags.currency import attach_usd, known_currencies
from txflags.mapping import ColumnSpec, Mapping
from txflags.readers import EXTRA_COL, FILE_COL, INDEX_COL, ROW_COL, RawBatch
from txflags.schema import MONEY, UTC_TS, FrameType, Quarantine

RAW = "__raw_"  # prefix of the raw (pre-parse) value of each canonical column
SRC = "__src_"  # prefix of a source column carried along for failing rows
CHECK = "__check"  # index of the first failing check, null for a good row
SUSPECT = "__dup_suspect"  # a good row whose key's hash an earlier good row has
MAX_AMOUNT = 1_000_000_000_000  # no single posting is a trillion
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Normalized:
    """Canonical rows, quarantined rows, and counts of values kept as null."""

    kept: pl.DataFrame
    quarantine: pl.DataFrame
    notes: dict[str, int]
    rows_per_file: dict[int, int]  # rows read, by position of the file in the input list
    truth: pl.DataFrame | None = None  # the mapping's truth columns for kept rows, by key


@dataclass(frozen=True)
class _Check:
    condition: pl.Expr
    reason: str
    column: str | None
    message: pl.Expr


class _Plan:
    """The expressions for one mapping over one raw schema; shared by both phases."""

    def __init__(
        self,
        mapping: Mapping,
        schema: pl.Schema,
        rates: pl.DataFrame | None,
        now: datetime,
        zones: list[str] | None,
    ) -> None:
        self.mapping = mapping
        self.frame_type: FrameType = mapping.frame_type
        self.schema = schema
        self.rates = rates
        self.now = now
        self.zones = zones
        self.cols = set(mapping.columns)
        self.is_tx = self.frame_type.name == "Transactions"
        self.signed = any(s.signed for s in mapping.columns.get("amount", ()))

    # -- stage 1: raw and parsed values ------------------------------------------------------
    def parse(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """Two steps: each spec's raw (trimmed) value once, then the parse of that value."""
        raw_cols: dict[str, pl.Expr] = {}
        parsed: dict[str, pl.Expr] = {}
        for target, specs in self.mapping.columns.items():
            dtype = self.frame_type.column(target).dtype
            names = (
                [RAW + target]
                if len(specs) == 1
                else [f"{RAW}{i}_{target}" for i in range(len(specs))]
            )
            for name, spec in zip(names, specs, strict=True):
                raw_cols[name] = _raw_value(spec, self.schema)
            alts = [
                _parse(pl.col(n), _source_dtype(s, self.schema), dtype, s, self.zones)
                for n, s in zip(names, specs, strict=True)
            ]
            parsed[target] = _first(alts)
            if len(specs) > 1:
                parsed[RAW + target] = pl.coalesce([pl.col(n) for n in names])
        lf = lf.with_columns([e.alias(n) for n, e in raw_cols.items()])
        lf = lf.with_columns([e.alias(t) for t, e in parsed.items()])
        if self.is_tx:
            lf = self._derive_transaction_columns(lf)
        return lf

    def _derive_transaction_columns(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        negative = pl.col("amount") < 0
        from_sign = pl.when(negative).then(pl.lit("out")).otherwise(pl.lit("in"))
        if "direction" in self.cols:
            direction = pl.col("direction").cast(pl.String)
            direction_raw = pl.col(RAW + "direction")
            if self.signed:
                direction = pl.coalesce(direction, from_sign)
                direction_raw = pl.coalesce(direction_raw, pl.col(RAW + "amount"))
        else:
            direction, direction_raw = from_sign, pl.col(RAW + "amount")
        lf = lf.with_columns(
            direction.cast(pl.Enum(["in", "out"])).alias("direction"),
            direction_raw.alias(RAW + "direction"),
            negative.alias("__negative"),
            pl.col("amount").abs().cast(MONEY),
            pl.col("currency").str.to_uppercase(),
        )
        return attach_usd(lf, self.rates, keep_given="amount_usd" in self.cols)

    # -- stage 2: checks ----------------------------------------------------------------------
    def checks(self) -> list[_Check]:
        """Every check in priority order; a row's first failing check is its reason."""

        def raw_of(t: str) -> pl.Expr:
            return pl.col(RAW + t)

        def quoted(t: str) -> pl.Expr:
            return pl.format("'{}'", raw_of(t).cast(pl.String).str.slice(0, 60))

        checks = [
            _Check(
                pl.col(EXTRA_COL).is_not_null(),
                "bad_row",
                None,
                pl.format(
                    "the row is broken (more fields than the header, or not valid JSON): {}",
                    pl.col(EXTRA_COL).str.slice(0, 80),
                ),
            ),
            _Check(
                raw_of("account_id").is_null(),
                "missing_account",
                "account_id",
                pl.lit("account_id is blank"),
            ),
        ]
        for t in self.frame_type.required:
            if t in self.cols and t != "account_id":
                checks.append(
                    _Check(raw_of(t).is_null(), "missing_required", t, pl.lit(f"{t} is blank"))
                )
        for t in sorted(self.cols):
            dtype = self.frame_type.column(t).dtype
            reason = _failure_reason(dtype)
            if reason:
                failed = raw_of(t).is_not_null() & pl.col(t).is_null()
                message = pl.format(f"{t}: {{}} {_hint(t, dtype, self.mapping)}", quoted(t))
                checks.append(_Check(failed, reason, t, message))
        checks += self._transaction_checks(quoted) if self.is_tx else self._account_checks()
        return checks

    def _transaction_checks(self, quoted: Callable[[str], pl.Expr]) -> list[_Check]:
        latest = self.now + timedelta(days=2)
        ts_text = pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%SZ")
        return [
            _Check(
                pl.col(RAW + "currency").is_not_null()
                & ~pl.col("currency").is_in(sorted(known_currencies())),
                "unknown_currency",
                "currency",
                pl.format(
                    "currency {} is not an ISO 4217 code; map it under columns.currency.map",
                    quoted("currency"),
                ),
            ),
            _Check(
                pl.col("__negative") & (pl.col("direction") == "in") & pl.lit(not self.signed),
                "impossible_value",
                "amount",
                pl.format("negative amount {} on a credit (direction in)", quoted("amount")),
            ),
            _Check(pl.col("amount") == 0, "impossible_value", "amount", pl.lit("amount is zero")),
            _Check(
                pl.col("amount") > MAX_AMOUNT,
                "impossible_value",
                "amount",
                pl.format("amount {} exceeds {}", pl.col("amount").cast(pl.String), MAX_AMOUNT),
            ),
            _Check(
                (pl.col("ts") < EARLIEST) | (pl.col("ts") > latest),
                "impossible_value",
                "ts",
                pl.format("timestamp {} is before 1970 or more than 2 days ahead", ts_text),
            ),
            _Check(
                pl.col("amount_usd").is_null(),
                "missing_rate",
                "amount_usd",
                pl.format(
                    "no USD rate for {} on {}; add it to the rate table (--rates)",
                    pl.col("currency"),
                    pl.col("ts").dt.date(),
                ),
            ),
        ]

    def _account_checks(self) -> list[_Check]:
        today = self.now.date()
        out = []
        if "birth_date" in self.cols:
            out.append(
                _Check(
                    (pl.col("birth_date") > today) | (pl.col("birth_date").dt.year() < 1900),
                    "impossible_value",
                    "birth_date",
                    pl.format(
                        "birth date {} is in the future or before 1900", pl.col("birth_date")
                    ),
                )
            )
        if "opened_at" in self.cols:
            out.append(
                _Check(
                    pl.col("opened_at") > today + timedelta(days=2),
                    "impossible_value",
                    "opened_at",
                    pl.format("account opening date {} is in the future", pl.col("opened_at")),
                )
            )
        return out

    def notes(self) -> list[pl.Expr]:
        """Optional integer codes (MCC) that do not parse are kept as null and counted."""
        return [
            (pl.col(RAW + t).is_not_null() & pl.col(t).is_null()).alias(f"__note_unparsed_{t}")
            for t in sorted(self.cols)
            if self.frame_type.column(t).dtype.is_integer()
        ]


def normalize(
    raw: RawBatch,
    mapping: Mapping,
    rates: pl.DataFrame | None = None,
    *,
    as_of: datetime | None = None,
    zones: list[str] | None = None,
    engine: str = "auto",
) -> Normalized:
    """Make ``raw`` canonical under ``mapping``; quarantine what cannot be.

    ``rates`` (transactions only) gives ``amount_usd``; ``as_of`` bounds plausible timestamps
    (default: now); ``zones`` lists the distinct values of a ``timezone_column``, if any.
    """
    schema = raw.frame.collect_schema()
    source_names = [n for n in schema.names() if not n.startswith("__")]
    plan = _Plan(mapping, schema, rates, as_of or datetime.now(UTC), zones)
    checks = plan.checks()
    key = plan.frame_type.key[0]
    dup_index = len(checks)

    # Phase A: one pass over every row.
    lf = plan.parse(raw.frame)
    first_failure = pl.coalesce(
        [pl.when(c.condition).then(pl.lit(i)) for i, c in enumerate(checks)]
    )
    lf = lf.with_columns(first_failure.alias(CHECK))
    # a repeated key among good rows, found by a 64-bit hash of the key (10M string ids:
    # 3.3 -> 0.9 s); a hash collision only makes a suspect, confirmed on the key itself below
    good = pl.col(CHECK).is_null()
    lf = lf.with_columns(
        (good & ~pl.when(good).then(pl.col(key).hash()).is_first_distinct()).alias(SUSPECT)
    )
    failing = pl.col(CHECK).is_not_null() | pl.col(SUSPECT)
    canonical = [n for n in plan.frame_type.names if n not in ("source_file", "source_row")]
    carried = [
        pl.when(failing).then(pl.col(n)).alias(f"{SRC}{i}") for i, n in enumerate(source_names)
    ]
    derived = {"direction", "amount_usd"} if plan.is_tx else set()
    frame = lf.select(
        *[c for c in canonical if c in plan.cols | derived],
        pl.col(FILE_COL).alias("source_file"),
        pl.col(ROW_COL).alias("source_row"),
        pl.col(INDEX_COL),
        pl.col(CHECK),
        pl.when(failing).then(pl.col(EXTRA_COL)).alias(EXTRA_COL),
        *carried,
        *plan.notes(),
        *[pl.col(c).alias(f"__truth_{c}") for c in mapping.truth_columns if c in schema],
        SUSPECT,
    ).collect(engine=engine)
    frame = _confirm_duplicates(frame, key, dup_index)

    notes = {
        c.removeprefix("__note_"): int(frame[c].sum())
        for c in frame.columns
        if c.startswith("__note_")
    }
    rows_per_file = dict(frame.group_by(INDEX_COL).len().iter_rows())
    any_bad = frame[CHECK].null_count() < frame.height
    good_rows = frame.filter(pl.col(CHECK).is_null()) if any_bad else frame
    kept = plan.frame_type.conform(good_rows).collect()
    truth_cols = [c for c in frame.columns if c.startswith("__truth_")]
    truth = (
        good_rows.select(key, *[pl.col(c).alias(c.removeprefix("__truth_")) for c in truth_cols])
        if truth_cols
        else None
    )

    # Phase B: explain the failing rows only.
    bad = frame.filter(pl.col(CHECK).is_not_null()).select(
        *[pl.col(f"{SRC}{i}").alias(n) for i, n in enumerate(source_names)],
        pl.col("source_file").alias(FILE_COL),
        pl.col("source_row").alias(ROW_COL),
        INDEX_COL,
        EXTRA_COL,
        CHECK,
    )
    quarantine = _explain(bad, plan, checks, kept, key, source_names)
    return Normalized(kept, quarantine, notes, rows_per_file, truth)


def _confirm_duplicates(frame: pl.DataFrame, key: str, dup_index: int) -> pl.DataFrame:
    """Mark as duplicates (check ``dup_index``) the good rows whose key an earlier good row
    has, among the rows sharing a hash with a suspect; drop the suspect column."""
    if not frame[SUSPECT].any():
        return frame.drop(SUSPECT)
    hashes = frame.filter(pl.col(SUSPECT)).select(pl.col(key).hash())[key]
    same_hash = pl.col(CHECK).is_null() & pl.col(key).hash().is_in(hashes.implode())
    dups = (
        frame.select(key, CHECK).with_row_index("_i").filter(same_hash)
        .filter(~pl.col(key).is_first_distinct())["_i"]
    )
    check = frame[CHECK].cast(pl.Int64).scatter(dups, dup_index)
    return frame.with_columns(check.alias(CHECK)).drop(SUSPECT)


def _explain(
    bad: pl.DataFrame,
    plan: _Plan,
    checks: list[_Check],
    kept: pl.DataFrame,
    key: str,
    source_names: list[str],
) -> pl.DataFrame:
    if bad.height == 0:
        return Quarantine.empty()
    lf = plan.parse(bad.lazy())
    first_seen = kept.lazy().select(
        pl.col(key).alias("__key"),
        pl.col("source_file").alias("__first_file"),
        pl.col("source_row").alias("__first_row"),
    )
    lf = lf.join(first_seen, left_on=key, right_on="__key", how="left", maintain_order="left")
    dup_message = pl.format(
        f"{key} {{}} already seen in {{}} row {{}}", pl.col(key), "__first_file", "__first_row"
    )
    reasons = [c.reason for c in checks] + ["duplicate_id"]
    columns = [c.column for c in checks] + [key]
    messages = [c.message for c in checks] + [dup_message]
    index = list(range(len(reasons)))
    raw_json = pl.struct([pl.col(n).cast(pl.String) for n in source_names]).struct.json_encode()
    out = lf.select(
        pl.col(FILE_COL).alias("source_file"),
        pl.col(ROW_COL).alias("source_row"),
        pl.col(CHECK).replace_strict(index, reasons, return_dtype=pl.String).alias("reason"),
        pl.col(CHECK).replace_strict(index, columns, return_dtype=pl.String).alias("column"),
        pl.coalesce([pl.when(pl.col(CHECK) == i).then(m) for i, m in enumerate(messages)]).alias(
            "message"
        ),
        raw_json.alias("raw"),
    )
    return Quarantine.conform(out).collect()


def _first(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]


def _hint(target: str, dtype: pl.DataType, mapping: Mapping) -> str:
    specs = mapping.columns.get(target, ())
    if isinstance(dtype, pl.Datetime):
        fmts = ", ".join(f for s in specs for f in s.formats) or "ISO 8601"
        return (
            f"matches none of the formats ({fmts}) or does not exist in its time zone; "
            f"add its format under columns.{target}.format"
        )
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


def _source_dtype(spec: ColumnSpec, schema: pl.Schema) -> pl.DataType:
    if spec.is_constant or any(c not in schema for c in spec.columns):
        return pl.String
    if len(spec.columns) == 1:
        return schema[spec.columns[0]]
    return pl.String


def _raw_value(spec: ColumnSpec, schema: pl.Schema) -> pl.Expr:
    if spec.from_row:
        name = pl.col(FILE_COL).str.split("/").list.last()
        return pl.concat_str([name, pl.lit(":"), pl.col(ROW_COL).cast(pl.String)])
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
        if source_dtype == dtype and not spec.map and spec.default is None:
            return raw  # already canonical (e.g. a canonical Parquet file)
        return parsers.map_codes(raw, spec, list(dtype.categories), dtype)
    if spec.map or spec.default is not None:
        return parsers.map_codes(raw, spec, None)
    return raw.cast(pl.String)
