"""Defensive readers of packet fields, shared by the renderers (a packet may come from JSON
someone edited: a field can be missing, null or of the wrong type)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def as_list(value: Any) -> list[Mapping]:
    """The mappings of a list field ([] for anything else)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def as_map(value: Any) -> Mapping:
    """A mapping field ({} for anything else)."""
    return value if isinstance(value, Mapping) else {}


def as_strings(value: Any) -> list[str]:
    """A list of strings field ([] for anything else)."""
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def finite(value: Any) -> float:
    """A finite float, 0.0 for anything else."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def case_facts(case: Mapping) -> list[tuple[str, Any]]:
    """The headline facts of a case, in the order both renderers show them."""
    return [("Case id", case.get("case_id")), ("Status", case.get("status")),
            ("Priority", case.get("priority")), ("Risk score", case.get("risk_score")),
            ("Alerts", case.get("n_alerts")),
            ("Continuing activity", bool(case.get("continuing_activity")))]


def plain_text(value: Any) -> str:
    """Plain text of a packet value: None -> "", booleans yes/no, containers as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)
