"""Who is who in a case: likely controller, likely victim, buyer, facilitator or unknown.

Evidence, in order of strength (TYPOLOGIES.md §1.3, FinCEN FIN-2020-A008):

1. money: an account that collects (at least ``COLLECT_MIN_USD``) from two or more parties of
   the case with victim-side indicators (or none) is the likely controller, even when it also
   fires victim-side indicators itself (controllers buy the ads and rooms);
2. an account with victim-side indicators (or none) that pays such a collector is a likely
   victim, whatever else fired on it;
3. otherwise the roles named by the typologies that fired, by weight (a typology naming two
   roles gives each half); a victim/controller tie stays ``unknown`` for the analyst.

Only controllers, buyers and facilitators are SAR subjects: a likely victim never is, and an
unknown party is not named until an analyst decides. Age under 21 at the last activity is
noted, under 18 marks a possible minor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

#: A collector must take in at least this much from the case's accounts to be called controller.
COLLECT_MIN_USD = 500.0
HINT_ROLES = {"controller": "likely_controller", "victim": "likely_victim",
              "buyer": "buyer", "facilitator": "facilitator"}
SUBJECT_ROLES = frozenset({"likely_controller", "buyer", "facilitator"})


@dataclass
class PartyRole:
    """One party's role, the reasons for it, and whether it is a SAR subject."""

    account_id: str
    role: str
    reasons: list[str] = field(default_factory=list)
    is_subject: bool = False
    age: int | None = None


def _age(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def hint_weights(
    hints: pl.DataFrame, typology_roles: Mapping[str, Sequence[str]] | None = None
) -> dict[str, dict[str, float]]:
    """account -> role -> weight. A hit's weight is shared equally by the roles its typology
    names (``[victim, controller]``: half each); without ``typology_roles``, its role hint."""
    out: dict[str, dict[str, float]] = {}
    cols = ["account_id", "role_hint", "weight"] + (
        ["typology_id"] if "typology_id" in hints.columns else [])
    for row in hints.select(cols).iter_rows(named=True):
        names = list((typology_roles or {}).get(row.get("typology_id") or "", ())) or [
            row["role_hint"]]
        for role in names:
            acct = out.setdefault(row["account_id"], {})
            acct[role] = acct.get(role, 0.0) + float(row["weight"]) / len(names)
    return out


def _named(role: str, sources: dict[str, list[str]]) -> str:
    ids = sources.get(role, [])
    return f" ({', '.join(ids[:4])}{', …' if len(ids) > 4 else ''})" if ids else ""


def _by_hints(w: dict[str, float], sources: dict[str, list[str]] | None = None
              ) -> tuple[str, list[str]]:
    """A preliminary role from hint weights; victim-side wins ties with nothing else, an even
    victim/controller split stays ``unknown`` for the analyst to decide."""
    sources = sources or {}
    if not w:
        return "unknown", ["linked to the case; no indicator of its own"]
    top = max(w.values())
    leaders = sorted(k for k, v in w.items() if v >= top - 1e-9)
    if leaders == ["victim"]:
        return "likely_victim", ["victim-side indicators outweigh the others on this account"
                                 + _named("victim", sources)]
    if "victim" in leaders:
        others = ", ".join(k for k in leaders if k != "victim")
        return "unknown", [f"indicators fit a victim's controlled account as well as a "
                           f"{others}{_named('victim', sources)}; review before naming the "
                           "holder as a subject"]
    role = leaders[0]
    return HINT_ROLES.get(role, "unknown"), [f"{role}-side indicators fired on this account"
                                             + _named(role, sources)]


def hint_sources(hints: pl.DataFrame, typology_roles: Mapping[str, Sequence[str]] | None = None
                 ) -> dict[str, dict[str, list[str]]]:
    """account -> role -> the typologies that named that role (sorted)."""
    out: dict[str, dict[str, set[str]]] = {}
    if "typology_id" not in hints.columns:
        return {}
    for acct, hint, tid in hints.select("account_id", "role_hint", "typology_id").iter_rows():
        for role in (typology_roles or {}).get(tid, ()) or [hint]:
            out.setdefault(acct, {}).setdefault(role, set()).add(tid)
    return {a: {r: sorted(t) for r, t in roles.items()} for a, roles in out.items()}


def assign_roles(
    members: tuple[str, ...],
    links: pl.DataFrame,
    hints: pl.DataFrame,
    flagged: set[str],
    births: Mapping[str, date | None],
    on: date,
    typology_roles: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, PartyRole]:
    """Roles for ``members``.

    ``links``: links among members (``money`` rows are payer → payee totals);
    ``hints``: account_id, role_hint, weight (and typology_id) — one row per hit of a member;
    ``births``: birth date per account; ``on``: the case's last activity day;
    ``typology_roles``: typology id → the roles its file names.
    """
    weights = hint_weights(hints, typology_roles)
    sources = hint_sources(hints, typology_roles)
    roles = {m: PartyRole(m, *_by_hints(weights.get(m, {}), sources.get(m))) for m in members}
    money = links.filter(pl.col("kind") == "money").select("source", "target", "total_usd")
    flows = list(money.iter_rows())
    outflow: dict[str, float] = {}
    for s, _, usd in flows:
        outflow[s] = outflow.get(s, 0.0) + usd
    # money beats hints: who collects from victim-side (or unexplained) accounts controls them
    collectable = {m for m in members
                   if weights.get(m, {}).get("victim", 0.0) > 0 or roles[m].role == "unknown"}
    for m in members:
        payers = {s: usd for s, t, usd in flows if t == m and s in collectable and s != m}
        usd_in = sum(payers.values())
        if len(payers) >= 2 and usd_in >= COLLECT_MIN_USD and usd_in > outflow.get(m, 0.0):
            roles[m] = PartyRole(m, "likely_controller", [
                f"collects {_money(usd_in)} from {len(payers)} other accounts in this case"])
    controllers = {m for m, r in roles.items()
                   if r.role == "likely_controller" and r.reasons[0].startswith("collects")}
    for s, t, usd in sorted(flows):
        if t in controllers and s in collectable and s not in controllers:
            reasons = [f"pays {_money(usd)} to {t}, the likely controller"]
            if weights.get(s, {}).get("victim", 0.0) > 0:
                reasons.append("victim-side indicators fired on this account")
            roles[s] = PartyRole(s, "likely_victim", reasons)
    for m, r in roles.items():
        r.age = _age(births.get(m), on)
        if r.role == "likely_victim" and r.age is not None and r.age < 21:
            r.reasons.append(
                f"possible minor: age {r.age}" if r.age < 18 else f"young adult: age {r.age}")
        r.is_subject = r.role in SUBJECT_ROLES
    return roles
