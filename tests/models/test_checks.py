"""Every conformance check on every model (river's check_estimator, parametrised)."""

from __future__ import annotations

import pytest

from txflags.models import EWBaseline, HSTDetector, IForestDetector
from txflags.models.checks import CHECKS

MODELS = [
    EWBaseline(min_days=3),
    HSTDetector(window_size=100, max_learn=400, seed=7),
    IForestDetector(n_estimators=30, max_learn=400, random_state=7),
]


@pytest.mark.parametrize("check", list(CHECKS), ids=list(CHECKS))
@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_conformance(model, check, check_data):
    CHECKS[check](model, check_data)


def test_every_model_has_a_distinct_name():
    assert len({m.name for m in MODELS}) == len(MODELS)
