"""Advertising-platform injectors (HT-ADV-01…04)."""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.events import take
from txflags.synthetic.schemes.base import Inst, hours_us

T = "ad_platform."
FEES = np.array([3.0, 12.0, 24.0, 12.0, 24.0, 5.0])


def small_repeated_fees(inst: Inst, c: int, foreign: bool) -> None:
    """Many small posting/bump fees to escort and classified ad sites, in repeating amounts."""
    n = inst.per_period((6, 14))
    usd = FEES[inst.rng.integers(0, len(FEES), n)]
    if inst.evasion:
        usd = np.round(usd + inst.rng.uniform(0, 2 * inst.evasion, n), 2)
    names, mcc = cat.pick(inst.rng, cat.AD_SITES, n)
    typ = T + "small_repeated_fees"
    country = None
    if foreign:
        typ += ";" + T + "foreign_ad_hosting"
        country = ("NL", "CY", "MT")[int(inst.rng.integers(0, 3))]
    inst.ctx.buf.add(
        np.full(n, c, dtype=np.int32),
        inst.when(n, "late"),
        "out",
        usd,
        "card",
        mcc=mcc,
        merchant=names,
        country=country,
        cp_country=country,
        online=True,
        place=False,
        inst=inst.id,
        typ=typ,
    )
    for t in typ.split(";"):
        inst.flag(c, t)


def high_monthly_spend(inst: Inst, c: int) -> None:
    """Premium ads and hosting paid from a personal account, over 200 a month."""
    months = max(1, inst.days // 30)
    for m in range(months):
        n = int(inst.rng.integers(2, 5))
        total = inst.rng.uniform(230, 650)
        usd = np.round(total * inst.rng.dirichlet(np.ones(n)), 2)
        names, mcc = cat.pick(inst.rng, cat.AD_HOSTING, n)
        inst.add(
            c,
            T + "high_monthly_spend",
            inst.when(n, "evening", m * 30, m * 30 + 30),
            "out",
            usd,
            "card",
            mcc=mcc,
            merchant=names,
            online=True,
            place=False,
        )


def prepaid_or_crypto_then_ads(inst: Inst, c: int) -> None:
    """Prepaid value or crypto bought, then an ad paid from it within hours."""
    n = inst.per_period((2, 4))
    buy_ts = inst.when(n, "evening")
    use_crypto = inst.rng.random(n) < 0.4
    amt = np.round(inst.rng.uniform(40, 150, n), 2)
    inst.add(
        c,
        T + "prepaid_or_crypto_then_ads",
        buy_ts,
        "out",
        amt,
        "card",
        mcc=np.where(use_crypto, 6051, 6540).astype(np.int16),
        merchant=take(
            pl.Series(["PREPAID LOAD*VANILLACARD", "COINSWIFT*BUY"]), use_crypto.astype(np.int64)
        ),
        online=True,
        place=False,
    )
    names, mcc = cat.pick(inst.rng, cat.AD_SITES, n)
    inst.add(
        c,
        T + "prepaid_or_crypto_then_ads",
        buy_ts + hours_us(inst.rng.uniform(0.5, inst.stretch(40), n)),
        "out",
        np.round(amt * inst.rng.uniform(0.2, 0.9, n), 2),
        take(pl.Series(["prepaid", "crypto"]), use_crypto.astype(np.int64)),
        mcc=mcc,
        merchant=names,
        online=True,
        place=False,
    )
