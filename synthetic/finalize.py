"""Turn a chunk's internal events into canonical ``Transactions`` rows and truth rows."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl
import pyarrow as pa

from txflags.schema import MONEY, Transactions
from txflags.synthetic.cities import COUNTRIES, NAMES, REGIONS, USD_RATES, utc_offsets
from txflags.synthetic.context import Ctx
from txflags.synthetic.events import DAY_US
from txflags.synthetic.truth import TRUTH_TXN_SCHEMA

_NAMES = pl.Series(NAMES, dtype=pl.String)
_REGIONS = pl.Series(REGIONS, dtype=pl.String)
_COUNTRIES = pl.Series(COUNTRIES, dtype=pl.String)

#: Internal columns carried over to the output (the rest is derived below).
_CARRIED = (
    "direction", "channel", "mcc", "merchant", "cp_id", "cp_name", "cp_country", "place",
    "country", "location_id", "memo", "online", "wallet_address", "wallet_category",
    "passenger_name", "inst", "typ",
)  # fmt: skip


@lru_cache(maxsize=8)
def _offsets(start: date, days: int) -> np.ndarray:
    out = utc_offsets(start, days)
    out.flags.writeable = False
    return out


def _order(ts: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Indices of the kept rows sorted by (ts, index): ``ts`` is in whole seconds (as µs)."""
    kept = np.flatnonzero(keep)
    n = len(tk := ts[kept])
    if n == 0:
        return kept
    sec = tk // 1_000_000
    lo = int(sec.min())
    if (int(sec.max()) - lo + 1) * n < 2**62:
        # one unique int64 key per row: an unstable sort gives the stable order, faster
        key = (sec - lo) * n + np.arange(n)
        key.sort()
        return kept[key % n]
    return kept[np.argsort(tk, kind="stable")]


def _txn_ids(prefix: str, n: int) -> pl.Series:
    """``prefix`` followed by 0, 1, …, n - 1 zero-filled to 8 digits, built as raw bytes."""
    if n >= 10**8:
        return (prefix + pl.Series(np.arange(n)).cast(pl.String).str.zfill(8)).alias("txn_id")
    width = len(prefix) + 8
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    r = np.arange(n, dtype=np.int64)
    for k in range(8):
        buf[:, width - 1 - k] = 48 + r % 10
        r //= 10
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )
    return pl.Series("txn_id", arr, dtype=pl.String)


def finalize(ctx: Ctx, ev: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sorted ``Transactions`` of the chunk (by ts, then generation order) and its truth rows.

    Rows whose local day falls outside the period are dropped. ``txn_id`` is
    ``T<chunk:05d><rank:08d>`` so that ids are unique and follow the file order.
    """
    pop = ctx.pop
    cust = ev["cust"].to_numpy()
    loc = ev["loc"].fill_null(-1).to_numpy().astype(np.int64)
    loc = np.where(loc < 0, pop.city[cust], loc)
    ts = ev["ts"].to_numpy()
    day = (ts - ctx.t0) // DAY_US
    off = _offsets(ctx.start, ctx.days)[loc, np.clip(day + 1, 0, ctx.days + 1)]
    ts_utc = (ts - off * 1_000_000) // 1_000_000 * 1_000_000  # bank exports book whole seconds
    # keep the period's rows, ordered by (ts, generation order): one stable sort, one gather
    order = _order(ts_utc, (day >= 0) & (day < ctx.days))
    cust, loc, ts_utc = cust[order], loc[order], ts_utc[order]
    rate = np.array([USD_RATES[c] for c in pop.currency()])[cust]
    cents = np.maximum(1, np.rint(ev["usd"].to_numpy()[order] / rate * 100)).astype(np.int64)
    acc = pop.account_ids()
    cid = pop.customer_ids()
    names = pl.Series(pop.name, dtype=pl.String)
    home_country = pl.Series([COUNTRIES[c] for c in pop.city], dtype=pl.String)
    device = pl.Series(pop.device, dtype=pl.String)
    ip = pl.Series(pop.ip, dtype=pl.String)
    cust_s = pl.Series(cust)
    loc_s = pl.Series(loc)
    ev = ev.select("cp_cust", *_CARRIED)[pl.Series(order, dtype=pl.get_index_type())]
    cp = ev["cp_cust"]
    internal = cp.is_not_null()
    cp_idx = cp.fill_null(0)
    df = (
        ev.lazy()
        .select(
            txn_id=pl.lit(_txn_ids(f"T{ctx.chunk:05d}", len(order))),
            ts=pl.lit(pl.Series(ts_utc)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
            account_id=pl.lit(acc.gather(cust_s)),
            customer_id=pl.lit(cid.gather(cust_s)),
            direction=pl.col("direction"),
            amount=pl.lit(pl.Series(cents).cast(MONEY) / 100),
            currency=pl.lit(pl.Series(pop.currency(), dtype=pl.String).gather(cust_s)),
            # the same arithmetic as ingestion: float(amount) x rate
            amount_usd=pl.lit(pl.Series(cents / 100 * rate)),
            channel=pl.col("channel"),
            mcc=pl.col("mcc"),
            merchant=pl.col("merchant"),
            counterparty_id=pl.when(internal).then(acc.gather(cp_idx)).otherwise(pl.col("cp_id")),
            counterparty_name=pl.when(internal)
            .then(names.gather(cp_idx))
            .otherwise(pl.col("cp_name")),
            counterparty_country=pl.when(internal)
            .then(home_country.gather(cp_idx))
            .otherwise(pl.col("cp_country")),
            country=pl.coalesce(
                pl.col("country"),
                pl.when(pl.col("place")).then(_COUNTRIES.gather(loc_s)),
            ),
            city=pl.when(pl.col("place")).then(_NAMES.gather(loc_s)),
            region=pl.when(pl.col("place")).then(_REGIONS.gather(loc_s)),
            location_id=pl.col("location_id"),
            memo=pl.col("memo"),
            device_id=pl.when(pl.col("online")).then(device.gather(cust_s)),
            ip=pl.when(pl.col("online")).then(ip.gather(cust_s)),
            wallet_address=pl.col("wallet_address"),
            wallet_category=pl.col("wallet_category"),
            passenger_name=pl.col("passenger_name"),
            inst=pl.col("inst"),
            typ=pl.col("typ"),
        )
        .collect()
    )
    truth = (
        df.lazy()
        .filter(pl.col("typ").is_not_null())
        .select("txn_id", instance_id="inst", typology_id=pl.col("typ").str.split(";"))
        .explode("typology_id")
        .cast(dict(TRUTH_TXN_SCHEMA))
        .collect()
    )
    return Transactions.conform(df).collect(), truth
