"""Lodging and travel injectors (HT-LOD-01…06), around a shared itinerary of cities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from txflags.synthetic import catalog as cat
from txflags.synthetic.cities import city_index
from txflags.synthetic.events import lognormal, take
from txflags.synthetic.schemes.base import Inst, circuit, hours_us, short_stays, stacked

T = "lodging."


@dataclass
class Itinerary:
    """Where a group is: segment i covers days [start[i], start[i+1]) in city[i]."""

    city: np.ndarray
    start: np.ndarray

    def city_on(self, day: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.start, day, side="right") - 1
        return self.city[np.clip(i, 0, len(self.city) - 1)].astype(np.int16)


def make_itinerary(inst: Inst, home: int, circuit: bool) -> Itinerary:
    """A circuit through 3–5 other cities (and back home now and then), or home only."""
    if not circuit:
        return Itinerary(np.array([home], dtype=np.int16), np.array([0]))
    stops = inst.other_us_cities(int(inst.rng.integers(3, 6)), home)
    cities, starts, d = [], [], 0
    k = 0
    while d < inst.days:
        cities.append(stops[k % len(stops)] if k % (len(stops) + 1) != len(stops) else home)
        starts.append(d)
        d += int(inst.rng.integers(3, 6) * (1 + inst.evasion))
        k += 1
    return Itinerary(np.array(cities, dtype=np.int16), np.array(starts))


def _also(inst: Inst, c: int, typ: str, extra: list[str]) -> str:
    """``typ`` plus the further typologies the same rows express (all flagged on ``c``)."""
    for t in [typ, *extra]:
        inst.flag(c, t)
    return ";".join([typ, *extra])


def motel_stacking(inst: Inst, c: int, it: Itinerary) -> None:
    """Many 1–2 night stays at several budget properties."""
    n = inst.per_period((6, 11))
    day = inst.days_in(n)
    nights = inst.rng.integers(1, 3, n)
    names, mcc = cat.pick(inst.rng, cat.MOTEL, n)
    # random stays sometimes stack (two properties a day, four in a week): say so in the truth
    extra = [T + "same_day_multiple_bookings"] if stacked(day, names.to_list()) else []
    inst.ctx.buf.add(
        np.full(n, c, dtype=np.int32),
        inst.at(day, hours_us(inst.rng.uniform(7, 12, n))),
        "out",
        np.round(nights * lognormal(inst.rng, n, 85, 0.2), 2),
        "card",
        mcc=mcc,
        merchant=names,
        loc=it.city_on(day),
        inst=inst.id,
        typ=_also(inst, c, T + "motel_stacking", extra),
    )


def same_day_multiple_bookings(inst: Inst, c: int, it: Itinerary) -> None:
    """Two or three rooms booked the same day, week after week."""
    weeks = max(1, inst.days // 7)
    day = np.repeat(
        np.arange(weeks) * 7 + inst.rng.integers(0, 7, weeks), inst.rng.integers(2, 4, weeks)
    )
    day = np.clip(day, 0, inst.days - 1)
    n = len(day)
    names, mcc = cat.pick(inst.rng, cat.MOTEL, n)
    # rooms every week at several motels are short stays too, and on a circuit a city circuit
    extra = [T + "motel_stacking"] if short_stays(day, names.to_list()) else []
    if circuit(day, it.city_on(day), int(inst.pop.city[c])):
        extra.append(T + "city_circuit")
    inst.ctx.buf.add(
        np.full(n, c, dtype=np.int32),
        inst.at(day, hours_us(inst.rng.uniform(13, 23, n))),
        "out",
        np.round(lognormal(inst.rng, n, 90, 0.2), 2),
        "card",
        mcc=mcc,
        merchant=names,
        loc=it.city_on(day),
        inst=inst.id,
        typ=_also(inst, c, T + "same_day_multiple_bookings", extra),
    )


def city_circuit(inst: Inst, c: int, it: Itinerary) -> None:
    """Cash from ATMs in each city of the circuit."""
    seg = np.repeat(np.arange(len(it.city)), inst.rng.integers(1, 3, len(it.city)))
    seg = seg[it.start[seg] < inst.days]
    n = len(seg)
    ends = np.append(it.start[1:], inst.days)
    day = np.minimum(it.start[seg] + inst.rng.integers(0, 3, n), ends[seg] - 1)
    inst.add(
        c,
        T + "city_circuit",
        inst.at(day, hours_us(inst.rng.uniform(10, 26, n))),
        "out",
        inst.rng.choice([100.0, 200.0, 300.0, 400.0, 500.0], n),
        "atm",
        mcc=6011,
        merchant="ATM WITHDRAWAL",
        loc=it.city[seg],
        location_id=pl.Series([f"ATM-{int(x):03d}" for x in inst.rng.integers(1, 99, n)]),
    )


def tickets_for_others(inst: Inst, c: int, passengers: list[str]) -> None:
    """Bus, rail or air tickets for several named people."""
    n = inst.per_period((4, 8))
    names, mcc = cat.pick(inst.rng, cat.BUS + cat.AIRLINE, n)
    who = take(pl.Series(passengers), inst.rng.integers(0, len(passengers), n))
    inst.add(
        c,
        T + "tickets_for_others",
        inst.when(n, "evening"),
        "out",
        np.round(lognormal(inst.rng, n, 120, 0.6, 25, 900), 2),
        "card",
        mcc=mcc,
        merchant=names,
        passenger_name=who,
        online=True,
        place=False,
    )


def night_rides(inst: Inst, c: int, it: Itinerary) -> None:
    """Heavy ride-share use, much of it at night."""
    n = inst.per_period((20, 35))
    ts = inst.night(n, 0.55)
    day = (ts - inst.ctx.t0) // 86_400_000_000
    names, mcc = cat.pick(inst.rng, cat.RIDE, n)
    inst.add(
        c,
        T + "night_rides",
        ts,
        "out",
        np.round(lognormal(inst.rng, n, 19, 0.5), 2),
        "card",
        mcc=mcc,
        merchant=names,
        loc=it.city_on(day),
    )


def travel_to_offend(inst: Inst, c: int) -> None:
    """Long or repeated trips to a child-exploitation destination, with cash and gifts there."""
    dest = city_index(
        ("Manila", "Bangkok", "Santo Domingo", "Medellin")[int(inst.rng.integers(0, 4))]
    )
    trips = 2 if inst.days >= 40 else 1
    span = max(1, inst.days // trips)
    for t in range(trips):
        length = int(min(span - 1, inst.rng.integers(8, 15))) if span > 2 else 1
        d0 = t * span + int(inst.rng.integers(0, max(1, span - length)))
        inst.add(
            c,
            T + "travel_to_offend",
            inst.at(np.array([max(0, d0 - 10)]), hours_us(np.array([20.0]))),
            "out",
            np.round(lognormal(inst.rng, 1, 1400, 0.2), 2),
            "card",
            mcc=4511,
            merchant="SKYWAYS AIR",
            online=True,
            place=False,
        )
        k = int(inst.rng.integers(5, 9))
        day = d0 + inst.rng.integers(0, max(1, length), k)
        is_gift = inst.rng.random(k) < 0.3
        inst.add(
            c,
            T + "travel_to_offend",
            np.sort(inst.at(day, hours_us(inst.rng.uniform(10, 23, k)))),
            "out",
            np.round(
                np.where(
                    is_gift,
                    lognormal(inst.rng, k, 180, 0.5),
                    inst.rng.choice([100.0, 200.0, 300.0], k),
                ),
                2,
            ),
            take(pl.Series(["atm", "card"]), is_gift.astype(np.int64)),
            mcc=np.where(is_gift, 5944, 6011).astype(np.int16),
            merchant=take(
                pl.Series(["ATM WITHDRAWAL", "GOLDEN GIFTS JEWELRY"]), is_gift.astype(np.int64)
            ),
            loc=dest,
        )
        inst.add(
            c,
            T + "travel_to_offend",
            inst.at(np.array([d0 + length]), hours_us(np.array([9.0]))),
            "out",
            np.round(length * lognormal(inst.rng, 1, 60, 0.3), 2),
            "card",
            mcc=7011,
            merchant="SEASIDE GUESTHOUSE",
            loc=dest,
        )
