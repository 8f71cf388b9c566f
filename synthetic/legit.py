"""Legitimate life of every customer, vectorised per behaviour kind (no loop per transaction)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.cities import CITIES, N_CITIES, RESIDENT_WEIGHTS
from txflags.synthetic.context import Ctx
from txflags.synthetic.events import DAY_US, day_weights, ids, in_window, lognormal, take, tod

EMPLOYERS = (
    "NORTHWIND LOGISTICS",
    "CONTOSO HEALTH",
    "ACME RETAIL",
    "FABRIKAM FOODS",
    "LAKESIDE SCHOOLS",
    "METRO TRANSIT",
    "SUMMIT BUILDERS",
    "BRIGHTPATH TECH",
    "CITY OF SPRINGFIELD",
    "HARBOR HOSPITAL",
)
_ATM_AMOUNTS = np.array([20, 40, 60, 80, 100, 100, 120, 140, 200, 200, 300, 400], dtype=float)

# (kind, base rate per day, merchants, median USD, sigma, hour profile, week profile, online)
CARD_KINDS = (
    ("grocery", 0.20, cat.GROCERY, 55, 0.6, "day", "weekend", False),
    ("fuel", 0.10, cat.FUEL, 40, 0.4, "day", "flat", False),
    ("restaurant", 0.18, cat.RESTAURANT, 28, 0.6, "meal", "weekend", False),
    ("convenience", 0.07, cat.CONVENIENCE, 9, 0.6, "evening", "flat", False),
    ("pharmacy", 0.03, cat.PHARMACY, 22, 0.7, "day", "flat", False),
    ("online", 0.08, cat.ONLINE, 45, 0.9, "evening", "flat", True),
    ("clothing", 0.03, cat.CLOTHING, 55, 0.7, "day", "weekend", False),
    ("ride", 0.03, cat.RIDE, 18, 0.5, "late", "weekend", False),
    ("entertainment", 0.02, cat.ENTERTAIN, 30, 0.5, "evening", "weekend", False),
)


def generate_legit(ctx: Ctx) -> None:
    """Everyday life: wages, bills, shopping, cash, P2P, travel, remittances, businesses."""
    pop = ctx.pop
    indiv = ~pop.is_biz
    normal = indiv & ~pop.cash_only
    for k, (_name, rate, merchants, med, sig, hours, week, online) in enumerate(CARD_KINDS):
        rng = ctx.rng("legit", k)
        _poisson_card(
            ctx, rng, indiv, rate * pop.activity, merchants, med, sig, hours, week, online
        )
    _atm(ctx, ctx.rng("legit", "atm"), indiv)
    _cash_deposits(ctx, ctx.rng("legit", "cashdep"), indiv)
    _p2p(ctx, ctx.rng("legit", "p2p"), normal)
    _payroll(ctx, ctx.rng("legit", "payroll"), indiv & pop.payroll & ~pop.cash_only)
    _benefits(ctx, ctx.rng("legit", "benefits"), pop.benefits & ~pop.cash_only)
    _bills(ctx, ctx.rng("legit", "bills"), pop.rent & ~pop.cash_only)
    _subscriptions(ctx, ctx.rng("legit", "subs"), indiv)
    _crypto(ctx, ctx.rng("legit", "crypto"), pop.crypto)
    _migrant(ctx, ctx.rng("legit", "migrant"), normal)
    _travel(ctx, ctx.rng("legit", "travel"), pop.traveller & ~pop.cash_only)
    _business(ctx, ctx.rng("legit", "business"), pop.is_biz)


def _who(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _counts(
    rng: np.random.Generator, idx: np.ndarray, rate: np.ndarray | float, days: int
) -> np.ndarray:
    lam = np.broadcast_to(np.asarray(rate, dtype=float), idx.shape) * days
    return np.repeat(idx, rng.poisson(lam))


def _poisson_card(
    ctx: Ctx,
    rng: np.random.Generator,
    mask: np.ndarray,
    rate: np.ndarray,
    merchants: cat.Merchants,
    med: float,
    sig: float,
    hours: str,
    week: str,
    online: bool,
) -> None:
    idx = _who(mask)
    cust = _counts(rng, idx, rate[idx], ctx.days)
    m = len(cust)
    day = rng.choice(ctx.days, m, p=day_weights(ctx.start, ctx.days, week))
    names, mcc = cat.pick(rng, merchants, m)
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, hours)),
        "out",
        lognormal(rng, m, med, sig),
        "card",
        mcc=mcc,
        merchant=names,
        online=online,
        place=not online,
    )


def _atm(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    idx = _who(mask)
    cust = _counts(rng, idx, 0.06 * ctx.pop.cash[idx], ctx.days)
    m = len(cust)
    day = rng.integers(0, ctx.days, m)
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, "day")),
        "out",
        _ATM_AMOUNTS[rng.integers(0, len(_ATM_AMOUNTS), m)],
        "atm",
        mcc=6011,
        merchant="ATM WITHDRAWAL",
        location_id=ids("ATM-", rng.integers(1, 40, m)),
    )


def _cash_deposits(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    idx = _who(mask)
    cust = _counts(rng, idx, 0.008 * ctx.pop.cash[idx], ctx.days)
    m = len(cust)
    day = rng.choice(ctx.days, m, p=day_weights(ctx.start, ctx.days, "weekday"))
    usd = np.round(lognormal(rng, m, 220, 0.8, 20, 5000), -1)
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, "office")),
        "in",
        usd,
        "cash",
        location_id=ids("BR-", rng.integers(1, 30, m), 4),
    )


def _p2p(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    pop = ctx.pop
    idx = _who(mask)
    for direction, rate, med in (("out", 0.045, 45), ("in", 0.035, 60)):
        cust = _counts(rng, idx, rate * pop.p2p[idx], ctx.days)
        m = len(cust)
        day = rng.choice(ctx.days, m, p=day_weights(ctx.start, ctx.days, "weekend"))
        usd = np.maximum(5, np.round(lognormal(rng, m, med, 0.8) / 5) * 5)
        # friends and family: a small circle per customer (ids stable per customer)
        friend = (pop.gidx[cust] * 31 + rng.integers(0, 6, m)) % 1_000_000_007
        cp_id = pl.Series(friend).cast(pl.String).str.pad_start(10, "0")
        ctx.buf.add(
            cust,
            ctx.at(day, tod(rng, m, "evening")),
            direction,
            usd,
            "p2p",
            cp_id="P2P-" + cp_id,
            cp_name=cat.fake_names(rng, m),
            online=True,
            place=False,
        )
    # transfers between two customers of the bank (both sides)
    src = _counts(rng, idx, 0.012 * pop.p2p[idx], ctx.days)
    if len(idx) > 1 and len(src):
        dst = idx[rng.integers(0, len(idx), len(src))]
        keep = dst != src
        src, dst = src[keep], dst[keep]
        _label_victim_friends(ctx, src, dst)
        m = len(src)
        day = rng.integers(0, ctx.days, m)
        ctx.buf.transfer(
            src,
            dst,
            ctx.at(day, tod(rng, m, "evening")),
            np.maximum(5, np.round(lognormal(rng, m, 50, 0.8) / 5) * 5),
            "p2p",
            memo=take(
                pl.Series(["dinner", "rent share", "gift", "thanks", "tickets"]),
                rng.integers(0, 5, m),
            ),
        )


#: Truth name of an ordinary customer who pays a scheme victim as a friend (label 0).
VICTIM_FRIEND = "victim_friend"


def _label_victim_friends(ctx: Ctx, src: np.ndarray, dst: np.ndarray) -> None:
    """Ordinary customers who pay a scheme victim (a friend's gift, a bill split) are benign but
    look like buyers paying a collection account: name them in the truth (lookalike
    ``victim_friend``, label 0) so an alert on them is a known false positive, not noise."""
    members = ctx.truth.members
    for s, d in zip(src.tolist(), dst.tolist(), strict=True):
        v = members.get(d)
        if v is None or v.role != "victim" or s in members:
            continue
        ctx.truth.lookalike(s, f"lk-{VICTIM_FRIEND}-{v.instance_id}", VICTIM_FRIEND, "funnel")


def periodic(
    idx: np.ndarray, phase: np.ndarray, period: int, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of events every ``period`` days from each customer's ``phase``."""
    k = np.arange(0, days // period + 2)
    grid = phase[:, None] + k[None, :] * period
    ok = grid < days
    return np.broadcast_to(idx[:, None], grid.shape)[ok], grid[ok]


def month_days(start: date, days: int) -> np.ndarray:
    """Day index of the 1st of every month overlapping the period (may be negative)."""
    first = date(start.year, start.month, 1)
    out = []
    d = first
    while (d - start).days < days:
        out.append((d - start).days)
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return np.array(out, dtype=np.int64)


def monthly(
    idx: np.ndarray, dom: np.ndarray, start: date, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of a monthly event on day-of-month ``dom`` (1..28)."""
    grid = month_days(start, days)[None, :] + (dom[:, None] - 1)
    ok = (grid >= 0) & (grid < days)
    return np.broadcast_to(idx[:, None], grid.shape)[ok], grid[ok]


def _weekday_shift(ctx: Ctx, day: np.ndarray) -> np.ndarray:
    """Move weekend days to the Friday before (posting on business days)."""
    wd = (day + ctx.start.weekday()) % 7
    return np.maximum(0, day - np.where(wd == 5, 1, np.where(wd == 6, 2, 0)))


def _payroll(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    pop = ctx.pop
    idx = _who(mask)
    fri = (4 - ctx.start.weekday()) % 7
    phase = fri + 7 * rng.integers(0, 2, len(idx))
    cust, day = periodic(idx, phase, 14, ctx.days)
    m = len(cust)
    usd = np.round(pop.income[cust] / 26 * 0.75 * rng.normal(1, 0.03, m), 2)
    emp = take(pl.Series(EMPLOYERS), pop.gidx[cust] % len(EMPLOYERS))
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, "post")),
        "in",
        usd,
        "ach",
        cp_name=emp,
        cp_id="ORIG-" + emp.str.replace_all(" ", ""),
        memo="PAYROLL",
        place=False,
    )


def _benefits(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    idx = _who(mask)
    cust, day = monthly(idx, np.full(len(idx), 3), ctx.start, ctx.days)
    m = len(cust)
    usd = np.round(np.clip(ctx.pop.income[cust] / 12 * 0.6, 600, 3500), 2)
    ctx.buf.add(
        cust,
        ctx.at(_weekday_shift(ctx, day), tod(rng, m, "post")),
        "in",
        usd,
        "ach",
        cp_name="GOVT BENEFITS",
        cp_id="ORIG-GOVTBENEFITS",
        memo="BENEFIT",
        place=False,
    )


def _bills(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    pop = ctx.pop
    idx = _who(mask)
    bills = (
        ("CITY RENTALS MGMT", 1, 0.26, 0.15),
        ("CITY POWER & LIGHT", 12, 0.025, 0.35),
        ("FASTNET INTERNET", 18, 0.012, 0.2),
        ("MOBILECO WIRELESS", 22, 0.014, 0.25),
    )
    for name, dom, share, sig in bills:
        d = np.clip(dom + rng.integers(-1, 3, len(idx)), 1, 28)
        cust, day = monthly(idx, d, ctx.start, ctx.days)
        m = len(cust)
        base = np.clip(pop.income[cust] / 12 * share, 25, 9000)
        usd = np.round(base * np.exp(sig * rng.standard_normal(m) * 0.3), 2)
        ctx.buf.add(
            cust,
            ctx.at(day, tod(rng, m, "post")),
            "out",
            usd,
            "ach",
            cp_name=name,
            cp_id="BILL-" + name.replace(" ", ""),
            memo="BILL PAY",
            online=True,
            place=False,
        )


def _subscriptions(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    idx = _who(mask)
    for k in range(3):
        sub = idx[rng.random(len(idx)) < (0.6, 0.35, 0.15)[k]]
        which = rng.integers(0, len(cat.SUBSCRIPTION), len(sub))
        price = np.array([7.99, 9.99, 12.99, 14.99, 4.99, 19.99, 29.99])[
            rng.integers(0, 7, len(sub))
        ]
        cust, day = monthly(sub, rng.integers(1, 29, len(sub)), ctx.start, ctx.days)
        pos = np.searchsorted(sub, cust)
        m = len(cust)
        ctx.buf.add(
            cust,
            ctx.at(day, tod(rng, m, "post")),
            "out",
            price[pos],
            "card",
            mcc=np.array([c for _, c in cat.SUBSCRIPTION], dtype=np.int16)[which[pos]],
            merchant=take(pl.Series([n for n, _ in cat.SUBSCRIPTION]), which[pos]),
            online=True,
            place=False,
        )


def _crypto(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    idx = _who(mask)
    cust = _counts(rng, idx, 0.05, ctx.days)
    m = len(cust)
    names, mcc = cat.pick(rng, cat.CRYPTO_EXCHANGE, m)
    ctx.buf.add(
        cust,
        ctx.at(rng.integers(0, ctx.days, m), tod(rng, m, "evening")),
        "out",
        np.round(lognormal(rng, m, 150, 1.0, 10, 20000), 2),
        "card",
        mcc=mcc,
        merchant=names,
        online=True,
        place=False,
    )


def _migrant(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    pop = ctx.pop
    idx = np.array([i for i in _who(mask) if pop.migrant[i] is not None], dtype=np.int64)
    cust, day = monthly(idx, rng.integers(1, 29, len(idx)), ctx.start, ctx.days)
    m = len(cust)
    country = pl.Series([pop.migrant[i] for i in cust], dtype=pl.String)
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, "day")),
        "out",
        np.round(lognormal(rng, m, 300, 0.4, 50, 2000), 2),
        "money_transfer",
        mcc=4829,
        merchant="GLOBALREMIT ONLINE",
        cp_country=country,
        cp_id="BEN-" + pl.Series(pop.gidx[cust]).cast(pl.String),
        cp_name=cat.fake_names(rng, m),
        memo="family support",
        online=True,
        place=False,
    )


def _travel(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    pop = ctx.pop
    idx = _who(mask)
    n = len(idx)
    dest = rng.choice(N_CITIES, n, p=RESIDENT_WEIGHTS).astype(np.int16)
    dest = np.where(dest == pop.city[idx], (dest + 3) % 26, dest).astype(np.int16)
    length = rng.integers(2, 8, n)
    first = rng.integers(0, max(1, ctx.days - 8), n)
    booked = np.maximum(0, first - rng.integers(3, 40, n))
    ctx.buf.add(
        idx,
        ctx.at(booked, tod(rng, n, "evening")),
        "out",
        np.round(lognormal(rng, n, 380, 0.4), 2),
        "card",
        mcc=4511,
        merchant="SKYWAYS AIR",
        online=True,
        place=False,
    )
    ctx.buf.add(
        idx,
        ctx.at(first + length, in_window(rng, n, 7, 11)),
        "out",
        np.round(length * lognormal(rng, n, 160, 0.3), 2),
        "card",
        mcc=7011,
        merchant="GRAND PLAZA HOTEL",
        loc=dest,
    )
    meals = np.repeat(np.arange(n), rng.integers(2, 7, n))
    m = len(meals)
    names, mcc = cat.pick(rng, cat.RESTAURANT, m)
    day = first[meals] + rng.integers(0, length[meals] + 1)
    ctx.buf.add(
        idx[meals],
        ctx.at(day, tod(rng, m, "meal")),
        "out",
        lognormal(rng, m, 35, 0.5),
        "card",
        mcc=mcc,
        merchant=names,
        loc=dest[meals],
    )


def _business(ctx: Ctx, rng: np.random.Generator, mask: np.ndarray) -> None:
    pop = ctx.pop
    idx = _who(mask)
    cash_heavy = np.array([pop.business_type[i] in cat.CASH_HEAVY for i in idx], dtype=bool)
    daily = pop.income[idx] / 365
    # card takings, every business day: most businesses are paid by their acquirer in one daily
    # ACH settlement; about a third take cards through the bank's own terminals, whose sales
    # post one by one on the card channel during opening hours
    direct = rng.random(len(idx)) < 0.35
    # a venue whose card sales a scheme already writes (its night-heavy takings, LIF-02) gets no
    # second, daytime stream: that would count its takings twice
    members = ctx.truth.members
    venue = np.array([i in members and "lifestyle.after_hours_venue" in members[i].typologies
                      for i in idx.tolist()], dtype=bool)
    direct &= ~venue
    cust, day = periodic(idx, np.zeros(len(idx), dtype=np.int64), 1, ctx.days)
    wd = (day + ctx.start.weekday()) % 7
    keep = wd < 6
    cust, day = cust[keep], day[keep]
    pos = np.searchsorted(idx, cust)
    card_share = np.where(cash_heavy[pos], 0.55, 0.85)
    takings = daily[pos] * card_share * lognormal(rng, len(cust), 1, 0.35)
    settle = ~direct[pos]
    m = int(settle.sum())
    ctx.buf.add(
        cust[settle],
        ctx.at(day[settle], tod(rng, m, "post")),
        "in",
        np.round(takings[settle], 2),
        "ach",
        cp_name="CARD SETTLEMENT",
        cp_id="ACQ-MERCHANT-SERVICES",
        memo="SETTLEMENT",
        place=False,
    )
    sales = rng.integers(2, 6, len(cust)) * ~settle
    rep = np.repeat(np.arange(len(cust)), sales)
    m = len(rep)
    ctx.buf.add(
        cust[rep],
        ctx.at(day[rep], in_window(rng, m, 8, 21)),
        "in",
        np.round(takings[rep] / sales[rep] * lognormal(rng, m, 1, 0.5), 2),
        "card",
        memo="CARD SALE",
    )
    # cash deposits at a branch during business hours, about twice a week
    cust = _counts(rng, idx, np.where(cash_heavy, 0.35, 0.05), ctx.days)
    pos = np.searchsorted(idx, cust)
    m = len(cust)
    share = np.where(cash_heavy[pos], 0.45, 0.1)
    per = daily[pos] * share * 7 / np.where(cash_heavy[pos], 2.45, 0.35)
    ctx.buf.add(
        cust,
        ctx.at(
            rng.choice(ctx.days, m, p=day_weights(ctx.start, ctx.days, "weekday")),
            tod(rng, m, "office"),
        ),
        "in",
        np.round(per * lognormal(rng, m, 1, 0.3), -1).clip(20),
        "cash",
        location_id=ids("BR-", rng.integers(1, 30, m), 4),
    )
    # suppliers (weekly), payroll (biweekly), rent (monthly)
    cust, day = periodic(idx, rng.integers(0, 7, len(idx)), 7, ctx.days)
    pos = np.searchsorted(idx, cust)
    m = len(cust)
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, "office")),
        "out",
        np.round(daily[pos] * 7 * 0.4 * lognormal(rng, m, 1, 0.3), 2),
        "ach",
        cp_name=take(
            pl.Series(["WHOLESALE SUPPLY CO", "METRO DISTRIBUTORS", "PACKRIGHT"]),
            rng.integers(0, 3, m),
        ),
        cp_id="SUPPLIER",
        memo="INVOICE",
        online=True,
        place=False,
    )
    payer = idx[pop.payroll[idx]]
    cust, day = periodic(payer, rng.integers(0, 14, len(payer)), 14, ctx.days)
    pos = np.searchsorted(idx, cust)
    m = len(cust)
    ctx.buf.add(
        cust,
        ctx.at(_weekday_shift(ctx, day), tod(rng, m, "post")),
        "out",
        np.round(daily[pos] * 14 * 0.3 * lognormal(rng, m, 1, 0.05), 2),
        "ach",
        cp_name="PAYROLL BATCH",
        cp_id="PAYROLL-PROCESSOR",
        memo="PAYROLL",
        online=True,
        place=False,
    )
    cust, day = monthly(idx, rng.integers(1, 6, len(idx)), ctx.start, ctx.days)
    pos = np.searchsorted(idx, cust)
    m = len(cust)
    ctx.buf.add(
        cust,
        ctx.at(day, tod(rng, m, "office")),
        "out",
        np.round(daily[pos] * 30 * 0.08, 2),
        "ach",
        cp_name="COMMERCIAL LEASING LLC",
        cp_id="LANDLORD-COMMERCIAL",
        memo="RENT",
        online=True,
        place=False,
    )


def noise_events(ctx: Ctx) -> None:
    """One off-pattern event for a ``noise`` share of ordinary customers."""
    rng = ctx.rng("noise")
    pop = ctx.pop
    plain = np.array([i not in ctx.truth.members for i in range(pop.n)], dtype=bool) & ~pop.is_biz
    idx = np.flatnonzero(plain & (rng.random(pop.n) < ctx.cfg.noise))
    kind = rng.integers(0, 5, len(idx))
    day = rng.integers(0, ctx.days, len(idx))
    for k in range(5):
        c = idx[kind == k]
        d = day[kind == k]
        m = len(c)
        if k == 0:  # a night ATM deposit
            ctx.buf.add(
                c,
                ctx.at(d, in_window(rng, m, 22, 29)),
                "in",
                np.round(lognormal(rng, m, 150, 0.6), -1).clip(20),
                "atm",
                mcc=6011,
                merchant="ATM DEPOSIT",
                location_id="ATM-077",
            )
        elif k == 1:  # a motel night
            names, mcc = cat.pick(rng, cat.MOTEL, m)
            ctx.buf.add(
                c,
                ctx.at(d, in_window(rng, m, 8, 12)),
                "out",
                np.round(lognormal(rng, m, 95, 0.2), 2),
                "card",
                mcc=mcc,
                merchant=names,
            )
        elif k == 2:  # a small crypto buy
            ctx.buf.add(
                c,
                ctx.at(d, tod(rng, m, "late")),
                "out",
                np.round(lognormal(rng, m, 30, 0.4), 2),
                "card",
                mcc=6051,
                merchant="COINSWIFT*BUY",
                online=True,
                place=False,
            )
        elif k == 3:  # a corridor remittance
            ctx.buf.add(
                c,
                ctx.at(d, tod(rng, m, "day")),
                "out",
                np.round(lognormal(rng, m, 120, 0.5), 2),
                "money_transfer",
                mcc=4829,
                merchant="GLOBALREMIT ONLINE",
                cp_country=take(pl.Series(list(cat.OCSE_CORRIDORS)), rng.integers(0, 5, m)),
                cp_id="BEN-N" + pl.Series(pop.gidx[c]).cast(pl.String),
                cp_name=cat.fake_names(rng, m),
                online=True,
                place=False,
            )
        else:  # a bar tab at 1 a.m.
            ctx.buf.add(
                c,
                ctx.at(d, in_window(rng, m, 23, 26)),
                "out",
                np.round(lognormal(rng, m, 60, 0.5), 2),
                "card",
                mcc=5813,
                merchant="VELVET LOUNGE",
            )


__all__ = [
    "generate_legit",
    "noise_events",
    "periodic",
    "monthly",
    "month_days",
    "CITIES",
    "DAY_US",
]
