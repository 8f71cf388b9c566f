"""The small, safe condition vocabulary of the catalogue, compiled to Polars expressions.

A condition is a mapping, one of:

- ``{all: [cond, ...]}``, ``{any: [cond, ...]}``, ``{not: cond}``
- ``{<subject>: NAME, op: OP, <value>}`` where ``<subject>`` is ``column`` (row filters) or
  ``measure`` (window/account thresholds), and the value side is one of ``value: literal``,
  ``param: name`` (a typology parameter) or ``ref: NAME`` (another column or measure), optionally
  multiplied by ``scale: number`` or ``scale: {param: name}``.

Operators are listed in ``OPS``. No code and no SQL: names are checked against known columns,
features and parameters before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from txflags.features.mcc import mcc_groups

COMPARE = {"==", "!=", "<", "<=", ">", ">="}
OPS = {
    "==": "equal",
    "!=": "not equal",
    "<": "less than",
    "<=": "at most",
    ">": "greater than",
    ">=": "at least",
    "in": "one of a list",
    "not_in": "none of a list",
    "between": "lo <= x < hi, value [lo, hi]",
    "is_null": "missing (no value side)",
    "not_null": "present (no value side)",
    "contains_any": "text contains any of the words (case-insensitive)",
    "has_any": "';'-separated tokens include any of the list",
    "in_group": "MCC in a group of typologies/mcc_groups.yaml",
    "not_in_group": "MCC not in that group",
    "in_hours": "minute_of_day in a local clock interval [HH:MM, HH:MM] (may wrap midnight)",
}
NO_VALUE = {"is_null", "not_null"}
SUBJECTS = ("column", "measure")

Resolver = Callable[[str], pl.Expr]


def subject_of(cond: Mapping[str, Any]) -> tuple[str, str] | None:
    """(key, name) of a leaf condition's subject, or None for all/any/not."""
    for key in SUBJECTS:
        if key in cond:
            return key, cond[key]
    return None


def walk(cond: Any):
    """Yield every leaf condition inside ``cond`` (a condition or a list of them)."""
    if isinstance(cond, list):
        for c in cond:
            yield from walk(c)
    elif isinstance(cond, Mapping):
        if "all" in cond or "any" in cond:
            yield from walk(cond.get("all", cond.get("any")))
        elif "not" in cond:
            yield from walk(cond["not"])
        else:
            yield cond


def hhmm(text: str) -> int:
    """'HH:MM' -> minutes after midnight."""
    h, m = str(text).split(":")
    return int(h) * 60 + int(m)


def in_hours(minute: pl.Expr, start: str, end: str) -> pl.Expr:
    """True when ``minute`` (minutes after local midnight) is in [start, end), wrapping midnight."""
    s, e = hhmm(start), hhmm(end)
    if s <= e:
        return (minute >= s) & (minute < e)
    return (minute >= s) | (minute < e)


def _value(cond: Mapping[str, Any], params: Mapping[str, Any], resolve: Resolver) -> Any:
    if "param" in cond:
        val: Any = params[cond["param"]]
    elif "ref" in cond:
        val = resolve(cond["ref"])
    else:
        val = cond.get("value")
    scale = cond.get("scale")
    if scale is not None:
        factor = params[scale["param"]] if isinstance(scale, Mapping) else scale
        val = val * factor
    return val


def compile_condition(cond: Any, params: Mapping[str, Any], resolve: Resolver) -> pl.Expr:
    """Compile a condition (or a list, meaning all of them) to a boolean expression.

    Nulls count as false: a row without a value never matches a comparison.
    """
    if isinstance(cond, list):
        exprs = [compile_condition(c, params, resolve) for c in cond]
        return pl.all_horizontal(exprs) if exprs else pl.lit(True)
    if "all" in cond:
        return compile_condition(list(cond["all"]), params, resolve)
    if "any" in cond:
        return pl.any_horizontal([compile_condition(c, params, resolve) for c in cond["any"]])
    if "not" in cond:
        return ~compile_condition(cond["not"], params, resolve)
    _, name = subject_of(cond)  # type: ignore[misc]
    x = resolve(name)
    op = cond["op"]
    if op in NO_VALUE:
        return x.is_null() if op == "is_null" else x.is_not_null()
    v = _value(cond, params, resolve)
    if op in COMPARE:
        expr = {
            "==": x == v,
            "!=": x != v,
            "<": x < v,
            "<=": x <= v,
            ">": x > v,
            ">=": x >= v,
        }[op]
    elif op == "in":
        expr = x.is_in(list(v))
    elif op == "not_in":
        expr = ~x.is_in(list(v))
    elif op == "between":
        lo, hi = v
        expr = (x >= lo) & (x < hi)
    elif op == "contains_any":
        words = [str(w).lower() for w in v]
        expr = x.str.to_lowercase().str.contains_any(words)
    elif op == "has_any":
        tokens = x.str.to_lowercase().str.split(";").list.eval(pl.element().str.strip_chars())
        expr = tokens.list.set_intersection([str(w).lower() for w in v]).list.len() > 0
    elif op in ("in_group", "not_in_group"):
        codes = list(mcc_groups()[v])
        expr = x.is_in(codes)
        expr = ~expr if op == "not_in_group" else expr
    elif op == "in_hours":
        expr = in_hours(x, v[0], v[1])
    else:  # the validator rejects unknown operators before this point
        raise ValueError(f"unknown operator {op!r}")
    return expr.fill_null(False)
