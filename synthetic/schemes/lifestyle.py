"""Card-spend lifestyle injectors (HT-LIF-01…04)."""

from __future__ import annotations

import numpy as np

from txflags.synthetic import catalog as cat
from txflags.synthetic.events import lognormal
from txflags.synthetic.schemes.base import Inst, hours_us
from txflags.synthetic.schemes.lodging import Itinerary

T = "lifestyle."


def upkeep_basket(inst: Inst, c: int, it: Itinerary) -> None:
    """Many small buys: fast food, convenience, pharmacy, cosmetics, lingerie, nails."""
    n = inst.per_period((26, 40))
    ts = inst.night(n, 0.35)
    day = (ts - inst.ctx.t0) // 86_400_000_000
    names, mcc = cat.pick(inst.rng, cat.UPKEEP, n)
    inst.add(
        c,
        T + "upkeep_basket",
        ts,
        "out",
        np.round(lognormal(inst.rng, n, 16, 0.6, 2, 59), 2),
        "card",
        mcc=mcc,
        merchant=names,
        loc=it.city_on(day),
    )


def after_hours_venue(inst: Inst, biz: int, mcc: int, name: str) -> None:
    """A venue's own card sales, a large share of them late at night."""
    n = inst.per_period((40, 80))
    inst.add(
        biz,
        T + "after_hours_venue",
        inst.night(n, 0.45),
        "in",
        np.round(lognormal(inst.rng, n, 90, 0.4), 2),
        "card",
        mcc=mcc,
        merchant=name,
        memo="CARD SALE",
    )


def business_upkeep_no_payroll(inst: Inst, biz: int, units: int) -> None:
    """A business that houses and feeds people: groceries, rooms, vans, rent; no payroll.

    Upkeep is sized to the business as well as to the people it houses: the workers' housing,
    food and transport are a large part of what such a front spends (a third or more of its
    turnover), so the footprint is not lost under its ordinary supplier payments."""
    inst.pop.payroll[biz] = False
    weeks = max(1, inst.days // 7)
    months = max(1, inst.days // 30)
    per_day = float(inst.pop.income[biz]) / 365 * inst.rng.uniform(0.3, 0.4)
    grocery = max(140.0 * units, per_day * 7 * 0.45)
    housing = max(450.0 * units, per_day * 15 * 0.55)
    ts = inst.when(weeks, "office")
    names, mcc = cat.pick(inst.rng, cat.BULK_GROCERY, weeks)
    inst.add(
        biz,
        T + "business_upkeep_no_payroll",
        ts,
        "out",
        np.round(lognormal(inst.rng, weeks, grocery, 0.3), 2),
        "card",
        mcc=mcc,
        merchant=names,
    )
    names, mcc = cat.pick(inst.rng, cat.RENTAL_AGENT + cat.CAR_RENTAL, months * 2)
    inst.add(
        biz,
        T + "business_upkeep_no_payroll",
        inst.when(months * 2, "office"),
        "out",
        np.round(lognormal(inst.rng, months * 2, housing, 0.3), 2),
        "card",
        mcc=mcc,
        merchant=names,
    )


def controller_luxury(inst: Inst, c: int) -> None:
    """Jewellery, car rentals, nightclubs and designer clothes on little declared income."""
    n = inst.per_period((3, 6))
    names, mcc = cat.pick(inst.rng, cat.LUXURY, n)
    usd = np.round(lognormal(inst.rng, n, 450, 0.7, 120, 6000), 2)
    if usd.sum() < 700 * max(1, inst.days / 30):
        usd = usd * (700 * max(1, inst.days / 30) / usd.sum())
    inst.add(
        c,
        T + "controller_luxury",
        inst.at(inst.days_in(n), hours_us(inst.rng.uniform(12, 26, n))),
        "out",
        np.round(usd, 2),
        "card",
        mcc=mcc,
        merchant=names,
    )
