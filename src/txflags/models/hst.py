"""Online multivariate detector: river's ``anomaly.HalfSpaceTrees`` on daily entity vectors.

Fed scaled per-account daily vectors (see ``population``), one ``learn_one``/``score_one`` per
account-day, never per transaction. Scores are calibrated to [0, 1].

>>> import polars as pl
>>> from txflags.models.hst import HSTDetector
>>> m = HSTDetector(window_size=20, features=("usd_in_cash", "n_in"), seed=1)
>>> normal = pl.DataFrame({"account_id": [f"A{i}" for i in range(60)],
...                        "usd_in_cash": [100.0 + i for i in range(60)], "n_in": [2.0] * 60})
>>> _ = m.learn_many(normal)
>>> odd = {"account_id": "A1", "usd_in_cash": 90_000.0, "n_in": 40.0}
>>> m.score_one(odd) > m.score_one({"account_id": "A2", "usd_in_cash": 130.0, "n_in": 2.0})
True
"""

from __future__ import annotations

import numpy as np
from river import anomaly

from txflags.models.population import PopulationModel


class HSTDetector(PopulationModel):
    """Half-space trees across all accounts, learning each night, scoring active accounts."""

    name = "hst"

    def __init__(
        self,
        n_trees: int = 10,
        height: int = 8,
        window_size: int = 500,
        seed: int = 0,
        max_learn: int = 2000,
        calib_size: int = 4000,
        half_life_days: float = 30.0,
        features: tuple[str, ...] | None = None,
    ) -> None:
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self.max_learn = max_learn
        self.calib_size = calib_size
        self.half_life_days = half_life_days
        self.features = features

    def _init_state(self, daily) -> None:  # type: ignore[no-untyped-def]
        super()._init_state(daily)
        self.hst_ = anomaly.HalfSpaceTrees(
            n_trees=self.n_trees,
            height=self.height,
            window_size=self.window_size,
            limits={f: (0.0, 1.0) for f in self.features_},
            seed=self.seed,
        )

    def _warm(self) -> bool:
        # river scores 0 until the first reference window is full
        return not self.hst_._first_window

    def _dicts(self, xs: np.ndarray) -> list[dict[str, float]]:
        names = self.features_
        return [dict(zip(names, row, strict=True)) for row in xs.tolist()]

    def _fit_rows(self, xs: np.ndarray) -> None:
        for x in self._dicts(xs):
            self.hst_.learn_one(x)

    def _raw(self, xs: np.ndarray) -> np.ndarray:
        score = self.hst_.score_one
        return np.fromiter((score(x) for x in self._dicts(xs)), dtype=np.float64, count=len(xs))
