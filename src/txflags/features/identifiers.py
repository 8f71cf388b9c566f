"""Shared identifiers: which customers share a phone, e-mail, address, ID number or device."""

from __future__ import annotations

import polars as pl

KINDS = ("phone", "email", "address", "id_number", "device_id")


def normalise(kind: str, col: pl.Expr) -> pl.Expr:
    """Canonical form of an identifier so that trivial spelling differences still match."""
    if kind == "phone":
        out = col.str.replace_all(r"\D", "")
        return pl.when(out.str.len_chars() >= 6).then(out.str.slice(-10))
    if kind == "email":
        return col.str.strip_chars().str.to_lowercase()
    if kind in ("address", "id_number"):
        out = col.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
        return pl.when(out.str.len_chars() > 0).then(out)
    return col


def identifier_long(accounts: pl.LazyFrame, rows: pl.LazyFrame, kinds: list[str]) -> pl.LazyFrame:
    """One row per (account, kind, identifier value) with the owner's customer_id and surname."""
    owner = accounts.select("account_id", "customer_id", "surname", "name")
    parts = []
    for kind in kinds:
        if kind == "device_id":
            dev = rows.filter(pl.col("device_id").is_not_null()).select(
                "account_id", pl.col("device_id").alias("ident")
            ).unique()
            parts.append(dev.join(owner, on="account_id").with_columns(pl.lit(kind).alias("kind")))
        else:
            parts.append(
                accounts.select(
                    "account_id", "customer_id", "surname", "name",
                    pl.lit(kind).alias("kind"), normalise(kind, pl.col(kind)).alias("ident"),
                )
            )
    cols = ["account_id", "customer_id", "surname", "name", "kind", "ident"]
    return pl.concat([p.select(cols) for p in parts]).filter(pl.col("ident").is_not_null())


def sharing_pairs(
    accounts: pl.LazyFrame, rows: pl.LazyFrame, kinds: list[str], exclude_same_surname: bool = True
) -> pl.LazyFrame:
    """Pairs (account_id, other_account_id, other_customer_id, kind) of different customers
    sharing an identifier; with ``exclude_same_surname`` pairs of one surname (a household)
    are left out."""
    long = identifier_long(accounts, rows, kinds)
    other = long.select(
        "kind", "ident",
        pl.col("account_id").alias("other_account_id"),
        pl.col("customer_id").alias("other_customer_id"),
        pl.col("surname").alias("other_surname"),
        pl.col("name").alias("other_name"),
    )
    pairs = long.join(other, on=["kind", "ident"]).filter(
        pl.col("customer_id") != pl.col("other_customer_id")
    )
    if exclude_same_surname:
        same = (pl.col("surname") == pl.col("other_surname")).fill_null(False)
        pairs = pairs.filter(~same)
    return pairs
