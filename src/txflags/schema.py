"""The canonical frame types, declared in one place.

Every stage of the pipeline hands one of these frames to the next. A frame type is a named,
ordered set of columns, each with a Polars dtype, whether it is required, and what it means.
``conform`` casts and orders a frame to its type; ``validate`` says what is wrong with one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: Money as booked is exact: 38 digits, 8 after the point (enough for crypto units).
MONEY = pl.Decimal(38, 8)
UTC_TS = pl.Datetime("us", "UTC")

DIRECTIONS = ["in", "out"]
CHANNELS = [
    "card",
    "cash",
    "wire",
    "ach",
    "money_transfer",
    "p2p",
    "crypto",
    "prepaid",
    "atm",
    "check",
    "internal",
    "other",
]
CUSTOMER_TYPES = ["individual", "business"]

Direction = pl.Enum(DIRECTIONS)
Channel = pl.Enum(CHANNELS)
CustomerType = pl.Enum(CUSTOMER_TYPES)

QUARANTINE_REASONS = [
    "bad_row",  # the row itself is broken: more fields than the header, or not valid JSON
    "missing_required",  # a required value is blank (the message names the column)
    "missing_account",  # no account id: the row cannot be attributed to anyone
    "bad_timestamp",  # a timestamp matched none of the mapping's formats
    "bad_date",  # a date matched none of the mapping's formats
    "bad_amount",  # an amount or number that does not parse
    "bad_code",  # a code not in the mapping's value map and not a canonical value
    "unknown_currency",  # not an ISO 4217 (or supported crypto) code after aliases
    "missing_rate",  # no USD rate for the currency on that date
    "impossible_value",  # parses, but cannot be true (zero amount, year 1900, far future)
    "duplicate_id",  # id already seen earlier in this batch (same or another file)
]
QuarantineReason = pl.Enum(QUARANTINE_REASONS)


@dataclass(frozen=True)
class Column:
    """One column of a frame type."""

    name: str
    dtype: pl.DataType
    required: bool
    doc: str


@dataclass(frozen=True)
class FrameType:
    """A named, ordered set of columns."""

    name: str
    columns: tuple[Column, ...]
    doc: str = ""
    key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}; columns are {self.names}")

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        """Cast to this type's dtypes, add absent optional columns as nulls, order columns.

        Extra columns are dropped. A missing required column raises ``ValueError``.
        """
        lf = frame.lazy()
        present = set(lf.collect_schema().names())
        missing = [n for n in self.required if n not in present]
        if missing:
            raise ValueError(f"{self.name} frame lacks required column(s): {', '.join(missing)}")
        return lf.select(
            [
                (pl.col(c.name) if c.name in present else pl.lit(None)).cast(c.dtype).alias(c.name)
                for c in self.columns
            ]
        )

    def validate(self, frame: pl.DataFrame) -> list[str]:
        """Problems that keep ``frame`` from being of this type (empty list: it is)."""
        problems: list[str] = []
        for c in self.columns:
            if c.name not in frame.columns:
                if c.required:
                    problems.append(f"missing required column {c.name!r}")
                continue
            if frame.schema[c.name] != c.dtype:
                problems.append(f"column {c.name!r} is {frame.schema[c.name]}, expected {c.dtype}")
            if c.required and frame[c.name].null_count():
                problems.append(f"required column {c.name!r} has nulls")
        extra = [n for n in frame.columns if n not in self.names]
        if extra:
            problems.append(f"unexpected column(s): {', '.join(extra)}")
        return problems


def _c(name: str, dtype: pl.DataType, required: bool, doc: str) -> Column:
    return Column(name, dtype, required, doc)


Transactions = FrameType(
    "Transactions",
    (
        _c("txn_id", pl.String, True, "unique within a source"),
        _c("ts", UTC_TS, True, "when it was booked, UTC"),
        _c("account_id", pl.String, True, "the monitored account"),
        _c("customer_id", pl.String, False, "the account's owner"),
        _c("direction", Direction, True, "in = credit to the account, out = debit from it"),
        _c("amount", MONEY, True, "exact amount as booked, always > 0 (direction gives the sign)"),
        _c("currency", pl.String, True, "ISO 4217 code (or a supported crypto code)"),
        _c("amount_usd", pl.Float64, True, "amount in USD from the rate table, for thresholds"),
        _c("channel", Channel, True, "card, cash, wire, ach, money_transfer, p2p, crypto, ..."),
        _c("mcc", pl.Int16, False, "ISO 18245 merchant category code (card rows)"),
        _c("merchant", pl.String, False, "merchant descriptor"),
        _c("counterparty_id", pl.String, False, "the other side's account or id"),
        _c("counterparty_name", pl.String, False, "the other side's name"),
        _c("counterparty_country", pl.String, False, "ISO 3166 alpha-2 of the other side"),
        _c("country", pl.String, False, "ISO 3166 alpha-2 where it happened"),
        _c("city", pl.String, False, "city where it happened"),
        _c("region", pl.String, False, "state/province where it happened"),
        _c("location_id", pl.String, False, "branch, ATM, agent or kiosk id"),
        _c("memo", pl.String, False, "free-text reference or description"),
        _c("device_id", pl.String, False, "device used (online/mobile banking)"),
        _c("ip", pl.String, False, "IP address used"),
        _c("wallet_address", pl.String, False, "crypto wallet on the other side"),
        _c("wallet_category", pl.String, False, "blockchain-analytics category of that wallet"),
        _c("passenger_name", pl.String, False, "traveller named on a ticket"),
        _c("source_file", pl.String, False, "file the row came from (set by ingest)"),
        _c("source_row", pl.Int64, False, "1-based data row number in that file (set by ingest)"),
    ),
    doc="One row per posting, from the monitored account's side.",
    key=("txn_id",),
)

Accounts = FrameType(
    "Accounts",
    (
        _c("account_id", pl.String, True, "the account"),
        _c("customer_id", pl.String, True, "its owner"),
        _c("customer_type", CustomerType, True, "individual or business"),
        _c("name", pl.String, False, "customer name"),
        _c("birth_date", pl.Date, False, "date of birth (individuals)"),
        _c("occupation", pl.String, False, "declared occupation or business type"),
        _c("business_type", pl.String, False, "business activity (businesses)"),
        _c("declared_income_usd", pl.Float64, False, "declared yearly income or turnover, USD"),
        _c("opened_at", pl.Date, False, "account opening date"),
        _c("home_city", pl.String, False, "home city"),
        _c("home_region", pl.String, False, "home state/province"),
        _c("home_country", pl.String, False, "home country, ISO 3166 alpha-2"),
        _c("timezone", pl.String, False, "IANA zone of the home city"),
        _c("risk_rating", pl.String, False, "institution's own rating"),
        _c("phone", pl.String, False, "KYC phone"),
        _c("email", pl.String, False, "KYC e-mail"),
        _c("address", pl.String, False, "KYC street address"),
        _c("id_number", pl.String, False, "identity document number"),
        _c("staff_flags", pl.String, False, "staff-observed behavioural flags, ';'-separated"),
        _c("source_file", pl.String, False, "file the row came from (set by ingest)"),
        _c("source_row", pl.Int64, False, "1-based data row number in that file (set by ingest)"),
    ),
    doc="One row per account, with its owner's KYC attributes.",
    key=("account_id",),
)

Quarantine = FrameType(
    "Quarantine",
    (
        _c("source_file", pl.String, True, "file the row came from"),
        _c("source_row", pl.Int64, True, "1-based data row number within that file"),
        _c("reason", QuarantineReason, True, "reason code"),
        _c("column", pl.String, False, "canonical column that failed"),
        _c("message", pl.String, True, "what is wrong, in words"),
        _c("raw", pl.String, True, "the source row's values, as JSON"),
    ),
    doc="Rows that could not be made canonical, with the reason.",
)

FRAME_TYPES: dict[str, FrameType] = {ft.name: ft for ft in (Transactions, Accounts, Quarantine)}

Hits = FrameType(
    "Hits",
    (
        _c("typology_id", pl.String, True, "typology id, family.name"),
        _c("typology_version", pl.Int32, True, "version of the typology file that fired"),
        _c("family", pl.String, True, "typology family"),
        _c("indicator", pl.String, True, "TYPOLOGIES.md indicator code, e.g. HT-REM-01"),
        _c("account_id", pl.String, True, "the account the hit is about"),
        _c("window_start", pl.Date, False, "first local day of the strongest window (null: none)"),
        _c("window_end", pl.Date, False, "last local day of the strongest window (null: none)"),
        _c("band", pl.String, True, "high, medium or low"),
        _c("reason", pl.String, True, "why this band, in words"),
        _c("weight", pl.Int8, True, "1 context, 2 notable, 3 strong"),
        _c("role_hint", pl.String, True, "likely role of the account holder (victim, ...)"),
        _c("observed", pl.String, True, "observed feature values, JSON object"),
        _c("params", pl.String, True, "parameter values the typology ran with, JSON object"),
        _c("evidence_txn_ids", pl.List(pl.String), True, "matching transactions in the window"),
        _c("sentence", pl.String, True, "the hit explained in one sentence"),
    ),
    doc="One row per (typology, account): the strongest window where the typology fired.",
    key=("typology_id", "account_id"),
)

FRAME_TYPES["Hits"] = Hits
