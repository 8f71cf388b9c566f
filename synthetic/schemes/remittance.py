"""Money-transfer injectors (HT-REM-01…06)."""

from __future__ import annotations

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.events import lognormal, take
from txflags.synthetic.schemes.base import Inst, hours_us

T = "remittance."


def many_senders_small(inst: Inst, c: int) -> None:
    """A collection point: many small transfers in from many new, unrelated senders."""
    windows = max(1, inst.days // 14)
    for w in range(windows):
        senders = inst.rng.integers(6, 11)
        n = inst.rng.integers(max(10, senders), 17)
        who = np.concatenate([np.arange(senders), inst.rng.integers(0, senders, n - senders)])
        ts = inst.when(n, "any", w * 14, min(inst.days, w * 14 + 14))
        ids = pl.Series([f"MTS-{inst.id}-{w}-{s}" for s in who])
        inst.add(
            c,
            T + "many_senders_small",
            ts,
            "in",
            np.round(lognormal(inst.rng, n, 180, 0.5, 40, 480), 2),
            "money_transfer",
            mcc=4829,
            merchant="QUICKWIRE MONEY",
            cp_id=ids,
            cp_name=take(pl.Series(inst.names(senders)), who),
            cp_country="US",
            online=False,
            place=False,
        )


def ocse_corridor(
    inst: Inst, c: int, beneficiary: str, ben_name: str, country: str, shared: bool, cover: bool
) -> None:
    """Frequent small night-time transfers to an exploitation corridor (buyer side)."""
    n = inst.per_period((4, 9))
    ts = inst.night(n, 0.65)
    typ = T + "ocse_corridor_small" + (";" + T + "shared_beneficiary" if shared else "")
    memo = None
    if cover:
        memo = take(pl.Series(list(cat.COVER_MEMOS)), inst.rng.integers(0, len(cat.COVER_MEMOS), n))
        typ += ";" + T + "cover_description"
    inst.ctx.buf.add(
        np.full(n, c, dtype=np.int32),
        ts,
        "out",
        np.round(lognormal(inst.rng, n, 55, 0.7, 7, 330), 2),
        "money_transfer",
        mcc=4829,
        merchant="GLOBALREMIT ONLINE",
        cp_id=beneficiary,
        cp_name=ben_name,
        cp_country=country,
        memo=memo,
        online=True,
        place=False,
        inst=inst.id,
        typ=typ,
    )
    for t in typ.split(";"):
        inst.flag(c, t)


def wages_sent_on(inst: Inst, worker: int, employer: int, country: str, agent: str) -> None:
    """Wages paid in (by the exploiting employer) and sent abroad within hours, every cycle.

    The employer pays a stipend, not a wage: what is left of a fortnight's pay after it withholds
    "housing", food, transport and the recruitment debt (FC14: large wage deductions), so its
    payroll is far below what it spends housing and feeding the workers (HT-LIF-03)."""
    pay_days = np.arange(int(inst.rng.integers(0, 14)), inst.days, 14)
    n = len(pay_days)
    if n == 0:
        return
    wage = np.round(inst.rng.uniform(150, 300, n), 2)
    pay_ts = inst.at(pay_days, inst.rng.integers(6, 9, n) * 3_600_000_000)
    inst.transfer(
        employer,
        worker,
        pay_ts,
        wage,
        "ach",
        typ_src=T + "employer_wages_sent_on",
        typ_dst=T + "wages_sent_on",
        memo="WAGES",
        online=False,
    )
    delay = hours_us(inst.rng.uniform(3, inst.stretch(48), n))
    inst.add(
        worker,
        T + "wages_sent_on",
        pay_ts + delay,
        "out",
        np.round(wage * inst.rng.uniform(0.7, 0.92, n), 2),
        "money_transfer",
        mcc=4829,
        merchant="SENDHOME AGENT",
        cp_id=f"BEN-{inst.id}-{worker}",
        cp_name=inst.names(1)[0],
        cp_country=country,
        location_id=agent,
        online=False,
    )


def sextortion_bursts(inst: Inst, c: int) -> None:
    """Bursts of rising payments to a brand-new overseas payee within 72 hours."""
    for b in range(int(inst.rng.integers(1, 3))):
        n = int(inst.rng.integers(3, 7))
        d0 = int(inst.rng.integers(0, max(1, inst.days - 3)))
        ts = np.sort(inst.at(np.full(n, d0), hours_us(inst.rng.uniform(14, 14 + 68, n))))
        usd = np.round(np.sort(lognormal(inst.rng, n, 120, 0.6, 25, 1500)), 2)
        channel = take(pl.Series(["p2p", "money_transfer", "p2p"]), inst.rng.integers(0, 3, n))
        country = ("NG", "CI", "PH")[int(inst.rng.integers(0, 3))]
        inst.ctx.buf.add(
            np.full(n, c, dtype=np.int32),
            ts,
            "out",
            usd,
            channel,
            cp_id=f"EXT-{inst.id}-{b}",
            cp_name=inst.names(1)[0],
            cp_country=country,
            online=True,
            place=False,
            inst=inst.id,
            typ=T + "sextortion_bursts",
        )
        inst.flag(c, T + "sextortion_bursts")
