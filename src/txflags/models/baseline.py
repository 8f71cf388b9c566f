"""Per-account baselines: exponentially weighted mean and variance of each daily feature,
vectorised over all accounts with numpy (one row of state per account, not one river object).

The update is river's ``stats.EWMean``/``stats.EWVar`` rule with
``fading_factor = 1 - 0.5 ** (1 / half_life_days)``; the first value sets the mean, variance 0:

    diff = x - mean;  mean += a * diff;  var = (1 - a) * (var + a * diff ** 2)

Baselines learn on the days an account is active (an inactive day is not a zero), so "usual"
means "on a day this account transacts". Only increases count as unusual: for each feature
``z = (x - mean) / max(std, rel_floor * mean, floor[kind])`` and the score is
``z_max ** 2 / (z_max ** 2 + z_half ** 2)`` (``z_max = z_half`` gives 0.5). An account with fewer
than ``min_days`` learned days scores 0 with the reason "building baseline".

>>> import polars as pl
>>> from txflags.models.baseline import EWBaseline
>>> m = EWBaseline(features=("usd_in_cash",), min_days=3)
>>> for v in (100.0, 120.0, 110.0):
...     _ = m.learn_many(pl.DataFrame({"account_id": ["A"], "usd_in_cash": [v]}))
>>> today = {"account_id": "A", "usd_in_cash": 900.0}
>>> round(m.score_one(today), 2)
0.88
>>> m.explain_one(today)[0].sentence
"cash deposits today $900, 8.9× this account's usual (EW mean $101)"
"""

from __future__ import annotations

from typing import Self

import numpy as np
import polars as pl

from txflags.models.base import Contribution, DailyModel, top_contributions
from txflags.models.daily import FEATURES, fmt_value, label

#: Features a per-account baseline tracks by default (amounts, counts and shares that have a
#: meaningful "usual" for one customer).
BASELINE_FEATURES = (
    "n_in", "n_out", "usd_in", "usd_out",
    "usd_in_cash", "usd_out_cash", "usd_in_p2p", "usd_out_p2p", "usd_in_mt", "usd_out_mt",
    "usd_in_crypto", "usd_out_crypto", "usd_out_wire",
    "n_counterparties", "n_new_counterparties", "night_share", "n_cities",
    "usd_corridor_out", "share_lodging", "share_ads_adult",
)
#: Smallest deviation scale per feature kind (so $5 above a constant $0 is not "infinite").
FLOORS = {"amount": 50.0, "count": 2.0, "share": 0.15}


class EWBaseline(DailyModel):
    """Exponentially weighted per-account baseline of each feature; score = largest rise."""

    name = "baseline"

    def __init__(
        self,
        half_life_days: float = 30.0,
        min_days: int = 7,
        z_half: float = 6.0,
        rel_floor: float = 0.25,
        features: tuple[str, ...] = BASELINE_FEATURES,
        min_strength: float = 2.0,
    ) -> None:
        self.half_life_days = half_life_days
        self.min_days = min_days
        self.z_half = z_half
        self.rel_floor = rel_floor
        self.features = features
        self.min_strength = min_strength

    @property
    def fading_factor(self) -> float:
        """river's ``fading_factor`` for this half-life (weight of the newest value)."""
        return 1.0 - 0.5 ** (1.0 / float(self.half_life_days))

    @property
    def n_accounts(self) -> int:
        return len(self.accounts_) if self.is_fitted else 0

    # -- state ----------------------------------------------------------------------------------
    def _init_state(self) -> None:
        self.features_ = tuple(self.features)
        self.accounts_ = pl.Series("account_id", [], dtype=pl.String)
        self.n_ = np.zeros(0, dtype=np.int64)
        self.mean_ = np.zeros((0, len(self.features_)))
        self.var_ = np.zeros((0, len(self.features_)))

    def _lookup(self, ids: pl.Series) -> np.ndarray:
        """Row of each account in the state (-1 if unknown)."""
        known = pl.DataFrame({"account_id": self.accounts_}).with_row_index("_i")
        got = pl.DataFrame({"account_id": ids.cast(pl.String)}).join(
            known, on="account_id", how="left", maintain_order="left"
        )
        return got["_i"].fill_null(-1).cast(pl.Int64).to_numpy()

    def _grow(self, ids: pl.Series) -> np.ndarray:
        idx = self._lookup(ids)
        new = ids.filter(pl.Series(idx < 0)).unique(maintain_order=True)
        if new.len():
            start = len(self.accounts_)
            self.accounts_ = pl.concat([self.accounts_, new.cast(pl.String).rename("account_id")])
            k = len(self.features_)
            self.n_ = np.concatenate([self.n_, np.zeros(new.len(), dtype=np.int64)])
            self.mean_ = np.vstack([self.mean_, np.full((new.len(), k), np.nan)])
            self.var_ = np.vstack([self.var_, np.zeros((new.len(), k))])
            idx = self._lookup(ids)
            assert (idx >= start).sum() >= new.len()
        return idx

    # -- learning -------------------------------------------------------------------------------
    def learn_many(self, daily: pl.DataFrame) -> Self:
        """Update the baselines of the accounts in ``daily``, one day at a time in day order."""
        if not self.is_fitted:
            self._init_state()
        if daily.height == 0:
            return self
        days = daily.partition_by("day", maintain_order=True) if "day" in daily.columns else [
            daily
        ]
        if "day" in daily.columns:
            days.sort(key=lambda f: f["day"][0])
        a = self.fading_factor
        for frame in days:
            idx = self._grow(frame["account_id"])
            x = self._matrix(frame)
            mean, var = self.mean_[idx], self.var_[idx]
            seen = ~np.isnan(x)
            first = seen & np.isnan(mean)
            diff = np.where(seen & ~first, x - mean, 0.0)
            mean = np.where(first, x, mean + a * diff)
            var = np.where(first, 0.0, np.where(seen, (1 - a) * (var + a * diff * diff), var))
            self.mean_[idx], self.var_[idx] = mean, var
            self.n_[idx] += 1
        return self

    # -- scoring --------------------------------------------------------------------------------
    def _z(self, daily: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(z per feature, learned days, baseline mean, today's values) for each row."""
        x = self._matrix(daily)
        idx = self._lookup(daily["account_id"])
        known = idx >= 0
        k = x.shape[1]
        mean = np.full((len(idx), k), np.nan)
        var = np.zeros((len(idx), k))
        n = np.zeros(len(idx), dtype=np.int64)
        mean[known], var[known], n[known] = (
            self.mean_[idx[known]], self.var_[idx[known]], self.n_[idx[known]]
        )
        floors = np.array([FLOORS[FEATURES[f].kind] if f in FEATURES else 1.0
                           for f in self.features_])
        rel = self.rel_floor * np.abs(np.nan_to_num(mean))
        denom = np.maximum(np.maximum(np.sqrt(var), rel), floors)
        z = np.nan_to_num((x - mean) / denom, nan=0.0)
        return np.clip(z, 0.0, None), n, mean, x

    def score_many(self, daily: pl.DataFrame) -> np.ndarray:
        if not self.is_fitted or daily.height == 0:
            return np.zeros(daily.height)
        z, n, _, _ = self._z(daily)
        zmax = z.max(axis=1) if z.shape[1] else np.zeros(daily.height)
        score = zmax**2 / (zmax**2 + float(self.z_half) ** 2)
        return np.where(n >= self.min_days, score, 0.0)

    def explain_many(self, daily: pl.DataFrame, top_k: int = 3) -> list[list[Contribution]]:
        if not self.is_fitted:
            return [[self._cold(0)] for _ in range(daily.height)]
        z, n, mean, x = self._z(daily)
        tops = top_contributions(z, top_k, self.min_strength)
        out: list[list[Contribution]] = []
        for i, cols in enumerate(tops):
            if n[i] < self.min_days:
                out.append([self._cold(int(n[i]))])
                continue
            out.append([self._sentence(f, x[i, j], mean[i, j], z[i, j])
                        for j, f in ((j, self.features_[j]) for j in cols)])
        return out

    def _cold(self, n: int) -> Contribution:
        return Contribution(
            "", 0.0, 0.0, f"building baseline ({n} of {self.min_days} active days seen)"
        )

    @staticmethod
    def _sentence(f: str, x: float, mean: float, z: float) -> Contribution:
        kind = FEATURES[f].kind if f in FEATURES else "share"
        now, usual = fmt_value(f, x), fmt_value(f, mean)
        if kind == "share":
            text = f"{label(f)} today {now}, usually {usual} for this account"
        elif mean > 0 and x / mean < 1000:
            text = f"{label(f)} today {now}, {x / mean:.1f}× this account's usual (EW mean {usual})"
        else:
            text = f"{label(f)} today {now}, where this account usually has none"
        return Contribution(f, float(x), float(z), text)
