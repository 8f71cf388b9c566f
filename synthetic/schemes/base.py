"""Shared machinery of scheme injectors: member pools, instances, partial signals, evasion."""

from __future__ import annotations

import numpy as np

from txflags.synthetic import catalog as cat
from txflags.synthetic.cities import US_CITIES
from txflags.synthetic.context import Ctx
from txflags.synthetic.events import DAY_US, in_window, tod

_EPOCH_DAYS_1970 = 0


class Pool:
    """Customers not yet used by a scheme or lookalike, in a seeded random order."""

    def __init__(self, ctx: Ctx) -> None:
        rng = ctx.rng("pool")
        pop = ctx.pop
        order = rng.permutation(pop.n)
        us = np.isin(pop.city, US_CITIES)
        self._indiv = [int(i) for i in order if not pop.is_biz[i] and us[i]]
        self._biz = [int(i) for i in order if pop.is_biz[i] and us[i]]

    def take(self, k: int, business: bool = False) -> list[int] | None:
        """``k`` unused US customers, or None (and nothing taken) when too few remain."""
        src = self._biz if business else self._indiv
        if len(src) < k:
            return None
        out, src[:] = src[:k], src[k:]
        return out

    def __len__(self) -> int:
        return len(self._indiv)


class Inst:
    """One scheme instance: its id, seeded generator, members and the rows it writes."""

    def __init__(self, ctx: Ctx, scheme: str, k: int) -> None:
        self.ctx = ctx
        self.pop = ctx.pop
        self.id = f"{scheme}-{ctx.chunk:05d}-{k:03d}"
        self.rng = ctx.rng("scheme", scheme, k)
        self.days = ctx.days

    # --- membership and truth -------------------------------------------------------------
    def member(self, cust: int, role: str) -> None:
        self.ctx.truth.join(cust, self.id, role)

    def flag(self, cust: int, typ: str) -> None:
        self.ctx.truth.flag(cust, typ)

    def keep(self, p_extra: float = 0.0) -> bool:
        """Whether an optional indicator is injected (dropped with probability ``partial``)."""
        return bool(self.rng.random() >= min(1.0, self.ctx.cfg.partial + p_extra))

    # --- rows ----------------------------------------------------------------------------
    def add(
        self,
        cust: int,
        typ: str,
        ts: np.ndarray,
        direction: str,
        usd: object,
        channel: str,
        **kw: object,
    ) -> None:
        """Rows of one member tagged with one typology (flags it when any row is written)."""
        n = len(ts)
        if n == 0:
            return
        self.ctx.buf.add(
            np.full(n, cust, dtype=np.int32),
            ts,
            direction,
            usd,
            channel,
            inst=self.id,
            typ=typ,
            **kw,
        )
        self.flag(cust, typ)

    def transfer(
        self,
        src: int,
        dst: int,
        ts: np.ndarray,
        usd: object,
        channel: str,
        *,
        typ_src: str | None,
        typ_dst: str | None,
        **kw: object,
    ) -> None:
        n = len(ts)
        if n == 0:
            return
        self.ctx.buf.transfer(
            np.full(n, src, dtype=np.int32),
            np.full(n, dst, dtype=np.int32),
            ts,
            usd,
            channel,
            typ_src=typ_src,
            typ_dst=typ_dst,
            inst=self.id,
            **kw,
        )
        if typ_src:
            for t in typ_src.split(";"):
                self.flag(src, t)
        if typ_dst:
            for t in typ_dst.split(";"):
                self.flag(dst, t)

    # --- time and amounts ----------------------------------------------------------------
    def per_period(self, per30: tuple[int, int]) -> int:
        """A count scaled from 'per 30 days' to the period (at least the lower bound... of 1)."""
        lo, hi = per30
        n = self.rng.integers(lo, hi + 1) * max(self.days, 1) / 30
        return max(1, int(round(n)))

    def days_in(self, n: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
        hi = self.days if hi is None else hi
        return np.sort(self.rng.integers(lo, max(lo + 1, hi), n))

    def at(self, day: np.ndarray, tod_us: np.ndarray) -> np.ndarray:
        return self.ctx.at(day, tod_us)

    def when(self, n: int, profile: str = "any", lo: int = 0, hi: int | None = None) -> np.ndarray:
        """``n`` sorted local times on random days of [lo, hi) with an hour profile."""
        return np.sort(self.at(self.days_in(n, lo, hi), tod(self.rng, n, profile)))

    def night(self, n: int, share: float = 0.7, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Times with about ``share`` between 22:00 and 06:00 local."""
        d = self.days_in(n, lo, hi)
        is_night = self.rng.random(n) < share
        t = np.where(is_night, in_window(self.rng, n, 22, 30), in_window(self.rng, n, 10, 21))
        return np.sort(self.at(d, t))

    @property
    def evasion(self) -> float:
        return self.ctx.cfg.evasion

    def stretch(self, hours: float) -> float:
        """A delay stretched by evasion (activity spread over more time)."""
        return hours * (1 + 2 * self.evasion)

    def under(self, line: float, n: int) -> np.ndarray:
        """Amounts just under a reporting line; evasion pushes them further below."""
        lo = 0.9 - 0.1 * self.evasion
        hi = 0.995 - 0.08 * self.evasion
        return np.round(line * self.rng.uniform(lo, hi, n), 2)

    def names(self, n: int) -> list[str]:
        return cat.fake_names(self.rng, n).to_list()

    def other_us_cities(self, k: int, home: int) -> np.ndarray:
        choices = US_CITIES[US_CITIES != home]
        return self.rng.choice(choices, size=min(k, len(choices)), replace=False).astype(np.int16)


def circuit(day: np.ndarray, city: np.ndarray, home: int, k: int = 3, span: int = 14) -> bool:
    """Whether activity on ``day`` in ``city`` reaches ``k`` distinct non-home cities within
    ``span`` days (HT-LOD-03's circuit), so the truth can name the behaviour it expresses."""
    away = city != home
    d, c = np.asarray(day)[away], np.asarray(city)[away]
    return any(len(set(c[(d >= x) & (d < x + span)].tolist())) >= k for x in np.unique(d))


def stacked(day: np.ndarray, names: list[str], same_day: int = 2, week: int = 4) -> bool:
    """Whether lodging charges on ``day`` at properties ``names`` are stacked (HT-LOD-02):
    ``same_day`` distinct properties on one day, or ``week`` charges within 7 days."""
    per: dict[int, set[str]] = {}
    for d, n in zip(np.asarray(day).tolist(), names, strict=True):
        per.setdefault(d, set()).add(n)
    if any(len(v) >= same_day for v in per.values()):
        return True
    d = np.sort(np.asarray(day))
    return bool((np.searchsorted(d, d + 7) - np.arange(len(d)) >= week).any())


def short_stays(day: np.ndarray, names: list[str], n: int = 6, props: int = 3) -> bool:
    """Whether ``n`` lodging charges at ``props`` distinct properties fall within 30 days
    (HT-LOD-01)."""
    d = np.asarray(day)
    nm = np.asarray(names, dtype=object)
    for x in np.unique(d):
        w = (d >= x) & (d < x + 30)
        if w.sum() >= n and len(set(nm[w].tolist())) >= props:
            return True
    return False


def set_age(ctx: Ctx, cust: int, lo: float, hi: float, rng: np.random.Generator) -> None:
    t0 = ctx.start.toordinal() - 719163
    ctx.pop.birth[cust] = int(t0 - rng.uniform(lo, hi) * 365.25)


def hours_us(h: np.ndarray | float) -> np.ndarray:
    return (np.asarray(h) * 3_600_000_000).astype(np.int64)


__all__ = ["Pool", "Inst", "set_age", "hours_us", "circuit", "stacked", "short_stays", "DAY_US"]
