"""Scheme templates: realistic instances that fire several indicators across families.

Each template takes members from the pool, labels their roles, edits their KYC and life
switches, and writes their scheme rows. Optional indicators are dropped with probability
``partial`` (``inst.keep()``); the truth lists only what was injected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from txflags.synthetic import catalog as cat
from txflags.synthetic.schemes import (
    ad_platform,
    cash,
    crypto,
    funnel,
    lifestyle,
    lodging,
    network,
    remittance,
)
from txflags.synthetic.schemes.base import Inst, Pool


def _as_controller(inst: Inst, c: int) -> None:
    pop = inst.pop
    inst.member(c, "controller")
    pop.occupation[c] = ("self-employed", "unemployed", "promoter")[int(inst.rng.integers(0, 3))]
    pop.income[c] = float(inst.rng.uniform(12_000, 30_000))
    pop.payroll[c] = False
    network.young(inst, c, 24, 45)


def _as_victim(inst: Inst, v: int, controller: int) -> None:
    pop = inst.pop
    inst.member(v, "victim")
    pop.occupation[v] = ("unemployed", "student", "model", "dancer")[int(inst.rng.integers(0, 4))]
    pop.income[v] = float(inst.rng.uniform(0, 15_000))
    pop.payroll[v] = pop.rent[v] = pop.benefits[v] = pop.traveller[v] = pop.crypto[v] = False
    pop.migrant[v] = None
    pop.activity[v] = 0.4
    pop.city[v] = pop.city[controller]
    network.recent_account(inst, v)
    network.young(inst, v, 18, 25)


def sex_ring(inst: Inst, pool: Pool) -> bool:
    """Controller + 2–4 victims advertised online, moved through motels, paid by buyers."""
    nv = int(inst.rng.integers(2, 5))
    nb = int(inst.rng.integers(0, 3))
    people = pool.take(1 + nv + nb)
    if people is None:
        return False
    ctrl, victims, buyers = people[0], people[1 : 1 + nv], people[1 + nv :]
    _as_controller(inst, ctrl)
    for v in victims:
        _as_victim(inst, v, ctrl)
    for b in buyers:
        inst.member(b, "buyer")
    it = lodging.make_itinerary(inst, int(inst.pop.city[ctrl]), inst.keep())
    foreign = inst.keep(0.4)
    for i, v in enumerate(victims):
        if inst.rng.random() < 0.5:
            network.young(inst, v, 18, 20.9)
        ad_platform.small_repeated_fees(inst, v, foreign)
        lodging.motel_stacking(inst, v, it)
        if len(it.city) > 1:
            lodging.city_circuit(inst, v, it)
        if inst.keep():
            lifestyle.upkeep_basket(inst, v, it)
        if inst.keep(0.3):
            lodging.night_rides(inst, v, it)
        if inst.keep(0.3):
            cash.night_atm_deposits(inst, v)
        if inst.keep(0.4):
            cash.prepaid_loading(inst, v)
        mine = buyers if i == 0 else []
        ts, usd = funnel.many_new_p2p_payers(inst, v, mine)
        # KYC-03 looks at credits while the customer is under 21: a month of them at least
        if inst.ctx.start.toordinal() - 719163 - inst.pop.birth[v] < 21 * 365.25 - 30:
            inst.flag(v, "kyc.young_third_party")
        funnel.pass_through_sweep(inst, v, ctrl, ts, usd, hub=len(victims) >= 2)
        if inst.keep(0.3):
            network.staff_observed(inst, v)
    if inst.keep():
        network.shared_device(inst, victims, ctrl)
    if inst.keep():
        network.shared_identifiers(inst, victims, ctrl)
    if inst.keep():
        ad_platform.high_monthly_spend(inst, ctrl)
    if inst.keep():
        ad_platform.prepaid_or_crypto_then_ads(inst, ctrl)
    if inst.keep():
        lodging.same_day_multiple_bookings(inst, ctrl, it)
    if inst.keep():
        lodging.tickets_for_others(inst, ctrl, [inst.pop.name[v] for v in victims])
    if inst.keep():
        lifestyle.controller_luxury(inst, ctrl)
    if inst.keep(0.3):
        remittance.many_senders_small(inst, ctrl)
    if inst.keep(0.4):
        cash.structuring(inst, ctrl, splits=False)
    if inst.keep(0.5):
        network.reused_id(inst, ctrl, victims[0])
    return True


def ocse_ring(inst: Inst, pool: Pool) -> bool:
    """1–4 buyers paying one facilitator abroad for live-streamed abuse (pay-per-view)."""
    k = int(inst.rng.integers(1, 5))
    buyers = pool.take(k)
    if buyers is None:
        return False
    country = cat.OCSE_CORRIDORS[int(inst.rng.integers(0, len(cat.OCSE_CORRIDORS)))]
    ben = f"BEN-{inst.id}"
    ben_name = inst.names(1)[0]
    address = crypto.wallet(inst, "csam")
    for b in buyers:
        inst.member(b, "buyer")
        network.young(inst, b, 35, 70)
        remittance.ocse_corridor(
            inst, b, ben, ben_name, country, shared=k >= 3, cover=inst.keep(0.2)
        )
        if inst.keep(0.2):
            crypto.night_small_payments(inst, b, address, "csam_vendor")
        if inst.keep(0.4):
            crypto.small_frequent_buys(inst, b)
        if inst.keep(0.5):
            lodging.travel_to_offend(inst, b)
        if inst.keep(0.5):
            cash.prepaid_loading(inst, b)
    return True


def labour_ring(inst: Inst, pool: Pool) -> bool:
    """A business housing 3–6 recruited workers, paying little and making them remit wages."""
    biz = pool.take(1, business=True)
    people = pool.take(1 + int(inst.rng.integers(3, 7)))
    if biz is None or people is None:
        return False
    b, owner, workers = biz[0], people[0], people[1:]
    inst.member(b, "facilitator")
    _as_controller(inst, owner)
    inst.pop.business_type[b] = inst.pop.occupation[b] = ("cleaning services", "construction")[
        int(inst.rng.integers(0, 2))
    ]
    country = ("MX", "PH", "GT")[int(inst.rng.integers(0, 3))]
    agent = f"AGENT-{int(inst.rng.integers(0, 999)):03d}"
    # turnover that fits the crew: clients are billed 60-90k a year per worker placed
    inst.pop.income[b] = float(len(workers) * inst.rng.uniform(60_000, 90_000))
    lifestyle.business_upkeep_no_payroll(inst, b, len(workers))
    if inst.keep():
        network.recruitment_agency(inst, b, max(5, len(workers)))
    for w in workers:
        inst.member(w, "victim")
        pop = inst.pop
        pop.occupation[w] = ("cleaner", "construction worker", "farm worker")[
            int(inst.rng.integers(0, 3))
        ]
        pop.income[w] = float(inst.rng.uniform(15_000, 24_000))
        pop.payroll[w] = pop.rent[w] = pop.traveller[w] = pop.crypto[w] = False
        pop.migrant[w] = None
        pop.activity[w] = 0.3
        pop.p2p[w] = 0.1
        pop.city[w] = pop.city[b]
        network.recent_account(inst, w)
        remittance.wages_sent_on(inst, w, b, country, agent)
        if inst.keep(0.2):
            network.staff_observed(inst, w)
    if inst.keep():
        network.shared_device(inst, workers, owner)
    if inst.keep():
        funnel.many_wages_one_account(inst, owner, [inst.pop.name[w] for w in workers])
    # no HT-LIF-04 here: luxury spending alone is not it, and the owner of a labour front does
    # not live on many third-party inflows (it needs both)
    return True


def imb_network(inst: Inst, pool: Pool) -> bool:
    """An owner behind 2–3 massage/spa businesses that run on cash and late card sales."""
    k = int(inst.rng.integers(2, 4))
    biz = pool.take(k, business=True)
    owner = pool.take(1)
    if biz is None or owner is None:
        return False
    o = owner[0]
    _as_controller(inst, o)
    for i, b in enumerate(biz):
        inst.member(b, "facilitator")
        kind, mcc = (("massage spa", 7297), ("day spa", 7298), ("nail salon", 7230))[i % 3]
        inst.pop.business_type[b] = inst.pop.occupation[b] = kind
        inst.pop.name[b] = f"{('Lotus', 'Jade', 'Orchid', 'Bamboo')[i % 4]} {kind.title()} LLC"
        inst.pop.city[b] = inst.pop.city[o]
        lifestyle.after_hours_venue(inst, b, mcc, inst.pop.name[b].upper())
        if inst.keep():
            cash.business_cash_excess(inst, b)
        if inst.keep(0.3):
            lifestyle.business_upkeep_no_payroll(inst, b, 3)
        weeks = np.arange(int(inst.rng.integers(0, 7)), inst.days, 7)
        inst.transfer(
            b,
            o,
            inst.at(weeks, np.full(len(weeks), 10 * 3_600_000_000)),
            np.round(inst.rng.uniform(2000, 6000, len(weeks)), 2),
            "ach",
            typ_src=None,
            typ_dst="network.controller_hub",
            memo="OWNER DRAW",
        )
    network.linked_venues(inst, biz, o)
    if inst.keep():
        lifestyle.controller_luxury(inst, o)
    if inst.keep(0.3):
        cash.structuring(inst, o, splits=inst.keep())
    return True


def crypto_cashout(inst: Inst, pool: Pool) -> bool:
    """A controller pooling proceeds and moving them out through crypto."""
    c = pool.take(1)
    if c is None:
        return False
    ctrl = c[0]
    _as_controller(inst, ctrl)
    crypto.pooled_third_party_to_vasp(inst, ctrl)
    if inst.keep():
        crypto.kiosk_near_limit(inst, ctrl)
    if inst.keep(0.2):
        crypto.large_stablecoin(inst, ctrl)
    if inst.keep(0.2):
        crypto.high_risk_inflow(inst, ctrl)
    if inst.keep(0.3):
        crypto.small_frequent_buys(inst, ctrl)
    if inst.keep(0.3):
        cash.structuring(inst, ctrl, splits=False)
    return True


def funnel_mule(inst: Inst, pool: Pool) -> bool:
    """A funnel account: out-of-area cash in, out at home; structured, cash-only life."""
    c = pool.take(1)
    if c is None:
        return False
    m = c[0]
    _as_controller(inst, m)
    funnel.out_of_area_cash(inst, m)
    if inst.keep():
        funnel.cash_only_life(inst, m)
    if inst.keep():
        cash.structuring(inst, m, splits=True)
    if inst.keep(0.3):
        cash.night_atm_deposits(inst, m)
    if inst.keep(0.3):
        cash.prepaid_loading(inst, m)
    return True


def sextortion(inst: Inst, pool: Pool) -> bool:
    """A teenager or young adult paying an overseas extorter in bursts."""
    c = pool.take(1)
    if c is None:
        return False
    v = c[0]
    inst.member(v, "victim")
    network.young(inst, v, 16, 20.9)
    inst.pop.occupation[v] = "student"
    inst.pop.payroll[v] = inst.pop.rent[v] = False
    remittance.sextortion_bursts(inst, v)
    return True


#: name → (template, mean members per instance)
SCHEMES: dict[str, tuple[Callable[[Inst, Pool], bool], float]] = {
    "sex_ring": (sex_ring, 5.0),
    "ocse_ring": (ocse_ring, 2.5),
    "labour_ring": (labour_ring, 6.5),
    "imb_network": (imb_network, 4.0),
    "crypto_cashout": (crypto_cashout, 1.0),
    "funnel_mule": (funnel_mule, 1.0),
    "sextortion": (sextortion, 1.0),
}
