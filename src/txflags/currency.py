"""Currency codes and USD normalisation.

``amount_usd`` is for thresholds only; reported money stays exact in ``amount``. Rates come from a
bundled table of fixed reference rates (``data/rates.csv``: not market rates) or from the user's
own CSV, either undated (``currency,usd_per_unit``) or dated (``currency,date,usd_per_unit``: the
rate of the latest date on or before the transaction's UTC date applies).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import polars as pl

from txflags.errors import InputError

RATE_COLUMNS = ("currency", "usd_per_unit")


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 active codes plus the crypto tickers txflags accepts."""
    text = files("txflags").joinpath("data/currencies.txt").read_text(encoding="utf-8")
    codes = [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]
    return frozenset(codes)


def load_rates(path: str | Path | None = None) -> pl.DataFrame:
    """Read a rate table: columns currency, usd_per_unit and optionally date (YYYY-MM-DD)."""
    where = "bundled reference rates" if path is None else str(path)
    try:
        source = files("txflags").joinpath("data/rates.csv") if path is None else Path(path)
        table = pl.read_csv(source.read_bytes(), infer_schema=False)
    except OSError as exc:
        raise InputError(f"cannot read rate table {where}: {exc.strerror or exc}") from None
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"rate table {where} is not a readable CSV: {exc}") from None
    if "rate" in table.columns and "usd_per_unit" not in table.columns:
        table = table.rename({"rate": "usd_per_unit"})
    missing = [c for c in RATE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"rate table {where} lacks column(s) {missing}; write a CSV with the header "
            "`currency,usd_per_unit` (add a `date` column for dated rates)"
        )
    cols = [
        pl.col("currency").str.strip_chars().str.to_uppercase(),
        pl.col("usd_per_unit").str.strip_chars().cast(pl.Float64, strict=False),
    ]
    if "date" in table.columns:
        cols.append(pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False))
    parsed = table.select(cols)
    bad = parsed.filter(
        pl.col("usd_per_unit").is_null()
        | (pl.col("usd_per_unit") <= 0)
        | (pl.col("date").is_null() if "date" in parsed.columns else pl.lit(False))
    )
    if bad.height:
        raise InputError(
            f"rate table {where}: {bad.height} row(s) have a rate that is not a positive number "
            f"or a date not in YYYY-MM-DD (first: {bad.row(0)})"
        )
    unknown = sorted(set(parsed["currency"]) - known_currencies())
    if unknown:
        raise InputError(f"rate table {where}: unknown currency code(s) {unknown}")
    keys = ["currency", "date"] if "date" in parsed.columns else ["currency"]
    if parsed.select(pl.struct(keys).is_duplicated().any()).item():
        raise InputError(f"rate table {where}: the same {'/'.join(keys)} appears twice")
    return parsed.sort(keys)


def attach_usd(frame: pl.LazyFrame, rates: pl.DataFrame, keep_given: bool = False) -> pl.LazyFrame:
    """Set ``amount_usd`` from ``amount``, ``currency`` and ``ts`` (null where no rate applies).

    ``keep_given``: the frame already has ``amount_usd`` from the export; keep it where present.
    Undated rates are a vectorised lookup; dated rates are resolved once per (currency, day)
    present in the batch, then hash-joined back.
    """
    if "date" not in rates.columns:
        rate = pl.col("currency").replace_strict(
            rates["currency"], rates["usd_per_unit"], default=None, return_dtype=pl.Float64
        )
        joined = frame.with_columns(rate.alias("__rate"))
    else:
        day = pl.col("ts").dt.date().alias("__day")
        pairs = (
            frame.select("currency", day)
            .unique()
            .drop_nulls()
            .sort("__day")
            .join_asof(
                rates.lazy().rename({"date": "__day", "usd_per_unit": "__rate"}).sort("__day"),
                on="__day",
                by="currency",
                strategy="backward",
                check_sortedness=False,
            )
        )
        joined = (
            frame.with_columns(day)
            .join(pairs, on=["currency", "__day"], how="left", maintain_order="left")
            .drop("__day")
        )
    computed = pl.col("amount").cast(pl.Float64) * pl.col("__rate")
    if keep_given:
        computed = pl.coalesce(pl.col("amount_usd"), computed)
    return joined.with_columns(computed.alias("amount_usd")).drop("__rate")
