"""Customers of one chunk: KYC attributes and the switches that shape their legitimate life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from txflags.schema import Accounts
from txflags.synthetic import catalog as cat
from txflags.synthetic.cities import CITIES, CURRENCIES, RESIDENT_WEIGHTS
from txflags.synthetic.events import take

_EPOCH = date(1970, 1, 1)


def _scramble(g: np.ndarray, mult: int, add: int, mod: int) -> np.ndarray:
    """A bijection of customer numbers onto [0, mod) (mult is coprime with mod)."""
    return (g.astype(np.int64) * mult + add) % mod


@dataclass
class Population:
    """Arrays indexed by the chunk-local customer number. Schemes may edit them in place."""

    gidx: np.ndarray  # global customer number
    is_biz: np.ndarray
    birth: np.ndarray  # days since epoch (individuals), -1 for businesses
    occupation: list[str | None]
    business_type: list[str | None]
    income: np.ndarray  # declared yearly income / turnover, USD
    opened: np.ndarray  # days since epoch
    city: np.ndarray  # home city index
    name: list[str]
    phone: list[str | None]
    email: list[str | None]
    address: list[str | None]
    id_number: list[str | None]
    device: list[str | None]
    ip: list[str | None]
    staff_flags: list[str | None]
    risk: list[str]
    # life switches
    payroll: np.ndarray  # bool: wages by ACH every two weeks
    benefits: np.ndarray  # bool: monthly government benefit
    rent: np.ndarray  # bool: pays rent/mortgage and utilities by ACH
    activity: np.ndarray  # multiplier of everyday card spending
    p2p: np.ndarray  # multiplier of P2P with friends and family
    cash: np.ndarray  # multiplier of ATM/cash use
    migrant: list[str | None]  # home country of migrant remitters
    crypto: np.ndarray  # bool: occasional crypto investor
    traveller: np.ndarray  # bool: takes a trip in the period
    cash_only: np.ndarray  # bool: no ACH/P2P at all (set by schemes)

    @property
    def n(self) -> int:
        return len(self.gidx)

    def account_ids(self) -> pl.Series:
        return (
            pl.Series("account_id", self.gidx).cast(pl.String).str.zfill(9).str.pad_start(10, "A")
        )

    def customer_ids(self) -> pl.Series:
        return (
            pl.Series("customer_id", self.gidx).cast(pl.String).str.zfill(9).str.pad_start(10, "C")
        )

    def currency(self) -> list[str]:
        return [CURRENCIES[c] for c in self.city]

    def accounts(self) -> pl.DataFrame:
        """The canonical ``Accounts`` frame of this chunk."""
        c = self.city
        birth = np.where(self.is_biz, np.iinfo(np.int32).min, self.birth)
        df = pl.DataFrame(
            {
                "account_id": self.account_ids(),
                "customer_id": self.customer_ids(),
                "customer_type": np.where(self.is_biz, "business", "individual"),
                "name": self.name,
                "birth_date": pl.Series(birth).cast(pl.Int32),
                "occupation": pl.Series(self.occupation, dtype=pl.String),
                "business_type": pl.Series(self.business_type, dtype=pl.String),
                "declared_income_usd": np.round(self.income, 2),
                "opened_at": pl.Series(self.opened).cast(pl.Int32).cast(pl.Date),
                "home_city": [CITIES[i].name for i in c],
                "home_region": [CITIES[i].region for i in c],
                "home_country": [CITIES[i].country for i in c],
                "timezone": [CITIES[i].tz for i in c],
                "risk_rating": self.risk,
                "phone": pl.Series(self.phone, dtype=pl.String),
                "email": pl.Series(self.email, dtype=pl.String),
                "address": pl.Series(self.address, dtype=pl.String),
                "id_number": pl.Series(self.id_number, dtype=pl.String),
                "staff_flags": pl.Series(self.staff_flags, dtype=pl.String),
            }
        ).with_columns(
            birth_date=pl.when(pl.col("birth_date") > np.iinfo(np.int32).min)
            .then(pl.col("birth_date"))
            .cast(pl.Date)
        )
        return Accounts.conform(df).collect()


def make_population(
    rng: np.random.Generator, first: int, n: int, start: date, business_share: float
) -> Population:
    """``n`` customers numbered from ``first``."""
    g = np.arange(first, first + n, dtype=np.int64)
    t0 = (start - _EPOCH).days
    is_biz = rng.random(n) < business_share
    age = np.clip(rng.normal(44, 16, n), 18, 92)
    birth = (t0 - age * 365.25 - rng.integers(0, 365, n)).astype(np.int64)
    occ_idx = rng.choice(len(cat.OCCUPATIONS), n, p=cat.OCC_WEIGHTS)
    occupation: list[str | None] = [cat.OCCUPATIONS[i] for i in occ_idx]
    btype_idx = rng.integers(0, len(cat.BUSINESS_TYPES), n)
    business_type: list[str | None] = [None] * n
    surname = take(pl.Series(cat.LAST), rng.integers(0, len(cat.LAST), n)).to_list()
    given = take(pl.Series(cat.FIRST), rng.integers(0, len(cat.FIRST), n)).to_list()
    name = [f"{a} {b}" for a, b in zip(given, surname, strict=True)]
    retired = np.array([o == "retired" for o in occupation])
    student = np.array([o == "student" for o in occupation])
    for i in np.flatnonzero(is_biz):
        bt = cat.BUSINESS_TYPES[btype_idx[i]]
        business_type[i] = bt
        occupation[i] = bt
        name[i] = f"{surname[i]} {bt.title()} LLC"
        retired[i] = student[i] = False
    age = np.where(student, rng.uniform(18, 26, n), np.where(retired, np.maximum(age, 62), age))
    birth = (t0 - age * 365.25).astype(np.int64)
    income = np.where(
        is_biz, rng.lognormal(np.log(600_000), 0.8, n), rng.lognormal(np.log(52_000), 0.5, n)
    )
    income = np.where(student, rng.uniform(0, 15_000, n), income)
    income = np.where(retired, rng.lognormal(np.log(30_000), 0.4, n), income)
    opened = (t0 - rng.integers(30, 4000, n)).astype(np.int64)
    city = rng.choice(len(CITIES), n, p=RESIDENT_WEIGHTS).astype(np.int16)
    s1 = _scramble(g, 7_654_321, 1_234_567, 10_000_000)
    s2 = _scramble(g, 2_654_435_761, 97_531, 10_000_000_000)
    s3 = _scramble(g, 40_503, 12_345, 1_000_000)
    streets = rng.integers(0, len(cat.STREETS), n)
    suffix = rng.integers(0, len(cat.SUFFIX), n)
    cities = [CITIES[i] for i in city]
    phone: list[str | None] = [
        f"+1-555-{s // 10000:03d}-{s % 10000:04d}"
        if cities[i].country in ("US", "CA")
        else f"+99-{s:07d}"
        for i, s in enumerate(s1)
    ]
    email: list[str | None] = [
        f"{given[i].lower()}.{surname[i].lower()}.{s3[i]:06d}@example.com" for i in range(n)
    ]
    address: list[str | None] = [
        f"{100 + s3[i] % 9000} {cat.STREETS[streets[i]]} {cat.SUFFIX[suffix[i]]} "
        f"Unit {1 + (s3[i] // 9000) % 500}, {cities[i].name}"
        for i in range(n)
    ]
    id_number: list[str | None] = [f"ID{s:010d}" for s in s2]
    has_device = rng.random(n) < 0.9
    device: list[str | None] = [
        f"dev-{s:08x}" if d else None for s, d in zip(s2 % 4_294_967_296, has_device, strict=True)
    ]
    ip: list[str | None] = [
        f"100.{64 + (s >> 16) % 64}.{(s >> 8) % 256}.{s % 256}" for s in (s2 % 4_194_304)
    ]
    risk = rng.choice(np.array(["low", "medium", "high"]), n, p=[0.8, 0.17, 0.03]).tolist()
    indiv = ~is_biz
    payroll = (
        indiv
        & ~retired
        & ~student
        & np.array([o not in ("unemployed", "self-employed") for o in occupation])
        & (rng.random(n) < 0.92)
    )
    benefits = indiv & (retired | np.array([o == "unemployed" for o in occupation]))
    migrant: list[str | None] = [None] * n
    is_migrant = indiv & (rng.random(n) < 0.05)
    for i in np.flatnonzero(is_migrant):
        migrant[i] = cat.MIGRANT_HOMES[rng.integers(0, len(cat.MIGRANT_HOMES))]
    return Population(
        gidx=g,
        is_biz=is_biz,
        birth=birth,
        occupation=occupation,
        business_type=business_type,
        income=income,
        opened=opened,
        city=city,
        name=name,
        phone=phone,
        email=email,
        address=address,
        id_number=id_number,
        device=device,
        ip=ip,
        staff_flags=[None] * n,
        risk=risk,
        payroll=payroll | is_biz,
        benefits=benefits,
        rent=indiv & (rng.random(n) < 0.85),
        activity=rng.lognormal(0, 0.35, n),
        p2p=rng.lognormal(0, 0.6, n) * (rng.random(n) < 0.8),
        cash=rng.lognormal(0, 0.6, n),
        migrant=migrant,
        crypto=indiv & (rng.random(n) < 0.04),
        traveller=indiv & (rng.random(n) < 0.15),
        cash_only=np.zeros(n, dtype=bool),
    )
