"""The event buffer every generator writes to, and local-time helpers.

Generators describe events in *local wall-clock time* (microseconds since the epoch, read as a
naive local time) at a city index ``loc``; the writer turns them into UTC with that city's zone.
Every argument of ``EventBuffer.add`` may be a scalar (broadcast) or a vector of one length.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000

#: Internal row layout (converted to the canonical ``Transactions`` frame by ``finalize``).
INTERNAL: dict[str, pl.DataType] = {
    "cust": pl.Int32(),  # chunk-local customer index (owner of the row)
    "ts": pl.Int64(),  # local wall-clock µs
    "direction": pl.String(),
    "usd": pl.Float64(),  # intended value in USD
    "channel": pl.String(),
    "mcc": pl.Int16(),
    "merchant": pl.String(),
    "cp_cust": pl.Int32(),  # other side when it is a customer of the bank
    "cp_id": pl.String(),
    "cp_name": pl.String(),
    "cp_country": pl.String(),
    "loc": pl.Int16(),  # city index where it happened (null: the owner's home city)
    "place": pl.Boolean(),  # write city/region/country (false: online, no place)
    "country": pl.String(),  # override of the place's country (e.g. a foreign web merchant)
    "location_id": pl.String(),
    "memo": pl.String(),
    "online": pl.Boolean(),  # done through online banking (device and ip filled)
    "wallet_address": pl.String(),
    "wallet_category": pl.String(),
    "passenger_name": pl.String(),
    "inst": pl.String(),  # scheme instance id (truth)
    "typ": pl.String(),  # typology ids, ';'-separated (truth)
}

# Hour-of-day weight profiles (local time), 24 values each.
_H = {
    "day": [
        1,
        0.5,
        0.3,
        0.2,
        0.3,
        1,
        3,
        6,
        9,
        11,
        12,
        13,
        14,
        13,
        12,
        12,
        13,
        14,
        13,
        11,
        8,
        5,
        3,
        2,
    ],
    "meal": [1, 0.5, 0.2, 0.1, 0.1, 0.5, 2, 5, 6, 4, 4, 12, 16, 10, 4, 3, 4, 8, 14, 14, 9, 5, 3, 2],
    "evening": [
        3,
        1.5,
        0.8,
        0.3,
        0.2,
        0.3,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        7,
        7,
        8,
        10,
        13,
        15,
        15,
        13,
        10,
        7,
        5,
    ],
    "office": [0, 0, 0, 0, 0, 0, 0.5, 2, 8, 12, 12, 12, 10, 11, 12, 12, 10, 6, 2, 0.5, 0, 0, 0, 0],
    "post": [0, 0, 0, 0, 0, 1, 4, 8, 6, 3, 1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "night": [12, 11, 9, 7, 4, 2, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 8, 11],
    "late": [9, 6, 3, 1, 0.5, 0.3, 0.5, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12, 11],
    "any": [4, 3, 2, 2, 2, 3, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 5, 5],
}
HOURS = {k: np.asarray(v, dtype=float) / sum(v) for k, v in _H.items()}

WEEK = {
    "flat": np.ones(7),
    "weekday": np.array([1, 1, 1, 1, 1, 0.05, 0.02]),
    "weekend": np.array([0.8, 0.8, 0.8, 0.9, 1.2, 1.6, 1.3]),
}


def local_epoch_us(d: date) -> int:
    """Local wall-clock µs of midnight at the start of ``d``."""
    return (d - date(1970, 1, 1)).days * DAY_US


def tod(rng: np.random.Generator, n: int, profile: str = "day") -> np.ndarray:
    """Time of day in µs, drawn from an hour profile (minutes and seconds uniform)."""
    h = rng.choice(24, size=n, p=HOURS[profile]).astype(np.int64)
    return h * HOUR_US + rng.integers(0, HOUR_US, n)


def in_window(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """Times of day in µs uniform in [lo, hi) hours; ``hi`` may pass 24 (spills to next day)."""
    return ((lo + (hi - lo) * rng.random(n)) * HOUR_US).astype(np.int64)


def day_weights(start: date, days: int, week: str) -> np.ndarray:
    """Probability of each day of the period from a weekday profile."""
    wd = (np.arange(days) + start.weekday()) % 7
    w = WEEK[week][wd]
    return w / w.sum()


def lognormal(
    rng: np.random.Generator, n: int, median: float, sigma: float, lo: float = 0.5, hi: float = 1e7
) -> np.ndarray:
    """Amounts from a lognormal with the given median, clipped to [lo, hi]."""
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


_SCALARS: dict[tuple[str, object], pl.Series] = {}


def _series(name: str, v: object, n: int, dtype: pl.DataType) -> pl.Series:
    if isinstance(v, pl.Series):
        return v.alias(name).cast(dtype)
    if isinstance(v, np.ndarray):
        return pl.Series(name, v).cast(dtype)
    if isinstance(v, list | tuple):
        return pl.Series(name, list(v), dtype=dtype)
    if isinstance(v, np.generic):
        v = v.item()
    key = (name, v)
    one = _SCALARS.get(key)
    if one is None:
        one = pl.Series(name, [v], dtype=dtype)
        if len(_SCALARS) < 100_000:
            _SCALARS[key] = one
    return one.new_from_index(0, n)


class EventBuffer:
    """Collects rows of one chunk; ``frame()`` concatenates them."""

    def __init__(self, home: np.ndarray) -> None:
        self._cols: dict[str, list[pl.Series]] = {k: [] for k in INTERNAL}
        self.home = home  # home city index of each chunk-local customer

    def add(
        self,
        cust: object,
        ts: object,
        direction: object,
        usd: object,
        channel: object,
        **kw: object,
    ) -> None:
        """Add rows. Keyword names are the other ``INTERNAL`` columns."""
        cols = {
            "cust": cust,
            "ts": ts,
            "direction": direction,
            "usd": usd,
            "channel": channel,
            **kw,
        }
        unknown = set(cols) - set(INTERNAL)
        if unknown:
            raise TypeError(f"unknown event column(s): {sorted(unknown)}")
        n = 1
        for v in cols.values():
            if isinstance(v, pl.Series | np.ndarray | list | tuple):
                n = len(v)
                break
        if n == 0:
            return
        cols.setdefault("place", True)
        cols.setdefault("online", False)
        for k, dt in INTERNAL.items():
            s = _series(k, cols.get(k), n, dt)
            if len(s) != n:
                raise ValueError(f"event column {k} has {len(s)} values, expected {n}")
            self._cols[k].append(s)

    def transfer(
        self,
        src: object,
        dst: object,
        ts: object,
        usd: object,
        channel: str,
        *,
        typ_src: str | None = None,
        typ_dst: str | None = None,
        inst: str | None = None,
        **kw: object,
    ) -> None:
        """A transfer between two customers: one row on each side, each naming the other."""
        kw.setdefault("online", True)
        kw.setdefault("place", False)
        # both sides share the sender's clock so that the two rows carry the same UTC time
        kw.setdefault("loc", self.home[np.asarray(src)])
        self.add(
            src,
            ts,
            "out",
            usd,
            channel,
            cp_cust=dst,
            typ=typ_src,
            inst=inst if typ_src else None,
            **kw,
        )
        self.add(
            dst,
            ts,
            "in",
            usd,
            channel,
            cp_cust=src,
            typ=typ_dst,
            inst=inst if typ_dst else None,
            **kw,
        )

    def frame(self) -> pl.DataFrame:
        if not self._cols["cust"]:
            return pl.DataFrame(schema=INTERNAL)
        return pl.DataFrame([pl.concat(parts, rechunk=True) for parts in self._cols.values()])


def ids(prefix: str, numbers: np.ndarray, width: int = 3) -> pl.Series:
    """Identifier strings such as ``ATM-007`` from integers."""
    return prefix + pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
