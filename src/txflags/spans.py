"""What a typology reads: its window, the days of history before it (its span), the
row columns it names, the other accounts it looks at."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import polars as pl

from txflags import features
from txflags.catalogue import Catalogue, Typology
from txflags.features.conditions import _value as _cond_value
from txflags.features.conditions import subject_of, walk
from txflags.features.context import row_columns


def window_of(t: Typology) -> int | None:
    """The typology's window in days (after overrides); None: the whole data / account scope."""
    wd = t.detection.get("window_days")
    if isinstance(wd, Mapping):
        return int(t.params[wd["param"]])
    return int(wd) if wd else None


def _thresholds(t: Typology, names: set[str]) -> list[float]:
    """Numeric values that conditions anywhere in ``t`` compare ``names`` (columns, measures)
    with (params and scales resolved; ``ref`` sides ignored)."""
    det = t.detection
    conds: list[Any] = [det.get("rows"), det.get("where")]
    conds += [b.get("when") for b in t.doc.get("bands") or []]
    for spec in [*(det.get("derive") or {}).values(), *det["measures"].values()]:
        conds.append((spec.get("args") or {}).get("where"))
    out: list[float] = []
    for leaf in walk([c for c in conds if c]):
        subj = subject_of(leaf)
        if subj is None or subj[1] not in names or "ref" in leaf:
            continue
        try:
            v = _cond_value(leaf, t.params, pl.col)
        except (KeyError, TypeError):
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(float(v))
    return out


def context_days(t: Typology) -> int | None:
    """Days of history before its window that ``t``'s row features need (None: all there is).

    ``prev_match_lag_h`` needs as far back as its thresholds look (hours), ``period_sum_usd``
    by month the start of the month, ``key_degree`` its own window, ``new_counterparty_share``
    its ``new_days`` and conditions on ``cp_age_days`` their threshold. Counterparty first-seen
    dates (``cp_first_day``) are taken over all the history read (the catalogue's lookback).
    """
    det = t.detection
    measures = det["measures"]
    need = 0
    for name, spec in (det.get("derive") or {}).items():
        feat, args = spec["feature"], spec.get("args") or {}
        if feat == "prev_match_lag_h":
            over = {name} | {m for m, s in measures.items()
                             if (s.get("args") or {}).get("column") == name}
            hours = _thresholds(t, over)
            if not hours:
                return None
            need = max(need, int(-(-max(hours) // 24)) + 1)
        elif feat == "period_sum_usd":
            period = args.get("period", "month")
            if period not in ("month", "day"):
                return None
            need = max(need, 31 if period == "month" else 0)
        elif feat == "key_degree":
            days = args.get("window_days")
            days = t.params[days["param"]] if isinstance(days, Mapping) else days
            if days is None:
                return None
            need = max(need, int(days))
    for spec in measures.values():
        if spec["feature"] == "new_counterparty_share":
            nd = (spec.get("args") or {}).get("new_days")
            nd = t.params[nd["param"]] if isinstance(nd, Mapping) else nd
            need = max(need, int(nd) if nd is not None else (window_of(t) or 0))
    if "cp_age_days" in names_used(t):
        days = _thresholds(t, {"cp_age_days"})
        if not days:
            return None
        need = max(need, int(max(days)))
    return need


def span_days(t: Typology) -> int | None:
    """Local days before ``report_from`` whose rows ``t`` reads: window - 1 + context days.
    None: all the rows given (account-scope typologies, unbounded context)."""
    w, c = window_of(t), context_days(t)
    if w is None or c is None or t.detection.get("scope", "window") == "account":
        return None
    return w - 1 + c


def lookback_days(catalogue: Catalogue) -> int:
    """Days of history before a batch that a nightly scan reads: the longest ``span_days`` (or
    window) in the catalogue, plus one for the UTC/local day offset."""
    longest = 1
    for t in catalogue:
        for v in (span_days(t), window_of(t)):
            if v is not None:
                longest = max(longest, v)
    return longest


def deciding_measures(t: Typology) -> set[str]:
    """The measures that decide whether and which window is reported: read by ``where``, by a
    band's ``when`` or ranking the windows (``rank_by``, default the first measure). The others
    are only reported, for the strongest window."""
    det = t.detection
    conds = list(det["where"]) + [c for b in t.doc["bands"] for c in b.get("when") or []]
    return ((measure_names(conds) & set(det["measures"]))
            | {det.get("rank_by") or next(iter(det["measures"]))})


def measure_names(cond: Any) -> set[str]:
    """The names a condition reads (its subjects and ``ref``s)."""
    names = {subj[1] for leaf in walk(cond) if (subj := subject_of(leaf))}
    return names | {leaf["ref"] for leaf in walk(cond) if "ref" in leaf}


def names_used(t: Typology) -> set[str]:
    """Every name ``t`` may read: strings in its detection, bands and parameters, and the
    default values of the feature arguments it leaves unset (a default column name is read
    only when the typology does not name another one)."""
    found: set[str] = set()

    def visit(x: Any) -> None:
        if isinstance(x, str):
            found.add(x)
        elif isinstance(x, Mapping):
            for k, v in x.items():
                visit(k)
                visit(v)
        elif isinstance(x, list | tuple):
            for v in x:
                visit(v)

    visit(t.detection)
    visit(t.doc.get("bands"))
    visit(list(t.params.values()))
    for spec in [*(t.detection.get("derive") or {}).values(), *t.detection["measures"].values()]:
        fn = features.get(spec["feature"]).fn
        given = spec.get("args") or {}
        visit([p.default for p in inspect.signature(fn).parameters.values()
               if isinstance(p.default, str | list) and p.name not in given])
    return found


#: Row columns every typology may read through the features themselves.
CORE_COLUMNS = {"account_id", "customer_id", "txn_id", "ts", "day", "amount_usd",
                "counterparty_id", "direction", "channel", "device_id"}


#: Row columns features read in their code (beyond their arguments' defaults).
FEATURE_COLUMNS = {
    "new_counterparty_share": {"cp_first_day"},
    "night_share": {"minute_of_day"},
    "night_or_weekend_share": {"minute_of_day", "is_weekend"},
}


def needed_columns(catalogue: Catalogue | list[Typology]) -> set[str]:
    """The row columns the typologies (and the features they name) read."""
    known = set(row_columns())
    used = set(CORE_COLUMNS)
    for t in catalogue:
        used |= names_used(t)
        for spec in [*(t.detection.get("derive") or {}).values(),
                     *t.detection["measures"].values()]:
            used |= FEATURE_COLUMNS.get(spec["feature"], set())
    return used & known


def network_keys(t: Typology) -> list[tuple[str, list, Mapping[str, Any]]]:
    """(key column, where, params) of each key_degree the typology derives (it reads other
    accounts' rows with the same key)."""
    out = []
    for spec in (t.detection.get("derive") or {}).values():
        if spec["feature"] == "key_degree":
            args = spec.get("args") or {}
            where = list(args.get("where") or [])
            out.append((args.get("key", "counterparty_id"), where, t.params))
    return out


NETWORK_HIT_FEATURES = {"cp_prior_hits", "sharers_with_hits"}
#: account features that may read who else uses an account's devices (device ids of other
#: accounts' rows, ``features.identifiers.sharing_pairs``)
DEVICE_SHARING_FEATURES = {"shared_identifier_count", "sharers_with_hits", "linked_businesses"}


def uses(t: Typology, names: set[str]) -> bool:
    specs = [*(t.detection.get("derive") or {}).values(), *t.detection["measures"].values()]
    return any(s["feature"] in names for s in specs)
