"""Funnel and collection account injectors (HT-FUN-01…05)."""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic.cities import REGIONS
from txflags.synthetic.events import DAY_US, lognormal
from txflags.synthetic.schemes.base import Inst, circuit, hours_us

T = "funnel."
ROUND = np.array([60, 80, 100, 100, 150, 200, 200, 250, 300, 400, 500], dtype=float)


def out_of_area_cash(inst: Inst, c: int) -> None:
    """Cash paid in at branches in other states, taken out at home within two days."""
    home = int(inst.pop.city[c])
    away = [x for x in inst.other_us_cities(6, home) if REGIONS[x] != REGIONS[home]][:4]
    cycles = max(1, inst.days // 6)
    drawn = []
    for k in range(cycles):
        m = int(inst.rng.integers(2, 4))
        where = np.array(away, dtype=np.int16)[inst.rng.integers(0, len(away), m)]
        d = np.full(m, min(inst.days - 1, k * 6 + int(inst.rng.integers(0, 3))))
        drawn.append((m, where, d))
    # branches in three other cities within two weeks are a city circuit too (HT-LOD-03)
    typ = T + "out_of_area_cash"
    days = np.concatenate([d for _, _, d in drawn])
    if circuit(days, np.concatenate([w for _, w, _ in drawn]), home):
        typ += ";lodging.city_circuit"
    for m, where, d in drawn:
        ts = np.sort(inst.at(d, hours_us(inst.rng.uniform(9, 17, m))))
        usd = np.round(lognormal(inst.rng, m, 1500, 0.4, 300, 4500), -1)
        inst.ctx.buf.add(
            np.full(m, c, dtype=np.int32),
            ts,
            "in",
            usd,
            "cash",
            loc=where,
            location_id=pl.Series([f"BR-{int(x):04d}" for x in inst.rng.integers(100, 999, m)]),
            inst=inst.id,
            typ=typ,
        )
        for t in typ.split(";"):
            inst.flag(c, t)
        out = ts.max() + hours_us(inst.rng.uniform(3, inst.stretch(40), 1))
        inst.add(
            c,
            T + "out_of_area_cash",
            out,
            "out",
            np.round(usd.sum() * inst.rng.uniform(0.75, 0.95, 1), -1),
            "cash" if inst.rng.random() < 0.5 else "wire",
            loc=home,
            location_id="BR-0001",
            cp_name="CASH WITHDRAWAL",
        )


def many_new_p2p_payers(
    inst: Inst, victim: int, buyers: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Many first-time payers in round amounts, often at night or weekends. Returns the inflows."""
    n = inst.per_period((16, 30))
    ts = inst.night(n, 0.45)
    usd = ROUND[inst.rng.integers(0, len(ROUND), n)]
    if inst.evasion:
        usd = usd + np.round(inst.rng.uniform(0, 9 * inst.evasion, n))
    ids = pl.Series([f"P2P-{inst.id}-{victim}-{i}" for i in range(n)])
    inst.add(
        victim,
        T + "many_new_p2p_payers",
        ts,
        "in",
        usd,
        "p2p",
        cp_id=ids,
        cp_name=inst.names(n),
        online=True,
        place=False,
    )
    for b in buyers:
        k = int(inst.rng.integers(1, 4))
        bts = inst.night(k, 0.6)
        busd = ROUND[inst.rng.integers(0, len(ROUND), k)]
        inst.transfer(
            b,
            victim,
            bts,
            busd,
            "p2p",
            typ_src=T + "pays_flagged_collection",
            typ_dst=T + "many_new_p2p_payers",
        )
        ts, usd = np.concatenate([ts, bts]), np.concatenate([usd, busd])
    return ts, usd


def pass_through_sweep(
    inst: Inst, victim: int, controller: int, ts: np.ndarray, usd: np.ndarray, hub: bool
) -> None:
    """Each day's takings forwarded to the controller within hours."""
    if len(ts) == 0:
        return
    day = (ts - inst.ctx.t0) // DAY_US
    days, inv = np.unique(day, return_inverse=True)
    total = np.bincount(inv, weights=usd)
    last = np.zeros(len(days), dtype=np.int64)
    np.maximum.at(last, inv, ts)
    out_ts = last + hours_us(inst.rng.uniform(0.5, inst.stretch(10), len(days)))
    amt = np.round(total * inst.rng.uniform(0.82, 0.97, len(days)), 2)
    inst.transfer(
        victim,
        controller,
        out_ts,
        amt,
        "p2p",
        typ_src=T + "pass_through_sweep",
        typ_dst="network.controller_hub" if hub else None,
    )


def many_wages_one_account(inst: Inst, c: int, workers: list[str]) -> None:
    """Payroll credits for several named employees from several employers, into one account."""
    origins = ("FIELDSTAR FARMS", "CLEANPRO SERVICES", "SUNNY ACRES PACKING", "METRO JANITORIAL")
    k = min(len(workers), int(inst.rng.integers(3, 5)))
    for j in range(k):
        days = np.arange(int(inst.rng.integers(0, 14)), inst.days, 14)
        n = len(days)
        inst.add(
            c,
            T + "many_wages_one_account",
            inst.at(days, hours_us(inst.rng.uniform(5, 8, n))),
            "in",
            np.round(inst.rng.uniform(500, 900, n), 2),
            "ach",
            cp_name=origins[j % len(origins)],
            cp_id=f"ORIG-{origins[j % len(origins)][:8]}",
            memo=f"PAYROLL {workers[j].upper()}",
            place=False,
        )


def cash_only_life(inst: Inst, c: int) -> None:
    """No ACH at all; lives on steady cash deposits."""
    inst.pop.cash_only[c] = True
    inst.pop.payroll[c] = inst.pop.rent[c] = inst.pop.benefits[c] = False
    inst.pop.traveller[c] = False
    n = inst.per_period((4, 8))
    inst.add(
        c,
        T + "cash_only_life",
        inst.when(n, "office"),
        "in",
        np.round(lognormal(inst.rng, n, 600, 0.5, 100, 3000), -1),
        "cash",
        location_id="BR-0002",
    )
