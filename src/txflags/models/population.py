"""Shared machinery of the population-wide detectors (half-space trees, isolation forest).

Each night the detector learns a seeded random sample of the day's vectors (at most
``max_learn`` rows: these detectors only remember a bounded window anyway), so learning cost does
not grow with the number of active accounts; scoring covers every active account.

- **Scaling**: features are mapped to [0, 1] by ``daily.scale`` (log for amounts and counts),
  so the scale is fixed and does not drift with the data.
- **Calibration**: raw scores are turned into the share of recently learned vectors that score
  lower (an empirical CDF of up to ``calib_size`` raw scores), so 0.99 means "more unusual than
  99% of recent account-days" whatever the detector's raw scale.
- **Explanations**: a detector's trees do not say which feature mattered, so ``explain_*``
  ranks features by how far today's scaled value is above the population of active accounts
  (exponentially weighted mean and variance of each scaled feature over learned days,
  half-life ``half_life_days``). This is a documented proxy, not the trees' own attribution.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import polars as pl

from txflags.models.base import Contribution, DailyModel, top_contributions
from txflags.models.daily import FEATURES, fmt_value, label, scale, unscale

MIN_SD = 0.02


class PopulationModel(DailyModel):
    """Base of detectors that learn one model across all accounts (subclasses: ``_fit_rows``,
    ``_raw``)."""

    # hyperparameters common to subclasses (set by their __init__)
    seed: int
    max_learn: int
    calib_size: int
    half_life_days: float
    features: tuple[str, ...] | None
    min_strength: float = 1.5

    # -- to implement ---------------------------------------------------------------------------
    def _fit_rows(self, xs: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _raw(self, xs: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Raw anomaly score per row (higher = more unusual)."""
        raise NotImplementedError

    # -- state ----------------------------------------------------------------------------------
    def _init_state(self, daily: pl.DataFrame) -> None:
        self.features_ = self._feature_list(daily)
        self.rng_ = np.random.default_rng(self.seed)
        k = len(self.features_)
        self.pop_mean_ = np.full(k, np.nan)
        self.pop_var_ = np.zeros(k)
        self.calib_ = np.zeros(0)
        self.rows_learned_ = 0

    def _scaled(self, daily: pl.DataFrame) -> np.ndarray:
        xs = scale(self.features_, self._matrix(daily))
        fill = np.nan_to_num(self.pop_mean_, nan=0.0)
        return np.where(np.isnan(xs), fill, xs)

    # -- learning -------------------------------------------------------------------------------
    def learn_many(self, daily: pl.DataFrame) -> Self:
        """Learn each day of ``daily`` in day order (a sample of at most ``max_learn`` rows)."""
        if not self.is_fitted:
            self._init_state(daily)
        if daily.height == 0:
            return self
        frames = [daily]
        if "day" in daily.columns:
            frames = sorted(daily.partition_by("day", maintain_order=True),
                            key=lambda f: f["day"][0])
        for frame in frames:
            xs = self._scaled(frame)
            self._update_population(xs)
            if len(xs) > self.max_learn:
                pick = np.sort(self.rng_.choice(len(xs), self.max_learn, replace=False))
                xs = xs[pick]
            self._fit_rows(xs)
            self.rows_learned_ += len(xs)
            if not self._warm():
                continue
            raw = np.sort(np.concatenate([self.calib_, self._raw(xs)]))
            if len(raw) > self.calib_size:
                raw = np.sort(self.rng_.choice(raw, self.calib_size, replace=False))
            self.calib_ = raw
        return self

    def _update_population(self, xs: np.ndarray) -> None:
        a = 1.0 - 0.5 ** (1.0 / float(self.half_life_days))
        bm, bv = xs.mean(axis=0), xs.var(axis=0)
        first = np.isnan(self.pop_mean_)
        old = np.where(first, bm, self.pop_mean_)
        diff = bm - old
        self.pop_mean_ = old + a * diff
        self.pop_var_ = np.where(
            first, bv, (1 - a) * (self.pop_var_ + a * diff * diff) + a * bv
        )

    # -- scoring --------------------------------------------------------------------------------
    def score_many(self, daily: pl.DataFrame) -> np.ndarray:
        if not self.is_fitted or daily.height == 0 or not self._ready():
            return np.zeros(daily.height)
        raw = self._raw(self._scaled(daily))
        lo = np.searchsorted(self.calib_, raw, side="left")
        hi = np.searchsorted(self.calib_, raw, side="right")
        return (lo + hi) / (2.0 * len(self.calib_))  # mid-rank: ties count half

    def _warm(self) -> bool:
        """Whether the detector's raw scores mean anything yet."""
        return True

    def _ready(self) -> bool:
        """Whether the detector has learned enough to score (else scores are 0)."""
        return self._warm() and len(self.calib_) > 0

    def explain_many(self, daily: pl.DataFrame, top_k: int = 3) -> list[list[Contribution]]:
        if not self.is_fitted:
            return [[] for _ in range(daily.height)]
        x = self._matrix(daily)
        xs = self._scaled(daily)
        sd = np.maximum(np.sqrt(self.pop_var_), MIN_SD)
        z = np.clip((xs - np.nan_to_num(self.pop_mean_)) / sd, 0.0, None)
        out = []
        for i, cols in enumerate(top_contributions(z, top_k, self.min_strength)):
            out.append([self._sentence(self.features_[j], x[i, j], j, z[i, j]) for j in cols])
        return out

    def _sentence(self, f: str, x: float, j: int, z: float) -> Contribution:
        typical = fmt_value(f, unscale(f, float(self.pop_mean_[j])))
        kind = FEATURES[f].kind if f in FEATURES else "share"
        where = "across active accounts" if kind == "share" else "for an active account"
        text = f"{label(f)} today {fmt_value(f, x)}, typical {where} {typical}"
        return Contribution(f, float(x), float(z), text)
