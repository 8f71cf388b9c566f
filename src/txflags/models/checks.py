"""Named conformance checks every anomaly model must pass (river's ``check_estimator`` style).

Each check is ``check_x(model, data)`` raising ``AssertionError`` with a message; ``data`` is a
``CheckData`` of daily frames with labels. ``CHECKS`` lists them by name so pytest can
parametrise over (model, check).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from txflags.models.base import DailyModel


@dataclass(frozen=True)
class CheckData:
    """Warm-up days to learn, one day to score, and the 0/1 label of each scored row."""

    learn: pl.DataFrame
    score: pl.DataFrame
    labels: np.ndarray


def _scores(model: DailyModel, frame: pl.DataFrame) -> np.ndarray:
    s = np.asarray(model.score_many(frame), dtype=np.float64)
    assert s.shape == (frame.height,), f"{model.name}: {s.shape} scores for {frame.height} rows"
    assert np.isfinite(s).all(), f"{model.name}: non-finite scores"
    assert ((s >= 0) & (s <= 1)).all(), f"{model.name}: scores outside [0, 1]"
    return s


def check_clone_independence(model: DailyModel, data: CheckData) -> None:
    """A clone is unfitted, equal in hyperparameters, and learning it leaves the original alone."""
    fitted = model.clone().learn_many(data.learn)
    before = _scores(fitted, data.score)
    twin = fitted.clone()
    assert not twin.is_fitted, "clone() must not copy learned state"
    assert twin.get_params() == fitted.get_params(), "clone() changed hyperparameters"
    twin.learn_many(data.score)
    assert np.allclose(_scores(fitted, data.score), before), "learning a clone changed the original"


def check_pickle_round_trip(model: DailyModel, data: CheckData) -> None:
    """Pickled and loaded, a fitted model gives the same scores and keeps learning the same way."""
    a = model.clone().learn_many(data.learn)
    b = pickle.loads(pickle.dumps(a))
    assert np.allclose(_scores(a, data.score), _scores(b, data.score)), "scores changed"
    a.learn_many(data.score)
    b.learn_many(data.score)
    assert np.allclose(_scores(a, data.score), _scores(b, data.score)), "later learning differs"


def check_same_seed_same_scores(model: DailyModel, data: CheckData) -> None:
    """Two models with the same hyperparameters (and seed) learn and score identically."""
    a = model.clone().learn_many(data.learn)
    b = model.clone().learn_many(data.learn)
    assert np.array_equal(_scores(a, data.score), _scores(b, data.score)), "not deterministic"


def check_score_before_learning(model: DailyModel, data: CheckData) -> None:
    """An unfitted model scores 0 everywhere, explains without error, and stays unfitted."""
    fresh = model.clone()
    s = _scores(fresh, data.score)
    assert (s == 0).all(), "an unfitted model must score 0"
    assert len(fresh.explain_many(data.score)) == data.score.height
    assert not fresh.is_fitted, "scoring must not build state"


def check_new_and_missing_features(model: DailyModel, data: CheckData) -> None:
    """A feature never seen is ignored; a learned feature absent today does not crash."""
    fitted = model.clone().learn_many(data.learn)
    base = _scores(fitted, data.score)
    extra = data.score.with_columns(pl.lit(1e9).alias("brand_new_feature"))
    assert np.allclose(_scores(fitted, extra), base), "an unseen feature changed the scores"
    drop = next(c for c in fitted.features_ if c in data.score.columns)
    _scores(fitted, data.score.drop(drop))
    fitted.learn_many(data.score.drop(drop))
    _scores(fitted, data.score)


def check_explain(model: DailyModel, data: CheckData) -> None:
    """``explain_many`` gives, per row, at most top_k contributions with a sentence each."""
    fitted = model.clone().learn_many(data.learn)
    out = fitted.explain_many(data.score, top_k=2)
    assert len(out) == data.score.height
    assert all(len(row) <= 2 and all(c.sentence for c in row) for row in out)


def check_auc_at_least_half(model: DailyModel, data: CheckData) -> None:
    """On labelled generated data, scores rank positives above negatives at least by chance."""
    fitted = model.clone().learn_many(data.learn)
    auc = roc_auc_score(data.labels, _scores(fitted, data.score))
    assert auc >= 0.5, f"{model.name}: ROC-AUC {auc:.3f} < 0.5"


CHECKS: dict[str, Callable[[DailyModel, CheckData], None]] = {
    f.__name__.removeprefix("check_"): f
    for f in (
        check_clone_independence,
        check_pickle_round_trip,
        check_same_seed_same_scores,
        check_score_before_learning,
        check_new_and_missing_features,
        check_explain,
        check_auc_at_least_half,
    )
}


def check_model(model: DailyModel, data: CheckData) -> None:
    """Run every check on ``model`` (the first failure raises)."""
    for check in CHECKS.values():
        check(model, data)
