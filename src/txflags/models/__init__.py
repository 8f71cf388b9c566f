"""Streaming anomaly models on daily entity vectors (issue 5, DESIGN §6).

- ``daily_features``: one row per (account, local day), ``FEATURE_NAMES``, ``FEATURE_VERSION``;
- models: ``EWBaseline`` (per-account), ``HSTDetector`` (river), ``IForestDetector`` (sklearn);
- ``ModelSuite``: ``update_and_score(daily)``, ``save(dir)``, ``ModelSuite.load(dir)``;
- ``save_state`` / ``load_state``: one model with its version stamp.
"""

from txflags.models.base import Contribution, DailyModel
from txflags.models.baseline import EWBaseline
from txflags.models.daily import FEATURE_NAMES, FEATURE_VERSION, FEATURES, daily_features
from txflags.models.hst import HSTDetector
from txflags.models.iforest import IForestDetector
from txflags.models.state import load_state, save_state, stamp
from txflags.models.suite import SCORES_SCHEMA, ModelSuite, default_models

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "FEATURE_VERSION",
    "SCORES_SCHEMA",
    "Contribution",
    "DailyModel",
    "EWBaseline",
    "HSTDetector",
    "IForestDetector",
    "ModelSuite",
    "daily_features",
    "default_models",
    "load_state",
    "save_state",
    "stamp",
]
