"""MCC groups (TYPOLOGIES.md §2), kept as data in ``typologies/mcc_groups.yaml``."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml


def _expand(items: list[int | str]) -> list[int]:
    codes: list[int] = []
    for item in items:
        if isinstance(item, str) and "-" in item:
            lo, hi = (int(x) for x in item.split("-"))
            codes.extend(range(lo, hi + 1))
        else:
            codes.append(int(item))
    return sorted(set(codes))


@cache
def mcc_groups() -> dict[str, tuple[int, ...]]:
    """Group name -> the MCCs in it (ranges expanded)."""
    text = files("txflags.typologies").joinpath("mcc_groups.yaml").read_text()
    raw = yaml.safe_load(text) or {}
    return {name: tuple(_expand(items)) for name, items in raw.items()}
