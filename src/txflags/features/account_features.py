"""Account features: one value per account (KYC data, identifiers, earlier-stage hits)."""

from __future__ import annotations

import polars as pl

from txflags.features.context import Context
from txflags.features.identifiers import KINDS, identifier_long, sharing_pairs
from txflags.features.registry import feature


def _value(frame: pl.LazyFrame, expr: pl.Expr) -> pl.LazyFrame:
    return frame.select("account_id", expr.alias("value"))


def _per_account(ctx: Context, per: pl.LazyFrame, fill: int | float = 0) -> pl.LazyFrame:
    return (
        ctx.accounts.select("account_id")
        .join(per, on="account_id", how="left")
        .with_columns(pl.col("value").fill_null(fill))
    )


def _check_kinds(kinds: list[str]) -> list[str]:
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"unknown identifier kind(s) {bad}; known: {', '.join(KINDS)}")
    return list(kinds)


@feature("account")
def account_value(ctx: Context, column: str) -> pl.LazyFrame:
    """The value of one account column (an Accounts column, age_years or quarterly_income_usd)."""
    return _value(ctx.accounts, pl.col(column))


@feature("account")
def age_years(ctx: Context) -> pl.LazyFrame:
    """The account holder's age in years at the as-of date (null without birth_date)."""
    return _value(ctx.accounts, pl.col("age_years"))


@feature("account")
def shared_identifier_count(
    ctx: Context, kind: str = "address", exclude_same_surname: bool = True
) -> pl.LazyFrame:
    """Customers (self included) sharing this account's ``kind`` identifier (phone, email,
    address, id_number, device_id), leaving out same-surname households; 1 = nobody else,
    0 = the account has no such identifier."""
    _check_kinds([kind])
    pairs = sharing_pairs(ctx.accounts, ctx.rows, [kind], exclude_same_surname)
    per = pairs.group_by("account_id").agg(
        (pl.col("other_customer_id").n_unique() + 1).cast(pl.Int64).alias("value")
    )
    has = identifier_long(ctx.accounts, ctx.rows, [kind]).select("account_id").unique()
    has = has.with_columns(pl.lit(1, pl.Int64).alias("value"))
    best = pl.concat([per, has]).group_by("account_id").agg(pl.col("value").max())
    return _per_account(ctx, best)


@feature("account")
def names_per_id(ctx: Context) -> pl.LazyFrame:
    """Distinct customer names recorded with this account's id_number across all accounts."""
    long = identifier_long(ctx.accounts, ctx.rows, ["id_number"]).with_columns(
        pl.col("name").str.to_lowercase().str.replace_all(r"[^a-z]", "").alias("_n")
    )
    per_id = long.group_by("ident").agg(pl.col("_n").drop_nulls().n_unique().alias("value"))
    per = long.join(per_id, on="ident").group_by("account_id").agg(pl.col("value").max())
    return _per_account(ctx, per.with_columns(pl.col("value").cast(pl.Int64)))


@feature("account")
def staff_flag_count(ctx: Context, flags: list) -> pl.LazyFrame:
    """How many of ``flags`` staff recorded in the account's staff_flags (';'-separated)."""
    wanted = [str(f).lower() for f in ctx.arg(flags)]
    tokens = (
        pl.col("staff_flags").str.to_lowercase().str.split(";")
        .list.eval(pl.element().str.strip_chars())
    )
    expr = tokens.list.set_intersection(wanted).list.len().fill_null(0).cast(pl.Int64)
    return _value(ctx.accounts, expr)


def _hits(ctx: Context, families: list | None) -> pl.LazyFrame:
    hits = ctx.hits
    if hits is None:
        hits = pl.LazyFrame(schema={"account_id": pl.String, "typology_id": pl.String,
                                    "family": pl.String})
    if families:
        hits = hits.filter(pl.col("family").is_in(list(families)))
    return hits


@feature("account", needs_hits=True)
def prior_hits(ctx: Context, families: list | None = None) -> pl.LazyFrame:
    """Second stage: distinct earlier-stage typologies (the rule's ``depends_on``, optionally
    only ``families``) that hit this account."""
    per = _hits(ctx, families).group_by("account_id").agg(
        pl.col("typology_id").n_unique().cast(pl.Int64).alias("value")
    )
    return _per_account(ctx, per)


@feature("account", needs_hits=True)
def sharers_with_hits(
    ctx: Context, kinds: list | None = None, families: list | None = None
) -> pl.LazyFrame:
    """Second stage: accounts (self included) linked to this one by a shared identifier of
    ``kinds`` (non-household) that were hit by an earlier-stage typology."""
    kinds = _check_kinds(list(kinds or ["phone", "email", "address", "device_id"]))
    pairs = sharing_pairs(ctx.accounts, ctx.rows, kinds)
    members = pl.concat(
        [
            pairs.select("account_id", pl.col("other_account_id").alias("member")),
            pairs.select("account_id", pl.col("account_id").alias("member")),
        ]
    ).unique()
    hit = _hits(ctx, families).select(pl.col("account_id").alias("member")).unique()
    per = members.join(hit, on="member").group_by("account_id").agg(
        pl.col("member").n_unique().cast(pl.Int64).alias("value")
    )
    return _per_account(ctx, per)


@feature("account")
def linked_businesses(
    ctx: Context, business_words: list, kinds: list | None = None
) -> pl.LazyFrame:
    """Business accounts whose business_type or occupation contains one of ``business_words``
    that share an identifier (``kinds``) with this account, self included if it is one."""
    kinds = _check_kinds(list(kinds or ["phone", "email", "address"]))
    words = [str(w).lower() for w in ctx.arg(business_words)]
    text = pl.concat_str(
        [pl.col("business_type").fill_null(""), pl.col("occupation").fill_null("")],
        separator=" ",
    ).str.to_lowercase()
    venue = ctx.accounts.filter(
        (pl.col("customer_type") == "business") & text.str.contains_any(words)
    ).select(pl.col("account_id").alias("member"))
    pairs = sharing_pairs(ctx.accounts, ctx.rows, kinds, exclude_same_surname=False)
    members = pl.concat(
        [
            pairs.select("account_id", pl.col("other_account_id").alias("member")),
            ctx.accounts.select("account_id", pl.col("account_id").alias("member")),
        ]
    ).unique()
    per = members.join(venue, on="member").group_by("account_id").agg(
        pl.col("member").n_unique().cast(pl.Int64).alias("value")
    )
    return _per_account(ctx, per)
