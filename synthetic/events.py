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


def _scalar(name: str, v: object, dtype: pl.DataType) -> pl.Series:
    """A one-value Series of ``dtype`` (cached: the same few values recur in every chunk)."""
    key = (name, v)
    one = _SCALARS.get(key)
    if one is None:
        one = pl.Series(name, [v], dtype=dtype)
        if len(_SCALARS) < 100_000:
            _SCALARS[key] = one
    return one


class _Column:
    """The parts of one column, kept raw until ``frame()`` builds the column once.

    Every part is a scalar (an index into ``values``, repeated) or a vector (a slice of one
    group of same-typed vectors). ``frame()`` concatenates each group, casts it once, and
    gathers the column in row order from [scalar values, group 1, group 2, ...].
    """

    __slots__ = ("dtype", "groups", "keys", "name", "offs", "scalar_ix", "values")

    def __init__(self, name: str, dtype: pl.DataType) -> None:
        self.name = name
        self.dtype = dtype
        self.values: list[pl.Series] = []  # distinct scalars, one-value Series of dtype
        self.scalar_ix: dict[object, int] = {}
        self.groups: dict[object, tuple[str, list[object], list[int]]] = {}  # key -> parts
        self.keys: list[int] = []  # per add: -1 - scalar index, or group number
        self.offs: list[int] = []  # per add: offset of a vector part inside its group

    def add(self, v: object, n: int) -> None:
        """Record ``v`` (a scalar, or ``n`` values whose length the caller checked)."""
        if isinstance(v, pl.Series | np.ndarray | list | tuple):
            if isinstance(v, pl.Series):
                kind, key = "series", ("series", v.dtype)
            elif isinstance(v, np.ndarray):
                # object arrays are typed by their contents: never mix them with other parts
                kind = "array"
                key = (
                    ("array", v.dtype.kind, len(self.groups))
                    if v.dtype.kind == "O"
                    else ("array", v.dtype.kind if v.dtype.kind in "US" else v.dtype.str)
                )
            else:
                kind, key = "list", ("list",)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = (kind, [], [0])
            gnum = list(self.groups).index(key)
            size = group[2]
            group[1].append(v)
            self.keys.append(gnum)
            self.offs.append(size[0])
            size[0] += n
            return
        if isinstance(v, np.generic):
            v = v.item()
        ix = self.scalar_ix.get(v)
        if ix is None:
            ix = self.scalar_ix[v] = len(self.values)
            self.values.append(_scalar(self.name, v, self.dtype))
        self.keys.append(-1 - ix)
        self.offs.append(0)

    def _group(self, kind: str, parts: list[object]) -> pl.Series:
        if kind == "array":
            arr = parts[0] if len(parts) == 1 else np.concatenate(parts)  # type: ignore[arg-type]
            s = pl.Series(self.name, arr)
        elif kind == "series":
            s = pl.concat(parts) if len(parts) > 1 else parts[0]  # type: ignore[arg-type]
        else:
            flat: list[object] = []
            for p in parts:
                flat.extend(p)  # type: ignore[call-overload]
            return pl.Series(self.name, flat, dtype=self.dtype)
        s = s.alias(self.name)
        return s if s.dtype == self.dtype else s.cast(self.dtype)

    def build(self, ns: np.ndarray, row0: np.ndarray) -> pl.Series:
        total = int(ns.sum())
        keys = np.asarray(self.keys, dtype=np.int64)
        if not self.groups and len(self.values) == 1:
            return self.values[0].new_from_index(0, total)
        built = [self._group(kind, parts) for kind, parts, _ in self.groups.values()]
        if not self.values and len(built) == 1:
            return built[0]  # one group of vectors, added in row order: already the column
        src = pl.concat([*self.values, *built], rechunk=True)
        nv = len(self.values)
        bases = np.cumsum([nv] + [len(b) for b in built])  # (the last one is unused)
        vec = keys >= 0
        start = np.where(vec, bases[np.maximum(keys, 0)] + np.asarray(self.offs) - row0, -1 - keys)
        index = np.repeat(start, ns) + np.arange(total, dtype=np.int64) * np.repeat(vec, ns)
        return src[index]


class EventBuffer:
    """Collects rows of one chunk; ``frame()`` builds each column once."""

    def __init__(self, home: np.ndarray) -> None:
        self._cols = {k: _Column(k, dt) for k, dt in INTERNAL.items()}
        self._ns: list[int] = []
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
        for v in cols.values():  # validate every length before recording anything
            if isinstance(v, pl.Series | np.ndarray | list | tuple) and len(v) != n:
                bad = next(k for k, x in cols.items() if x is v)
                raise ValueError(f"event column {bad} has {len(v)} values, expected {n}")
        get = cols.get
        for k, col in self._cols.items():
            col.add(get(k), n)
        self._ns.append(n)

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
        if not self._ns:
            return pl.DataFrame(schema=INTERNAL)
        ns = np.asarray(self._ns, dtype=np.int64)
        row0 = np.cumsum(ns) - ns
        return pl.DataFrame([col.build(ns, row0) for col in self._cols.values()])


def ids(prefix: str, numbers: np.ndarray, width: int = 3) -> pl.Series:
    """Identifier strings such as ``ATM-007`` from integers."""
    return prefix + pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)


def take(values: pl.Series, idx: object) -> pl.Series:
    """``values.gather(idx)``, minus the one-off lazy query that ``Series.gather`` runs per call."""
    return values[np.asarray(idx, dtype=np.int64)]
