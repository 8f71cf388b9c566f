"""The registry of named features: each has a kind, a docstring, and its allowed arguments.

Kinds:
- ``agg``: an aggregate expression over the transactions of one account in one window
  (``fn(ctx, **args) -> pl.Expr``).
- ``derived``: a per-row column that needs context beyond its own row, e.g. other accounts
  paying the same counterparty (``fn(rows, ctx, name, **args) -> pl.LazyFrame``).
- ``account``: one value per account, from KYC data, identifiers or earlier hits
  (``fn(ctx, **args) -> pl.LazyFrame`` with columns ``account_id`` and ``value``).

Typologies name features; complex logic lives here, never in the catalogue.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("agg", "derived", "account")


@dataclass(frozen=True)
class Feature:
    """One named feature."""

    name: str
    kind: str
    fn: Callable
    doc: str
    args: tuple[str, ...]
    required_args: tuple[str, ...]
    needs_hits: bool = False

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


FEATURES: dict[str, Feature] = {}

_SKIP = {"ctx", "rows", "name"}


def feature(kind: str, *, needs_hits: bool = False) -> Callable[[Callable], Callable]:
    """Register ``fn`` as a named feature of ``kind`` (its name is the function name)."""
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r}")

    def deco(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.name not in _SKIP]
        FEATURES[fn.__name__] = Feature(
            name=fn.__name__,
            kind=kind,
            fn=fn,
            doc=inspect.getdoc(fn) or "",
            args=tuple(p.name for p in params),
            required_args=tuple(p.name for p in params if p.default is inspect.Parameter.empty),
            needs_hits=needs_hits,
        )
        return fn

    return deco


def get(name: str) -> Feature:
    """The feature called ``name`` (KeyError lists the known ones)."""
    try:
        return FEATURES[name]
    except KeyError:
        raise KeyError(f"unknown feature {name!r}; known: {', '.join(sorted(FEATURES))}") from None


def names(kind: str | None = None) -> list[str]:
    """Sorted feature names, optionally of one kind."""
    return sorted(n for n, f in FEATURES.items() if kind is None or f.kind == kind)
