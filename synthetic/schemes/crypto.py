"""Crypto cash-out injectors (HT-CRY-01…06)."""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.events import lognormal, take
from txflags.synthetic.schemes.base import Inst, hours_us

T = "crypto."


def wallet(inst: Inst, tag: str) -> str:
    h = int(inst.rng.integers(0, 2**62))
    return f"bc1q{h:016x}{tag[:4]}"


def small_frequent_buys(inst: Inst, c: int) -> None:
    """Many tiny fiat-to-crypto buys on irregular days."""
    n = inst.per_period((6, 12))
    names, mcc = cat.pick(inst.rng, cat.CRYPTO_EXCHANGE, n)
    inst.add(
        c,
        T + "small_frequent_buys",
        inst.when(n, "late"),
        "out",
        np.round(inst.rng.choice([3, 12, 24, 20, 25, 40, 50], n) * 1.0, 2),
        "card",
        mcc=mcc,
        merchant=names,
        online=True,
        place=False,
    )


def night_small_payments(inst: Inst, c: int, address: str, category: str) -> None:
    """Small crypto payments at night to one address cluster (and its risky exposure)."""
    n = inst.per_period((3, 8))
    d = inst.days_in(n)
    t = hours_us(
        np.where(
            inst.rng.random(n) < 0.75, inst.rng.uniform(23, 29, n), inst.rng.uniform(12, 22, n)
        )
    )
    inst.ctx.buf.add(
        np.full(n, c, dtype=np.int32),
        np.sort(inst.at(d, t)),
        "out",
        np.round(lognormal(inst.rng, n, 30, 0.5, 10, 100), 2),
        "crypto",
        wallet_address=address,
        wallet_category=category,
        online=True,
        place=False,
        merchant="BTC TRANSFER",
        inst=inst.id,
        typ=T + "night_small_payments;" + T + "high_risk_exposure",
    )
    inst.flag(c, T + "night_small_payments")
    inst.flag(c, T + "high_risk_exposure")


def high_risk_inflow(inst: Inst, c: int) -> None:
    """Coins received from a mixer or darknet cluster, then cashed out."""
    n = inst.per_period((1, 3))
    cat_ = ("mixer", "darknet_market", "sexual_services")[int(inst.rng.integers(0, 3))]
    inst.add(
        c,
        T + "high_risk_exposure",
        inst.when(n, "any"),
        "in",
        np.round(lognormal(inst.rng, n, 2500, 0.6, 300, 20000), 2),
        "crypto",
        wallet_address=wallet(inst, "risk"),
        wallet_category=cat_,
        merchant="BTC TRANSFER",
        online=True,
        place=False,
    )


def pooled_third_party_to_vasp(inst: Inst, c: int) -> None:
    """Weekly: credits from many unrelated parties, then most of it sent to an exchange."""
    exch = wallet(inst, "exch")
    for w in range(max(1, inst.days // 7)):
        k = int(inst.rng.integers(5, 10))
        ts = inst.when(k, "any", w * 7, min(inst.days, w * 7 + 4))
        usd = np.round(lognormal(inst.rng, k, 300, 0.5, 40, 2500), 2)
        ch = take(pl.Series(["p2p", "cash", "wire", "p2p"]), inst.rng.integers(0, 4, k))
        inst.add(
            c,
            T + "pooled_third_party_to_vasp",
            ts,
            "in",
            usd,
            ch,
            cp_id=pl.Series([f"PAYER-{inst.id}-{w}-{i}" for i in range(k)]),
            cp_name=inst.names(k),
            online=True,
            place=False,
        )
        out_ts = ts.max() + hours_us(inst.rng.uniform(2, inst.stretch(40), 1))
        inst.add(
            c,
            T + "pooled_third_party_to_vasp",
            out_ts,
            "out",
            np.round(usd.sum() * inst.rng.uniform(0.82, 0.97, 1), 2),
            "crypto",
            merchant="BLOCKVAULT EXCHANGE",
            wallet_address=exch,
            wallet_category="exchange",
            online=True,
            place=False,
        )


def kiosk_near_limit(inst: Inst, c: int, limit: float = 3000.0) -> None:
    """Cash pushed into crypto kiosks just under the operator's ID limit, several kiosks a day."""
    n = inst.per_period((4, 8))
    d = np.repeat(inst.days_in((n + 1) // 2), 2)[:n]
    ts = np.sort(inst.at(d, hours_us(inst.rng.uniform(9, 23, n))))
    kiosk = pl.Series([f"KIOSK-{int(k):03d}" for k in inst.rng.integers(1, 60, n)])
    inst.add(
        c,
        T + "kiosk_near_limit",
        ts,
        "out",
        inst.under(limit, n),
        "crypto",
        merchant="COINBOX BTM",
        memo="BTM CASH-IN",
        location_id=kiosk,
        wallet_address=wallet(inst, "kiosk"),
        wallet_category="exchange",
    )


def large_stablecoin(inst: Inst, c: int) -> None:
    """Large USDT/USDC transfers linked to escort-service or guarantee-market clusters."""
    n = inst.per_period((2, 4))
    cat_ = ("escort_service", "guarantee_marketplace")[int(inst.rng.integers(0, 2))]
    inst.add(
        c,
        T + "large_stablecoin",
        inst.when(n, "any"),
        "in" if inst.rng.random() < 0.5 else "out",
        np.round(lognormal(inst.rng, n, 16000, 0.4, 10000, 90000), 2),
        "crypto",
        memo=("USDT TRC20", "USDC ERC20")[int(inst.rng.integers(0, 2))],
        wallet_address=wallet(inst, "usdt"),
        wallet_category=cat_,
        online=True,
        place=False,
    )
