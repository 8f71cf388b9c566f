"""The inverse of a mapping: render a canonical frame as the source export it describes.

Used to produce bank-style exports from synthetic data (``txflags synth --bank-export``) and to
prove, in tests, that canonical -> export -> ingest gives back the same canonical rows. Each
canonical column is written through the first alternative of its spec: value maps are inverted
(the first source code for each canonical value), timestamps are formatted in the mapping's time
zone with its first format, amounts with its separators and sign convention. Constant columns
are not written (they come back as the constant).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from txflags.atomic import write_atomic
from txflags.errors import InputError
from txflags.mapping import EPOCH_FORMATS, ISO_DATE_FORMATS, ColumnSpec, Mapping

_TS_RENDER_DEFAULT = "%Y-%m-%dT%H:%M:%S%z"


def _inverse(spec: ColumnSpec) -> dict[str, str]:
    inverse: dict[str, str] = {}
    for source, canonical in (spec.map or {}).items():
        inverse.setdefault(str(canonical), source)
    return inverse


def group_thousands(digits: pl.Expr, sep: str) -> pl.Expr:
    """'1234567' -> '1,234,567' (for sep ',')."""
    return digits.str.reverse().str.extract_all(r"\d{1,3}").list.join(sep[::-1]).str.reverse()


def format_amount(amount: pl.Expr, spec: ColumnSpec, negative: pl.Expr | None = None) -> pl.Expr:
    """Exact decimal -> text with the spec's separators; at least two decimals, no float."""
    text = amount.abs().cast(pl.String)
    whole = text.str.extract(r"^(\d+)", 1)
    frac = text.str.extract(r"\.(\d+)$", 1).fill_null("").str.replace(r"0+$", "")
    frac = pl.when(frac.str.len_chars() < 2).then(frac.str.pad_end(2, "0")).otherwise(frac)
    if spec.thousands:
        whole = group_thousands(whole, spec.thousands)
    out = pl.concat_str([whole, pl.lit(spec.decimal), frac])
    if negative is not None:
        out = pl.when(negative).then(pl.concat_str([pl.lit("-"), out])).otherwise(out)
    return out


def _format_ts(ts: pl.Expr, spec: ColumnSpec) -> pl.Expr:
    fmt = spec.formats[0] if spec.formats else _TS_RENDER_DEFAULT
    if spec.timezone_column:
        raise InputError("rendering with a per-row timezone_column is not supported")
    if fmt in EPOCH_FORMATS:
        return ts.dt.epoch(EPOCH_FORMATS[fmt]).cast(pl.String)
    if fmt == "offset":
        raise InputError("rendering an offset timestamp is not supported")
    local = ts.dt.convert_time_zone(spec.timezone or "UTC")
    return local.dt.to_string(fmt)


def render_export(frame: pl.DataFrame | pl.LazyFrame, mapping: Mapping) -> pl.DataFrame:
    """A frame of text columns, named and formatted as the mapping's source export."""
    lf = frame.lazy()
    schema = lf.collect_schema()
    outputs: dict[str, pl.Expr] = {}
    for target, specs in mapping.columns.items():
        spec = specs[0]
        if spec.is_constant or target not in schema:
            continue
        col = pl.col(target)
        dtype = schema[target]
        if isinstance(dtype, pl.Datetime):
            value = _format_ts(col, spec)
        elif dtype == pl.Date:
            value = col.dt.to_string(spec.formats[0] if spec.formats else ISO_DATE_FORMATS[0])
        elif isinstance(dtype, pl.Decimal):
            negative = (pl.col("direction") == "out") if spec.signed else None
            value = format_amount(col, spec, negative)
        elif spec.map:
            inverse = _inverse(spec)
            text = col.cast(pl.String)
            value = text.replace_strict(
                list(inverse), list(inverse.values()), default=text, return_dtype=pl.String
            )
        else:
            value = col.cast(pl.String)
        if len(spec.columns) == 1:
            outputs[spec.columns[0]] = value
        else:  # several source columns joined by spaces: split the text back
            parts = value.str.splitn(" ", len(spec.columns))
            for i, name in enumerate(spec.columns):
                outputs[name] = parts.struct.field(f"field_{i}")
    return lf.select([expr.alias(name) for name, expr in outputs.items()]).collect()


def write_export(frame: pl.DataFrame | pl.LazyFrame, mapping: Mapping, path: str | Path) -> Path:
    """Render and write atomically in the mapping's source format."""
    rendered = render_export(frame, mapping)
    fmt = mapping.source.format or ("parquet" if str(path).endswith(".parquet") else "csv")
    if fmt == "parquet":
        return write_atomic(path, lambda p: rendered.write_parquet(p))
    if fmt == "ndjson":
        return write_atomic(path, lambda p: rendered.write_ndjson(p))
    return write_atomic(
        path,
        lambda p: rendered.write_csv(
            p, separator=mapping.source.delimiter, quote_char=mapping.source.quote or '"'
        ),
    )
