"""Named features the typologies are written against (see ``registry.FEATURES``)."""

from txflags.features import account_features, aggregates, derived  # noqa: F401  (register)
from txflags.features.registry import FEATURES, Feature, get, names

__all__ = ["FEATURES", "Feature", "get", "names"]
