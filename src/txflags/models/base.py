"""What every anomaly model shares: the interface, hyperparameters and the feature matrix.

Conventions (river / scikit-learn):

- hyperparameters are stored verbatim by ``__init__`` and nothing else happens there;
- learned state is built lazily on the first ``learn_many`` and its attributes end in ``_``;
- ``clone()`` gives a fresh, unfitted model with the same hyperparameters;
- ``learn_one``/``score_one``/``explain_one`` take one daily vector (a dict of feature -> value,
  with ``account_id`` for per-account models); ``learn_many``/``score_many``/``explain_many``
  take a daily frame (``daily.daily_features``) and are what the suite calls;
- ``fit`` (returns self) and ``score_samples`` are scikit-learn style aliases of
  ``learn_many``/``score_many``. Unlike scikit-learn's IsolationForest, **higher is always more
  anomalous**, and every score is in [0, 1].

Features the model never saw are ignored; a learned feature absent from today's frame is
treated as missing (NaN): it neither moves a baseline nor contributes to a score.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import polars as pl

from txflags.models.daily import FEATURE_NAMES


@dataclass(frozen=True)
class Contribution:
    """One feature's part in a score, with a sentence for the analyst."""

    feature: str
    value: float
    strength: float
    sentence: str


class DailyModel:
    """Base class of the anomaly models (see the module docstring for the contract)."""

    #: Short name used in score frames, state file names and stamps.
    name = "model"

    # -- hyperparameters ------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` arguments as given (tuples kept as lists for JSON stamps)."""
        sig = inspect.signature(type(self).__init__)
        out: dict[str, Any] = {}
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            v = getattr(self, p.name)
            out[p.name] = list(v) if isinstance(v, tuple) else v
        return out

    def clone(self) -> Self:
        """A fresh, unfitted copy with the same hyperparameters."""
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in self.get_params().items()}
        return type(self)(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "features_")

    def _feature_list(self, daily: pl.DataFrame | None = None) -> tuple[str, ...]:
        wanted = getattr(self, "features", None)
        if wanted:
            return tuple(wanted)
        if daily is None:
            return FEATURE_NAMES
        return tuple(c for c in daily.columns if c not in ("account_id", "day"))

    def _matrix(self, daily: pl.DataFrame) -> np.ndarray:
        """Today's values in ``features_`` order (NaN where a learned feature is absent)."""
        names = self.features_ if self.is_fitted else self._feature_list(daily)
        cols = [
            daily[n].cast(pl.Float64).to_numpy() if n in daily.columns
            else np.full(daily.height, np.nan)
            for n in names
        ]
        if not cols:
            return np.empty((daily.height, 0))
        return np.column_stack(cols).astype(np.float64, copy=False)

    # -- batch interface (implemented by subclasses) --------------------------------------------
    def learn_many(self, daily: pl.DataFrame) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def score_many(self, daily: pl.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain_many(
        self, daily: pl.DataFrame, top_k: int = 3
    ) -> list[list[Contribution]]:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- scikit-learn aliases -------------------------------------------------------------------
    def fit(self, daily: pl.DataFrame) -> Self:
        """Learn from a daily frame; returns self."""
        return self.learn_many(daily)

    def score_samples(self, daily: pl.DataFrame) -> np.ndarray:
        """Anomaly scores in [0, 1], higher = more unusual."""
        return self.score_many(daily)

    # -- one vector at a time (river style) -----------------------------------------------------
    @staticmethod
    def _one(x: Mapping[str, Any]) -> pl.DataFrame:
        row = {k: [v] for k, v in x.items() if k != "day"}
        row.setdefault("account_id", [None])
        return pl.DataFrame(row).with_columns(pl.col("account_id").cast(pl.String))

    def learn_one(self, x: Mapping[str, Any]) -> None:
        """Learn one daily vector (feature -> value, plus ``account_id``)."""
        self.learn_many(self._one(x))

    def score_one(self, x: Mapping[str, Any]) -> float:
        """Score one daily vector; 0.0 before any learning."""
        return float(self.score_many(self._one(x))[0])

    def explain_one(self, x: Mapping[str, Any], top_k: int = 3) -> list[Contribution]:
        """The features that contribute most to ``score_one(x)``, each with a sentence."""
        return self.explain_many(self._one(x), top_k)[0]


def top_contributions(
    strength: np.ndarray, k: int, min_strength: float = 0.0
) -> list[list[int]]:
    """Per row, the column indices of the ``k`` largest strengths above ``min_strength``."""
    if strength.size == 0:
        return [[] for _ in range(strength.shape[0])]
    s = np.nan_to_num(strength, nan=-np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return [[int(j) for j in row if s[i, j] > min_strength] for i, row in enumerate(order)]

