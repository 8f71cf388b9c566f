"""Batch alternative: scikit-learn's ``IsolationForest`` behind the same interface.

Each night it refits on a buffer of the most recently learned daily vectors (at most
``buffer_size`` rows, sampled ``max_learn`` per day), then scores every active account.
``score_samples`` returns calibrated scores in [0, 1] where higher is more unusual (the opposite
sign of scikit-learn's own ``score_samples``).

>>> import polars as pl
>>> from txflags.models.iforest import IForestDetector
>>> m = IForestDetector(n_estimators=50, random_state=0, features=("usd_in_cash",))
>>> days = pl.DataFrame({"account_id": ["A"] * 50, "usd_in_cash": [100.0 + i for i in range(50)]})
>>> m = m.fit(days)
>>> m.score_one({"account_id": "A", "usd_in_cash": 50_000.0}) > 0.9
True
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from txflags.models.population import PopulationModel


class IForestDetector(PopulationModel):
    """Isolation forest refitted nightly on a bounded buffer of recent daily vectors."""

    name = "iforest"

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int = 256,
        random_state: int = 0,
        buffer_size: int = 20_000,
        max_learn: int = 2000,
        calib_size: int = 4000,
        half_life_days: float = 30.0,
        features: tuple[str, ...] | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state
        self.buffer_size = buffer_size
        self.max_learn = max_learn
        self.calib_size = calib_size
        self.half_life_days = half_life_days
        self.features = features

    @property
    def seed(self) -> int:  # type: ignore[override]
        return self.random_state

    def _init_state(self, daily) -> None:  # type: ignore[no-untyped-def]
        super()._init_state(daily)
        self.buffer_ = np.zeros((0, len(self.features_)))
        self.forest_: IsolationForest | None = None

    def _fit_rows(self, xs: np.ndarray) -> None:
        self.buffer_ = np.vstack([self.buffer_, xs])[-self.buffer_size:]
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(self.buffer_)),
            random_state=self.random_state,
        ).fit(self.buffer_)

    def _raw(self, xs: np.ndarray) -> np.ndarray:
        if self.forest_ is None:
            return np.zeros(len(xs))
        return -self.forest_.score_samples(xs)
