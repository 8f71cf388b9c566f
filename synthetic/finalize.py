"""Turn a chunk's internal events into canonical ``Transactions`` rows and truth rows."""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.schema import MONEY, Transactions
from txflags.synthetic.cities import COUNTRIES, NAMES, REGIONS, USD_RATES, utc_offsets
from txflags.synthetic.context import Ctx
from txflags.synthetic.events import DAY_US
from txflags.synthetic.truth import TRUTH_TXN_SCHEMA


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
    keep = (day >= 0) & (day < ctx.days)
    off = utc_offsets(ctx.start, ctx.days)[loc, np.clip(day + 1, 0, ctx.days + 1)]
    ts_utc = ts - off * 1_000_000
    rate_of = np.array([USD_RATES[c] for c in pop.currency()])
    rate = rate_of[cust]
    cents = np.maximum(1, np.rint(ev["usd"].to_numpy() / rate * 100)).astype(np.int64)
    acc = pop.account_ids()
    cid = pop.customer_ids()
    names = pl.Series(pop.name, dtype=pl.String)
    home_country = pl.Series([COUNTRIES[c] for c in pop.city], dtype=pl.String)
    cp = ev["cp_cust"]
    cp_idx = cp.fill_null(0).to_numpy()
    internal = cp.is_not_null()
    device = pl.Series(pop.device, dtype=pl.String)
    ip = pl.Series(pop.ip, dtype=pl.String)
    loc_s = pl.Series(loc)
    df = (
        ev.with_columns(
            seq=pl.int_range(pl.len(), dtype=pl.Int64),
            ts=pl.Series(ts_utc // 1_000_000 * 1_000_000),  # bank exports book whole seconds
            keep=pl.Series(keep),
            account_id=acc.gather(cust),
            customer_id=cid.gather(cust),
            currency=pl.Series(pop.currency(), dtype=pl.String).gather(cust),
            amount=pl.Series(cents).cast(MONEY) / 100,
            # the same arithmetic as ingestion: float(amount) x rate
            amount_usd=pl.Series(cents / 100 * rate),
            counterparty_id=pl.when(internal).then(acc.gather(cp_idx)).otherwise(ev["cp_id"]),
            counterparty_name=pl.when(internal).then(names.gather(cp_idx)).otherwise(ev["cp_name"]),
            counterparty_country=pl.when(internal)
            .then(home_country.gather(cp_idx))
            .otherwise(ev["cp_country"]),
            city=pl.when(pl.col("place")).then(pl.Series(NAMES).gather(loc_s)),
            region=pl.when(pl.col("place")).then(pl.Series(REGIONS).gather(loc_s)),
            country=pl.coalesce(
                pl.col("country"), pl.when(pl.col("place")).then(pl.Series(COUNTRIES).gather(loc_s))
            ),
            device_id=pl.when(pl.col("online")).then(device.gather(cust)),
            ip=pl.when(pl.col("online")).then(ip.gather(cust)),
        )
        .filter(pl.col("keep"))
        .sort(["ts", "seq"])
    )
    prefix = f"T{ctx.chunk:05d}"
    df = df.with_columns(
        txn_id=pl.lit(prefix) + pl.int_range(pl.len()).cast(pl.String).str.zfill(8),
        ts=pl.col("ts").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    )
    truth = (
        df.filter(pl.col("typ").is_not_null())
        .select("txn_id", instance_id="inst", typology_id=pl.col("typ").str.split(";"))
        .explode("typology_id")
        .cast(dict(TRUTH_TXN_SCHEMA))
    )
    return Transactions.conform(df).collect(), truth
