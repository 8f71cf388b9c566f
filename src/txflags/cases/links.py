"""Edges between accounts: money sent from one monitored account to another, identifiers
(phone, e-mail, address, identity document, device, IP, wallet) that two accounts share, and
an outside beneficiary both send money to by transfer, P2P, wire or crypto.

Both are small summaries computed lazily from the night's lookback rows and the accounts table,
restricted to pairs where at least one side already has a signal.
"""

from __future__ import annotations

import polars as pl

#: Identifier columns that tie two customers together (DESIGN §7), per table.
ACCOUNT_IDENTIFIERS = ("phone", "email", "address", "id_number")
TXN_IDENTIFIERS = ("device_id", "ip", "wallet_address")
#: Channels on which paying the same outside beneficiary ties two customers (HT-REM-03);
#: card payments to the same merchant do not.
BENEFICIARY_CHANNELS = ("money_transfer", "p2p", "wire", "crypto")

LINKS_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "target": pl.String,
        "kind": pl.String,  # "money" or "shared:<column>"
        "n": pl.UInt32,
        "total_usd": pl.Float64,
    }
)


def money_links(rows: pl.LazyFrame, monitored: pl.Series, interest: pl.Series) -> pl.LazyFrame:
    """Payer → payee totals between monitored accounts, where either side is of interest."""
    mon = pl.LazyFrame({"_acct": monitored.unique()})
    out = (
        rows.filter((pl.col("direction") == "out") & pl.col("counterparty_id").is_not_null())
        .filter(pl.col("account_id").is_in(interest.implode())
                | pl.col("counterparty_id").is_in(interest.implode()))
        .join(mon, left_on="counterparty_id", right_on="_acct", how="semi")
        .filter(pl.col("account_id") != pl.col("counterparty_id"))
        .group_by(pl.col("account_id").alias("source"), pl.col("counterparty_id").alias("target"))
        .agg(pl.len().cast(pl.UInt32).alias("n"), pl.col("amount_usd").sum().alias("total_usd"))
        .with_columns(pl.lit("money").alias("kind"))
    )
    return out.select(LINKS_SCHEMA.names())


def _shared(pairs: pl.LazyFrame, column: str, interest: pl.Series, max_group: int) -> pl.LazyFrame:
    """Pairs (interesting account, other account) sharing one value of ``column``."""
    vals = (
        pairs.select("account_id", pl.col(column).cast(pl.String).alias("_v"))
        .unique()  # (account, value) pairs are far fewer than rows: normalise those
        .with_columns(pl.col("_v").str.strip_chars().str.to_lowercase())
        .filter(pl.col("_v").is_not_null() & (pl.col("_v") != ""))
        .unique()
    )
    groups = (
        vals.group_by("_v").agg(pl.col("account_id").alias("_members"))
        .filter(pl.col("_members").list.len().is_between(2, max_group))
        .explode("_members").rename({"_members": "account_id"})
    )
    left = groups.filter(pl.col("account_id").is_in(interest.implode()))
    return (
        left.join(groups, on="_v", suffix="_b")
        .filter(pl.col("account_id") != pl.col("account_id_b"))
        .group_by(pl.col("account_id").alias("source"), pl.col("account_id_b").alias("target"))
        .agg(pl.len().cast(pl.UInt32).alias("n"))
        .with_columns(pl.lit(0.0).alias("total_usd"), pl.lit(f"shared:{column}").alias("kind"))
        .select(LINKS_SCHEMA.names())
    )


def links(
    rows: pl.LazyFrame,
    accounts: pl.DataFrame,
    interest: pl.Series,
    *,
    max_group: int = 10,
) -> pl.DataFrame:
    """All links touching ``interest`` accounts (money flows and shared identifiers), collected.

    An identifier held by more than ``max_group`` accounts (a shared office phone, a carrier-grade
    NAT address) is too common to mean anything and links nobody.
    """
    names = rows.collect_schema().names()
    # the columns the links read, once (several plans read them; the rows are a lookback of
    # history files)
    wanted = ["account_id", "counterparty_id", "direction", "channel", "amount_usd",
              *(c for c in TXN_IDENTIFIERS if c in names)]
    rows = rows.select(wanted).collect().lazy()
    plans = [money_links(rows, accounts["account_id"], interest)]
    acc = accounts.lazy()
    for col in ACCOUNT_IDENTIFIERS:
        if col in accounts.columns:
            plans.append(_shared(acc, col, interest, max_group))
    for col in TXN_IDENTIFIERS:
        if col in names:
            plans.append(_shared(rows.filter(pl.col(col).is_not_null()), col, interest, max_group))
    outside = rows.filter(
        (pl.col("direction") == "out")
        & pl.col("channel").cast(pl.String).is_in(BENEFICIARY_CHANNELS)
        & pl.col("counterparty_id").is_not_null()
        & ~pl.col("counterparty_id").is_in(accounts["account_id"].implode())
    ).select("account_id", pl.col("counterparty_id").alias("beneficiary"))
    plans.append(_shared(outside, "beneficiary", interest, max_group))
    frames = pl.collect_all(plans)
    return pl.concat([f.cast(LINKS_SCHEMA) for f in frames], how="vertical").sort(
        "source", "target", "kind"
    )
