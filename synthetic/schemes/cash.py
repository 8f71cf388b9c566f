"""Structuring and cash injectors (HT-CSH-01…04)."""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.events import lognormal
from txflags.synthetic.schemes.base import Inst, hours_us

T = "cash."


def structuring(inst: Inst, c: int, splits: bool) -> None:
    """Cash deposits just under 10,000 within days; or same-day splits under 3,000 at agents."""
    bursts = max(1, inst.days // 30)
    for b in range(bursts):
        k = int(inst.rng.integers(2, 4))
        span = int(round(9 * (1 + inst.evasion)))
        d = b * 30 + np.sort(inst.rng.integers(0, span, k))
        d = np.clip(d, 0, inst.days - 1)
        inst.add(
            c,
            T + "structuring",
            inst.at(d, hours_us(inst.rng.uniform(9, 17, k))),
            "in",
            inst.under(10_000, k),
            "cash",
            location_id=pl.Series([f"BR-{int(x):04d}" for x in inst.rng.integers(1, 60, k)]),
        )
        if splits:
            m = int(inst.rng.integers(2, 4))
            day = np.full(m, min(inst.days - 1, b * 30 + 15))
            inst.add(
                c,
                T + "structuring",
                inst.at(day, hours_us(np.sort(inst.rng.uniform(10, 19, m)))),
                "out",
                inst.under(3_000, m),
                "money_transfer",
                mcc=4829,
                merchant="SENDHOME AGENT",
                cp_id=f"BEN-{inst.id}",
                cp_name=inst.names(1)[0],
                cp_country="MX",
                location_id=pl.Series(
                    [f"AGENT-{int(x):03d}" for x in inst.rng.choice(900, m, replace=False)]
                ),
            )


def night_atm_deposits(inst: Inst, c: int) -> None:
    """Cash deposited at ATMs late at night, often."""
    n = inst.per_period((5, 12))
    inst.add(
        c,
        T + "night_atm_deposits",
        inst.night(n, 0.75),
        "in",
        np.round(lognormal(inst.rng, n, 350, 0.5, 60, 2000), -1),
        "atm",
        mcc=6011,
        merchant="ATM DEPOSIT",
        location_id=pl.Series([f"ATM-{int(x):03d}" for x in inst.rng.integers(1, 99, n)]),
    )


def business_cash_excess(inst: Inst, biz: int) -> None:
    """Far more cash than the business's size explains, much of it outside hours."""
    n = inst.per_period((12, 20))
    inst.add(
        biz,
        T + "business_cash_excess",
        inst.night(n, 0.4),
        "in",
        np.round(lognormal(inst.rng, n, 2600, 0.4, 400, 9500), -1),
        "cash",
        location_id="BR-0003",
    )


def prepaid_loading(inst: Inst, c: int) -> None:
    """Frequent buying or reloading of prepaid cards."""
    n = inst.per_period((4, 8))
    names, mcc = cat.pick(inst.rng, cat.PREPAID, n)
    inst.add(
        c,
        T + "prepaid_loading",
        inst.when(n, "evening"),
        "out",
        np.round(lognormal(inst.rng, n, 200, 0.4, 50, 500), 2),
        "card",
        mcc=mcc,
        merchant=names,
    )
