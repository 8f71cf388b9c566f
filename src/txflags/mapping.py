"""Mapping files: how a source export's columns become a canonical frame.

A mapping is YAML. Its ``columns`` section says, for each canonical column, where the value comes
from and how to parse it; ``source`` says how to read the file. See the README for the format and a
worked example. ``load_mapping`` validates the file and returns a :class:`Mapping`; every problem
is reported as an :class:`~txflags.errors.InputError` that says what to write.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import yaml

from txflags.errors import InputError
from txflags.schema import Accounts, FrameType, Transactions

KINDS: dict[str, FrameType] = {"transactions": Transactions, "accounts": Accounts}
FORMATS = ("csv", "parquet", "ndjson", "camt053")
DEFAULT_NULL_VALUES = ("", "NULL", "null", "N/A", "n/a", "NA", "None", "-", "--", "#N/A", "nan")
#: ISO 8601 shapes tried when a timestamp spec gives no format.
ISO_TS_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
ISO_DATE_FORMATS = ("%Y-%m-%d",)
EPOCH_FORMATS = {"epoch_s": "s", "epoch_ms": "ms", "epoch_us": "us"}
#: Columns the pipeline fills itself; a mapping may not set them.
DERIVED = {"source_file", "source_row"}
#: Columns that may be left unmapped although required, because they are derived.
DERIVABLE = {"amount_usd", "direction"}

_SPEC_KEYS = {
    "column",
    "value",
    "map",
    "default",
    "format",
    "timezone",
    "timezone_column",
    "decimal",
    "thousands",
    "signed",
    "case_sensitive",
    "start",
    "unit",
    "optional",
    "from_row",
}


@dataclass(frozen=True)
class ColumnSpec:
    """Where one canonical column comes from, and how to parse it."""

    target: str
    columns: tuple[str, ...] = ()  # source columns; several are joined with one space
    value: Any = None  # a constant for every row (instead of columns)
    map: dict[str, Any] | None = None  # source value -> canonical value
    default: Any = None  # canonical value for non-blank source values not in `map`
    formats: tuple[str, ...] = ()  # strptime formats, or one of epoch_s/epoch_ms/epoch_us/offset
    timezone: str | None = None  # zone of naive timestamps (default UTC)
    timezone_column: str | None = None  # per-row zone of naive timestamps
    decimal: str = "."
    thousands: str | None = None
    signed: bool = False  # amount: a negative value means money out
    case_sensitive: bool = False  # value maps match case-insensitively unless set
    start: str | None = None  # formats=[offset]: ISO start time the offset counts from
    unit: str = "h"  # formats=[offset]: unit of the offset (s, m, h, d)
    optional: bool = False  # the source column may be absent from a file (values become null)
    from_row: bool = False  # ids: "<file name>:<row>" for exports without a transaction id

    @property
    def is_constant(self) -> bool:
        return not self.columns and not self.from_row


@dataclass(frozen=True)
class SourceOptions:
    """How to read the files."""

    format: str | None = None  # None: from the file extension
    delimiter: str = ","
    quote: str = '"'
    has_header: bool = True
    skip_rows: int = 0
    encoding: str = "utf8-lossy"
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file."""

    kind: str
    columns: dict[str, tuple[ColumnSpec, ...]]
    source: SourceOptions = field(default_factory=SourceOptions)
    truth_columns: tuple[str, ...] = ()
    name: str = "mapping"
    digest: str = ""
    #: per-transfer layouts: canonical columns that differ by side ("out" payer, "in" payee)
    sides: dict[str, dict[str, tuple[ColumnSpec, ...]]] = field(default_factory=dict)

    @property
    def frame_type(self) -> FrameType:
        return KINDS[self.kind]

    def for_side(self, side: str) -> Mapping:
        """The per-side mapping of a per-transfer layout: shared columns, the side's own, and
        the direction the side implies."""
        columns = {**self.columns, **self.sides[side]}
        columns["direction"] = (ColumnSpec("direction", value=side),)
        return replace(self, columns=columns, sides={}, name=f"{self.name}[{side}]")

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, in first-use order."""
        seen: dict[str, None] = {}
        side_specs = [specs for side in self.sides.values() for specs in side.values()]
        for specs in [*self.columns.values(), *side_specs]:
            for spec in specs:
                for col in (*spec.columns, spec.timezone_column):
                    if col:
                        seen.setdefault(col, None)
        return list(seen)

    def check_source(self, available: list[str], file: str) -> None:
        """Fail with a helpful message if the mapping names a column the file lacks."""
        all_specs = [*self.columns.values()] + [v for d in self.sides.values() for v in d.values()]
        optional = {c for specs in all_specs for s in specs if s.optional for c in s.columns}
        missing = [c for c in self.source_columns() if c not in available and c not in optional]
        if not missing:
            return
        hints = []
        for col in missing:
            close = difflib.get_close_matches(col, available, n=1, cutoff=0.5)
            hints.append(f"{col!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        shown = ", ".join(repr(a) for a in available[:30])
        more = "" if len(available) <= 30 else f" and {len(available) - 30} more"
        raise InputError(
            f"{file}: mapping {self.name!r} names column(s) {', '.join(hints)} that the file does "
            f"not have. The file's columns are: {shown}{more}. Fix the mapping's `columns:` "
            "section (names are case-sensitive)."
        )


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read mapping {p}: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"mapping {p} is not valid YAML: {exc}") from None
    mapping = parse_mapping(doc, name=p.name)
    return replace(mapping, digest=hashlib.sha256(text.encode()).hexdigest()[:16])


def parse_mapping(doc: Any, name: str = "mapping") -> Mapping:
    """Validate a mapping given as a dict (the parsed YAML)."""
    where = f"mapping {name}"
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a YAML mapping with `kind:` and `columns:` at the top")
    unknown = set(doc) - {"version", "kind", "source", "columns", "sides", "truth", "description"}
    if unknown:
        raise InputError(
            f"{where}: unknown top-level key(s) {sorted(unknown)}; allowed: version, kind, "
            "description, source, columns, sides, truth"
        )
    version = doc.get("version", 1)
    if version != 1:
        raise InputError(f"{where}: `version: {version}` is not supported; write `version: 1`")
    kind = doc.get("kind", "transactions")
    if kind not in KINDS:
        raise InputError(f"{where}: `kind: {kind}` must be one of {sorted(KINDS)}")
    frame_type = KINDS[kind]
    source = _parse_source(doc.get("source") or {}, where)
    raw_columns = doc.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise InputError(
            f"{where}: `columns:` must map canonical column names to source columns, e.g. "
            "`txn_id: Reference`"
        )
    columns = _parse_columns(raw_columns, frame_type, kind, where)
    sides = _parse_sides(doc.get("sides"), frame_type, kind, where)
    if sides:
        for side, own in sides.items():
            merged = {**columns, **own, "direction": (ColumnSpec("direction", value=side),)}
            _check_required(merged, frame_type, kind, f"{where} (side {side})")
    else:
        _check_required(columns, frame_type, kind, where)
    truth = doc.get("truth") or {}
    truth_cols = tuple(truth.get("columns", ())) if isinstance(truth, dict) else ()
    if not isinstance(truth, dict) or not all(isinstance(c, str) for c in truth_cols):
        raise InputError(f"{where}: write `truth: {{columns: [Is Laundering, ...]}}`")
    return Mapping(kind, columns, source, truth_cols, name, sides=sides)


def _parse_columns(
    raw_columns: dict, frame_type: FrameType, kind: str, where: str
) -> dict[str, tuple[ColumnSpec, ...]]:
    columns: dict[str, tuple[ColumnSpec, ...]] = {}
    for target, raw in raw_columns.items():
        if target in DERIVED:
            raise InputError(f"{where}: `{target}` is set by txflags itself; remove it")
        if target not in frame_type.names:
            close = difflib.get_close_matches(str(target), frame_type.names, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise InputError(
                f"{where}: `{target}` is not a canonical {kind} column.{hint} "
                f"Canonical columns: {', '.join(n for n in frame_type.names if n not in DERIVED)}"
            )
        alternatives = raw if isinstance(raw, list) and raw and isinstance(raw[0], dict) else [raw]
        columns[target] = tuple(_parse_spec(target, alt, frame_type, where) for alt in alternatives)
    return columns


def _parse_sides(
    raw: Any, frame_type: FrameType, kind: str, where: str
) -> dict[str, dict[str, tuple[ColumnSpec, ...]]]:
    """``sides: {out: {...}, in: {...}}``: one transfer row becomes a row per side."""
    if raw is None:
        return {}
    if kind != "transactions" or not isinstance(raw, dict) or not raw:
        raise InputError(
            f"{where}: `sides:` (transactions only) maps `out` (the payer) and/or `in` (the "
            "payee) to the columns that differ by side, e.g. `out: {account_id: From Account}`"
        )
    bad = set(raw) - {"out", "in"}
    if bad:
        raise InputError(f"{where}: sides are `out` and `in`, not {sorted(bad)}")
    sides = {}
    for side, cols in raw.items():
        if not isinstance(cols, dict) or "direction" in cols:
            raise InputError(
                f"{where}: sides.{side} maps canonical columns (not direction: the side sets it)"
            )
        sides[side] = _parse_columns(cols, frame_type, kind, f"{where}: sides.{side}")
    return sides


def _parse_source(raw: Any, where: str) -> SourceOptions:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: `source:` must be a mapping (format, delimiter, ...)")
    allowed = {"format", "delimiter", "quote", "has_header", "skip_rows", "encoding", "null_values"}
    unknown = set(raw) - allowed
    if unknown:
        raise InputError(
            f"{where}: unknown `source` key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    fmt = raw.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"{where}: `source.format: {fmt}` must be one of {', '.join(FORMATS)}")
    delimiter = str(raw.get("delimiter", ","))
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise InputError(f"{where}: `source.delimiter` must be one character, got {delimiter!r}")
    encoding = raw.get("encoding", "utf8-lossy")
    if encoding not in ("utf8", "utf8-lossy"):
        raise InputError(
            f"{where}: `source.encoding` must be utf8 or utf8-lossy (re-encode other files)"
        )
    nulls = raw.get("null_values", DEFAULT_NULL_VALUES)
    return SourceOptions(
        format=fmt,
        delimiter=delimiter,
        quote=str(raw.get("quote", '"')),
        has_header=bool(raw.get("has_header", True)),
        skip_rows=int(raw.get("skip_rows", 0)),
        encoding=encoding,
        null_values=tuple(str(v) for v in nulls),
    )


def _parse_spec(target: str, raw: Any, frame_type: FrameType, where: str) -> ColumnSpec:
    here = f"{where}: columns.{target}"
    if isinstance(raw, str):
        return ColumnSpec(target, columns=(raw,))
    if isinstance(raw, list):
        if not raw or not all(isinstance(c, str) for c in raw):
            raise InputError(
                f"{here}: a list must name source columns, e.g. [BookingDate, BookingTime]"
            )
        return ColumnSpec(target, columns=tuple(raw))
    if not isinstance(raw, dict):
        raise InputError(f"{here}: write a source column name, a list of them, or a mapping")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise InputError(f"{here}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}")
    given = [k for k in ("column", "value", "from_row") if k in raw]
    if len(given) != 1:
        raise InputError(
            f"{here}: give exactly one of `column:` (source column), `value:` (constant) or "
            "`from_row: true` (an id made of the file name and row number)"
        )
    if "from_row" in raw and (target != "txn_id" or raw["from_row"] is not True):
        raise InputError(f"{here}: `from_row: true` makes ids, for txn_id only")
    cols = raw.get("column")
    cols = (cols,) if isinstance(cols, str) else tuple(cols or ())
    dtype = frame_type.column(target).dtype
    formats = raw.get("format", ())
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if formats and dtype not in (pl.Date,) and not isinstance(dtype, pl.Datetime):
        raise InputError(f"{here}: `format` applies to timestamps and dates only")
    tz = raw.get("timezone")
    for zone in [tz] if tz else []:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"{here}: unknown time zone {zone!r}; use an IANA name like Europe/London"
            ) from None
    mapping = raw.get("map")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise InputError(f"{here}: `map` must be a mapping of source value to canonical value")
        mapping = {str(k): v for k, v in mapping.items()}
        allowed = _enum_values(dtype)
        if allowed:
            bad = sorted({str(v) for v in mapping.values() if str(v) not in allowed})
            if bad:
                raise InputError(f"{here}: map value(s) {bad} are not valid; use one of {allowed}")
    default = raw.get("default")
    allowed = _enum_values(dtype)
    if default is not None and allowed and str(default) not in allowed:
        raise InputError(f"{here}: default {default!r} is not valid; use one of {allowed}")
    if "offset" in formats and not raw.get("start"):
        raise InputError(f"{here}: `format: offset` needs `start:` (an ISO timestamp)")
    unit = str(raw.get("unit", "h"))
    if unit not in ("s", "m", "h", "d"):
        raise InputError(f"{here}: `unit` must be s, m, h or d")
    decimal = str(raw.get("decimal", "."))
    thousands = raw.get("thousands")
    if thousands is not None and str(thousands) == decimal:
        raise InputError(f"{here}: `thousands` and `decimal` separators must differ")
    return ColumnSpec(
        target,
        columns=cols,
        value=raw.get("value"),
        map=mapping,
        default=default,
        formats=formats,
        timezone=tz,
        timezone_column=raw.get("timezone_column"),
        decimal=decimal,
        thousands=None if thousands is None else str(thousands),
        signed=bool(raw.get("signed", False)),
        case_sensitive=bool(raw.get("case_sensitive", False)),
        start=raw.get("start"),
        unit=unit,
        optional=bool(raw.get("optional", False)),
        from_row=bool(raw.get("from_row", False)),
    )


def _enum_values(dtype: pl.DataType) -> list[str]:
    return list(dtype.categories) if isinstance(dtype, pl.Enum) else []


def _check_required(
    columns: dict[str, tuple[ColumnSpec, ...]], frame_type: FrameType, kind: str, where: str
) -> None:
    missing = [
        n
        for n in frame_type.required
        if n not in columns and n not in DERIVED and n not in DERIVABLE
    ]
    if missing:
        raise InputError(
            f"{where}: required {kind} column(s) not mapped: {', '.join(missing)}. Add e.g. "
            f"`{missing[0]}: <SourceColumn>` under `columns:` (or `{{value: ...}}` for a constant)"
        )
    if kind == "transactions" and "direction" not in columns:
        if not any(s.signed for s in columns.get("amount", ())):
            raise InputError(
                f"{where}: say how money direction is known: map `direction:` (e.g. "
                "`{column: DrCr, map: {D: out, C: in}}`) or mark the amount signed "
                "(`amount: {column: Amount, signed: true}`: negative = out)"
            )
