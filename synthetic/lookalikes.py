"""Hard lookalikes: benign customers (label 0) who match a typology on one or two indicators
but not on the indicators that co-occur in real schemes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.events import lognormal, take
from txflags.synthetic.legit import monthly, periodic
from txflags.synthetic.schemes.base import Inst, Pool, hours_us, set_age


def _rows(
    inst: Inst, c: int, ts: np.ndarray, direction: str, usd: object, channel: object, **kw: object
) -> None:
    if len(ts):
        inst.ctx.buf.add(np.full(len(ts), c, dtype=np.int32), ts, direction, usd, channel, **kw)


def _one(inst: Inst, pool: Pool, name: str, family: str, business: bool = False) -> int | None:
    got = pool.take(1, business=business)
    if got is None:
        return None
    inst.ctx.truth.lookalike(got[0], inst.id, name, family)
    return got[0]


def migrant_remitter(inst: Inst, pool: Pool) -> bool:
    """Sends part of each pay cheque home, to one relative, by day (REM-02 on amount/corridor)."""
    c = _one(inst, pool, "migrant_remitter", "remittance")
    if c is None:
        return False
    pop = inst.pop
    pop.payroll[c] = True
    pop.occupation[c] = ("construction worker", "cook", "caregiver")[int(inst.rng.integers(0, 3))]
    country = ("PH", "MX", "DO", "CO")[int(inst.rng.integers(0, 4))]
    pop.migrant[c] = None
    _, day = periodic(np.array([c]), np.array([int(inst.rng.integers(1, 14))]), 14, inst.days)
    n = len(day)
    _rows(
        inst,
        c,
        inst.at(day, hours_us(inst.rng.uniform(10, 19, n))),
        "out",
        np.round(lognormal(inst.rng, n, 260, 0.3, 80, 900), 2),
        "money_transfer",
        mcc=4829,
        merchant="GLOBALREMIT ONLINE",
        cp_id=f"BEN-FAM-{pop.gidx[c]}",
        cp_name=f"{inst.names(1)[0].split()[0]} {pop.name[c].split()[-1]}",
        cp_country=country,
        memo=take(
            pl.Series(["family support", "tuition", "family support", "medicine"]),
            inst.rng.integers(0, 4, n),
        ),
        online=True,
        place=False,
    )
    return True


def _traveller(
    inst: Inst, c: int, occupation: str, merchants: cat.Merchants, hours: tuple[float, float]
) -> None:
    """Trips every ten days through three other cities, one night each, with a salary."""
    pop = inst.pop
    pop.payroll[c] = True
    pop.occupation[c] = occupation
    stops = inst.other_us_cities(5, int(pop.city[c]))
    trips = max(1, inst.days // 10)
    d0 = np.repeat(np.arange(trips) * 10 + inst.rng.integers(0, 3, trips), 3)
    day = np.minimum(inst.days - 1, d0 + np.tile(np.arange(3), trips))
    city = stops[inst.rng.integers(0, len(stops), len(day))]
    n = len(day)
    names, mcc = cat.pick(inst.rng, merchants, n)
    _rows(
        inst,
        c,
        inst.at(day, hours_us(inst.rng.uniform(7, 10, n))),
        "out",
        np.round(lognormal(inst.rng, n, 110, 0.3), 2),
        "card",
        mcc=mcc,
        merchant=names,
        loc=city,
    )
    k = np.repeat(np.arange(n), 2)
    names, mcc = cat.pick(inst.rng, cat.FASTFOOD + cat.FUEL, len(k))
    _rows(
        inst,
        c,
        inst.at(day[k], hours_us(inst.rng.uniform(*hours, len(k)))),
        "out",
        np.round(lognormal(inst.rng, len(k), 22, 0.5), 2),
        "card",
        mcc=mcc,
        merchant=names,
        loc=city[k],
    )
    atm = np.flatnonzero(inst.rng.random(n) < 0.5)
    _rows(
        inst,
        c,
        inst.at(day[atm], hours_us(np.full(len(atm), 12.0))),
        "out",
        100.0,
        "atm",
        mcc=6011,
        merchant="ATM WITHDRAWAL",
        loc=city[atm],
        location_id="ATM-050",
    )


def travelling_sales(inst: Inst, pool: Pool) -> bool:
    """Hotels and ATMs in several cities every fortnight, with a salary (LOD-01/03)."""
    c = _one(inst, pool, "travelling_sales", "lodging")
    if c is None:
        return False
    _traveller(inst, c, "sales representative", cat.HOTEL + cat.MOTEL, (7, 21))
    return True


def trucker(inst: Inst, pool: Pool) -> bool:
    """Truck stops and one-night motels across states, often at night (LOD-01/03/05)."""
    c = _one(inst, pool, "trucker", "lodging")
    if c is None:
        return False
    _traveller(inst, c, "truck driver", cat.MOTEL + cat.TRUCKSTOP, (0, 24))
    return True


def crypto_dca(inst: Inst, pool: Pool) -> bool:
    """A fixed weekly crypto buy on the same weekday (CRY-01 without the irregularity)."""
    c = _one(inst, pool, "crypto_dca", "crypto")
    if c is None:
        return False
    _, day = periodic(np.array([c]), np.array([int(inst.rng.integers(0, 7))]), 7, inst.days)
    amt = float(inst.rng.choice([10.0, 20.0, 25.0, 50.0]))
    _rows(
        inst,
        c,
        inst.at(day, hours_us(np.full(len(day), 9.0))),
        "out",
        amt,
        "card",
        mcc=6051,
        merchant="COINSWIFT*BUY",
        online=True,
        place=False,
    )
    return True


def tipped_night_worker(inst: Inst, pool: Pool) -> bool:
    """A bartender depositing tips at ATMs after late shifts (CSH-02), with a small payroll."""
    c = _one(inst, pool, "tipped_night_worker", "cash")
    if c is None:
        return False
    inst.pop.occupation[c] = ("bartender", "server")[int(inst.rng.integers(0, 2))]
    inst.pop.payroll[c] = True
    n = inst.per_period((6, 12))
    _rows(
        inst,
        c,
        inst.night(n, 0.85),
        "in",
        np.round(lognormal(inst.rng, n, 160, 0.5), 0),
        "atm",
        mcc=6011,
        merchant="ATM DEPOSIT",
        location_id="ATM-011",
    )
    return True


def student_supported(inst: Inst, pool: Pool) -> bool:
    """A young student paid by several relatives (KYC-03's third-party credits, nothing else)."""
    c = _one(inst, pool, "student_supported", "kyc")
    if c is None:
        return False
    pop = inst.pop
    set_age(inst.ctx, c, 18, 20.9, inst.rng)
    pop.occupation[c] = "student"
    pop.payroll[c] = pop.rent[c] = False
    surname = pop.name[c].split()[-1]
    relatives = [f"{n.split()[0]} {surname}" for n in inst.names(4)]
    n = inst.per_period((5, 9))
    who = inst.rng.integers(0, 4, n)
    _rows(
        inst,
        c,
        inst.when(n, "evening"),
        "in",
        np.round(inst.rng.choice([50.0, 100.0, 200.0], n)),
        "p2p",
        cp_id=pl.Series([f"P2P-REL-{pop.gidx[c]}-{w}" for w in who]),
        cp_name=take(pl.Series(relatives), who),
        memo="for school",
        online=True,
        place=False,
    )
    return True


def roommates(inst: Inst, pool: Pool) -> bool:
    """Three or four unrelated people sharing an address and splitting rent (NET-01 only)."""
    k = int(inst.rng.integers(3, 5))
    got = pool.take(k)
    if got is None:
        return False
    pop = inst.pop
    for c in got:
        inst.ctx.truth.lookalike(c, inst.id, "roommates", "network")
        pop.address[c] = pop.address[got[0]]
        pop.city[c] = pop.city[got[0]]
        pop.payroll[c] = True
        pop.rent[c] = c == got[0]
    for c in got[1:]:
        _, day = monthly(np.array([c]), np.array([28]), inst.ctx.start, inst.days)
        inst.ctx.buf.transfer(
            np.full(len(day), c, dtype=np.int32),
            np.full(len(day), got[0], dtype=np.int32),
            inst.at(day, hours_us(np.full(len(day), 20.0))),
            np.round(inst.rng.uniform(500, 900), 0),
            "p2p",
            memo="rent share",
        )
    return True


def cash_business(inst: Inst, pool: Pool) -> bool:
    """A busy laundromat or restaurant: lots of cash, banked in business hours, with payroll."""
    c = _one(inst, pool, "cash_business", "cash", business=True)
    if c is None:
        return False
    pop = inst.pop
    pop.business_type[c] = pop.occupation[c] = ("laundromat", "restaurant", "car wash")[
        int(inst.rng.integers(0, 3))
    ]
    pop.payroll[c] = True
    n = inst.per_period((10, 16))
    _rows(
        inst,
        c,
        inst.when(n, "office"),
        "in",
        np.round(lognormal(inst.rng, n, 2200, 0.4, 300, 9000), -1),
        "cash",
        location_id="BR-0004",
    )
    return True


def dating_app_subscriber(inst: Inst, pool: Pool) -> bool:
    """A dating-app subscription plus a few boosts under MCC 7273 (ADV-01's MCC and amounts)."""
    c = _one(inst, pool, "dating_app_subscriber", "ad_platform")
    if c is None:
        return False
    _, day = monthly(
        np.array([c]), np.array([int(inst.rng.integers(1, 29))]), inst.ctx.start, inst.days
    )
    _rows(
        inst,
        c,
        inst.at(day, hours_us(np.full(len(day), 3.0))),
        "out",
        29.99,
        "card",
        mcc=7273,
        merchant="LOVELINK*PREMIUM",
        online=True,
        place=False,
    )
    n = inst.per_period((2, 5))
    _rows(
        inst,
        c,
        inst.when(n, "late"),
        "out",
        inst.rng.choice([4.99, 9.99], n),
        "card",
        mcc=7273,
        merchant="MATCHMEET*BOOST",
        online=True,
        place=False,
    )
    return True


def disaster_motel_family(inst: Inst, pool: Pool) -> bool:
    """A family in one motel for weeks after a fire, paid back by the insurer (LOD-01, LIF-01)."""
    c = _one(inst, pool, "disaster_motel_family", "lodging")
    if c is None:
        return False
    inst.pop.rent[c] = False
    _, day = periodic(np.array([c]), np.array([0]), 7, inst.days)
    n = len(day)
    _rows(
        inst,
        c,
        inst.at(day, hours_us(np.full(n, 11.0))),
        "out",
        np.round(lognormal(inst.rng, n, 480, 0.05), 2),
        "card",
        mcc=7011,
        merchant="WEEKLY SUITES #412",
    )
    _rows(
        inst,
        c,
        inst.at(day + 3, hours_us(np.full(n, 4.0))),
        "in",
        np.round(lognormal(inst.rng, n, 520, 0.05), 2),
        "ach",
        cp_name="SAFEHOME INSURANCE",
        cp_id="ORIG-SAFEHOME",
        memo="ADDITIONAL LIVING EXPENSE",
        place=False,
    )
    k = inst.per_period((25, 35))
    names, mcc = cat.pick(inst.rng, cat.FASTFOOD + cat.PHARMACY + cat.CONVENIENCE, k)
    _rows(
        inst,
        c,
        inst.when(k, "meal"),
        "out",
        np.round(lognormal(inst.rng, k, 18, 0.5, 2, 59), 2),
        "card",
        mcc=mcc,
        merchant=names,
    )
    return True


def freelancer_p2p(inst: Inst, pool: Pool) -> bool:
    """A freelancer paid by many clients over P2P, by day, some clients repeating (FUN-02)."""
    c = _one(inst, pool, "freelancer_p2p", "funnel")
    if c is None:
        return False
    inst.pop.payroll[c] = False
    inst.pop.occupation[c] = ("graphic designer", "tutor", "photographer")[
        int(inst.rng.integers(0, 3))
    ]
    n = inst.per_period((12, 20))
    clients = inst.rng.integers(0, max(4, n // 2), n)
    _rows(
        inst,
        c,
        inst.when(n, "office"),
        "in",
        inst.rng.choice([100.0, 150.0, 200.0, 250.0, 300.0, 500.0], n),
        "p2p",
        cp_id=pl.Series([f"P2P-CLIENT-{inst.pop.gidx[c]}-{k}" for k in clients]),
        cp_name=take(pl.Series(inst.names(int(clients.max()) + 1)), clients),
        memo=take(
            pl.Series(["invoice", "design work", "lesson", "thanks!"]), inst.rng.integers(0, 4, n)
        ),
        online=True,
        place=False,
    )
    return True


def large_family(inst: Inst, pool: Pool) -> bool:
    """Many small fast-food, pharmacy and convenience buys with a salary (LIF-01's basket)."""
    c = _one(inst, pool, "large_family", "lifestyle")
    if c is None:
        return False
    inst.pop.payroll[c] = True
    k = inst.per_period((28, 40))
    names, mcc = cat.pick(inst.rng, cat.FASTFOOD + cat.PHARMACY + cat.CONVENIENCE, k)
    _rows(
        inst,
        c,
        inst.when(k, "meal"),
        "out",
        np.round(lognormal(inst.rng, k, 20, 0.5, 2, 59), 2),
        "card",
        mcc=mcc,
        merchant=names,
    )
    return True


#: name → (template, family resembled, mean members per instance)
LOOKALIKES: dict[str, tuple[Callable[[Inst, Pool], bool], str, float]] = {
    "migrant_remitter": (migrant_remitter, "remittance", 1.0),
    "travelling_sales": (travelling_sales, "lodging", 1.0),
    "trucker": (trucker, "lodging", 1.0),
    "crypto_dca": (crypto_dca, "crypto", 1.0),
    "tipped_night_worker": (tipped_night_worker, "cash", 1.0),
    "student_supported": (student_supported, "kyc", 1.0),
    "roommates": (roommates, "network", 3.5),
    "cash_business": (cash_business, "cash", 1.0),
    "dating_app_subscriber": (dating_app_subscriber, "ad_platform", 1.0),
    "disaster_motel_family": (disaster_motel_family, "lodging", 1.0),
    "freelancer_p2p": (freelancer_p2p, "funnel", 1.0),
    "large_family": (large_family, "lifestyle", 1.0),
}
