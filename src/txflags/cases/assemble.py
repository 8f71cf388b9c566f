"""Group flagged accounts with the accounts tied to them into case-sized groups.

A flagged account is a *seed*. Two accounts with a signal (any hit) join the same group when a
link ties them (a shared identifier, or money beyond a one-off small payment: at least
``min_flow_n`` payments or half of ``min_flow_usd``). An account with no signal of its own
joins only through a strong link to a seed — a shared identifier, or at least ``min_flow_n``
payments and ``min_flow_usd`` either way — and nothing expands from it. A controller fed by
several victims is therefore one group, while an ordinary customer who once paid a flagged
account does not drag their own friends in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import polars as pl

from txflags.errors import InputError


@dataclass(frozen=True)
class CaseConfig:
    """Case settings; every field can be set under ``cases:`` in a profile file."""

    max_group: int = 10  # an identifier shared by more accounts links nobody
    min_flow_usd: float = 200.0  # strong money link to a seed: at least this much ...
    min_flow_n: int = 2  # ... in at least this many payments
    max_parties: int = 40  # larger groups keep the seeds and strongest members
    suppress_days: int = 90  # a closed case stays quiet this long unless it escalates
    escalate_factor: float = 1.5  # risk this many times the risk at closing escalates
    sar_due_days: int = 30  # initial SAR deadline after detection (31 CFR 1020.320)
    review_days: int = 90  # continuing-activity review after a filing
    continuing_days: int = 120  # continuing SAR due after a filing

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CaseConfig:
        """Settings from a profile's ``cases:`` mapping; unknown keys are an error."""
        data = dict(data or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(
                f"unknown cases setting(s) {unknown}; known: {', '.join(sorted(names))}"
            )
        cfg = cls(**{k: type(getattr(cls, k))(v) for k, v in data.items()})
        for f in fields(cls):
            if getattr(cfg, f.name) < 0:
                raise InputError(f"cases.{f.name} must not be negative")
        return cfg

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Group:
    """One would-be case: its accounts, its seeds and the links among them."""

    members: tuple[str, ...]  # sorted
    seeds: tuple[str, ...]  # flagged members, sorted
    links: pl.DataFrame  # links among members (links.LINKS_SCHEMA)
    truncated: int = 0  # linked accounts left out by max_parties


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def usable_links(links: pl.DataFrame, risk: pl.DataFrame, cfg: CaseConfig) -> pl.DataFrame:
    """The links that may join two accounts into one group (see the module docstring)."""
    signal = risk["account_id"].implode()
    seeds = risk.filter("flagged")["account_id"].implode()
    money = pl.col("kind") == "money"
    strong = ~money | ((pl.col("n") >= cfg.min_flow_n) & (pl.col("total_usd") >= cfg.min_flow_usd))
    # between two accounts with a signal, more than a one-off small payment
    some = ~money | (pl.col("n") >= cfg.min_flow_n) | (pl.col("total_usd") >= cfg.min_flow_usd / 2)
    s_sig, t_sig = pl.col("source").is_in(signal), pl.col("target").is_in(signal)
    s_seed, t_seed = pl.col("source").is_in(seeds), pl.col("target").is_in(seeds)
    return links.filter(
        (some & s_sig & t_sig) | (strong & ((s_seed & ~t_sig) | (t_seed & ~s_sig)))
    )


def assemble(risk: pl.DataFrame, links: pl.DataFrame, cfg: CaseConfig | None = None) -> list[Group]:
    """Groups around the flagged accounts of ``risk``, in a stable order (by first seed)."""
    cfg = cfg or CaseConfig()
    seeds = set(risk.filter("flagged")["account_id"].to_list())
    if not seeds:
        return []
    usable = usable_links(links, risk, cfg)
    uf = _UnionFind()
    for s in sorted(seeds):
        uf.find(s)
    for a, b in usable.select("source", "target").iter_rows():
        uf.union(a, b)
    by_root: dict[str, list[str]] = {}
    for node in uf.parent:
        by_root.setdefault(uf.find(node), []).append(node)
    score = dict(risk.select("account_id", "risk_score").iter_rows())
    # the links of each component, partitioned once (not filtered once per group)
    root_of = {n: uf.find(n) for n in uf.parent}
    tagged = usable.with_columns(
        pl.col("source").replace_strict(root_of, default=None, return_dtype=pl.String)
        .alias("_root"))
    by_root_links = tagged.partition_by("_root", as_dict=True, include_key=False)
    empty = usable.clear()
    groups: list[Group] = []
    for root, members in by_root.items():
        group_seeds = sorted(seeds.intersection(members))
        if not group_seeds:
            continue
        comp_links = by_root_links.get((root,), empty)
        for part, dropped in _cap(members, seeds, score, cfg.max_parties):
            glinks = comp_links
            if dropped or len(part) < len(members):
                ids = pl.Series(part).implode()
                glinks = comp_links.filter(pl.col("source").is_in(ids)
                                           & pl.col("target").is_in(ids))
            groups.append(Group(tuple(sorted(part)), tuple(sorted(seeds.intersection(part))),
                                glinks, dropped))
    return sorted(groups, key=lambda g: g.seeds[0])


def _cap(
    members: list[str], seeds: set[str], score: dict[str, float], limit: int
) -> list[tuple[list[str], int]]:
    """Split an oversized group: the top ``limit`` members by (seed, risk); left-out seeds
    become groups of their own so that no flagged account goes without a case."""
    if len(members) <= max(limit, 1):
        return [(members, 0)]
    ranked = sorted(members, key=lambda m: (m not in seeds, -score.get(m, 0.0), m))
    kept, rest = ranked[:limit], ranked[limit:]
    out = [(kept, len(rest))]
    out += [([m], 0) for m in rest if m in seeds]
    return out
