"""Grouping flagged accounts into cases, and who is who inside a case."""

from __future__ import annotations

from datetime import date

import polars as pl

from txflags.cases import CaseConfig, assemble, assign_roles
from txflags.cases.links import LINKS_SCHEMA, links


def _risk(rows: list[tuple[str, float, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"account_id": pl.String, "risk_score": pl.Float64,
                                      "flagged": pl.Boolean}, orient="row")


def _links(rows: list[tuple[str, str, str, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=LINKS_SCHEMA, orient="row")


def test_controller_fed_by_victims_is_one_group():
    risk = _risk([("C", 30, True), ("V1", 5, False), ("V2", 12, True), ("X", 3, False)])
    edges = _links([("V1", "C", "money", 5, 900.0), ("V2", "C", "money", 3, 700.0)])
    groups = assemble(risk, edges)
    assert len(groups) == 1
    assert groups[0].members == ("C", "V1", "V2") and groups[0].seeds == ("C", "V2")


def test_unsignalled_account_joins_only_by_a_strong_link_to_a_seed():
    risk = _risk([("C", 30, True), ("S", 4, False)])
    edges = _links([
        ("F1", "C", "money", 1, 50.0),      # one small payment: a customer, not the case
        ("F2", "C", "money", 4, 2000.0),    # strong money link: joins
        ("F3", "C", "shared:phone", 1, 0.0),  # shared phone: joins
        ("F4", "S", "money", 9, 9000.0),    # tied to a signal account that is not a seed: no
        ("F2", "F5", "money", 9, 9000.0),   # nothing expands from an unsignalled member
    ])
    (g,) = assemble(risk, edges)
    assert g.members == ("C", "F2", "F3")


def test_a_one_off_small_payment_between_signal_accounts_does_not_merge_cases():
    risk = _risk([("C1", 30, True), ("C2", 25, True)])
    assert len(assemble(risk, _links([("C1", "C2", "money", 1, 35.0)]))) == 2
    assert len(assemble(risk, _links([("C1", "C2", "money", 2, 35.0)]))) == 1


def test_separate_schemes_stay_separate_and_order_is_stable():
    risk = _risk([("B", 20, True), ("A", 10, True)])
    groups = assemble(risk, _links([]))
    assert [g.seeds for g in groups] == [("A",), ("B",)]


def test_oversized_group_keeps_seeds_and_strongest():
    risk = _risk([(f"S{i}", float(i), True) for i in range(6)])
    edges = _links([(f"S{i}", f"S{i + 1}", "money", 3, 600.0) for i in range(5)])
    groups = assemble(risk, edges, CaseConfig(max_parties=4))
    big = max(groups, key=lambda g: len(g.members))
    assert len(big.members) == 4 and big.truncated == 2
    assert {m for g in groups for m in g.seeds} == {f"S{i}" for i in range(6)}


def test_links_from_rows_and_shared_identifiers():
    rows = pl.LazyFrame({
        "account_id": ["V1", "V2", "C", "Z", "C", "Z", "C", "Z"],
        "direction": ["out", "out", "in", "out", "out", "out", "out", "out"],
        "counterparty_id": ["C", "C", "V1", "EXT", "MX-1", "MX-1", "SHOP", "SHOP"],
        "channel": ["p2p", "p2p", "p2p", "p2p", "money_transfer", "money_transfer", "card",
                    "card"],
        "amount_usd": [100.0, 50.0, 100.0, 9.0, 300.0, 200.0, 5.0, 5.0],
        "device_id": ["d1", "d1", None, None, None, None, None, None],
    })
    accounts = pl.DataFrame({"account_id": ["V1", "V2", "C", "Z"],
                             "phone": ["555", None, " 555 ", "777"]})
    out = links(rows, accounts, pl.Series(["C"]))
    money = out.filter(pl.col("kind") == "money")
    assert sorted(money.select("source", "target").iter_rows()) == [("V1", "C"), ("V2", "C")]
    phone = out.filter(pl.col("kind") == "shared:phone")
    assert set(phone.select("source", "target").iter_rows()) == {("C", "V1")}
    assert out.filter(pl.col("kind") == "shared:device_id").height == 0  # no interest member
    # the same outside beneficiary by money transfer links; the same card merchant does not
    bene = out.filter(pl.col("kind") == "shared:beneficiary")
    assert set(bene.select("source", "target").iter_rows()) == {("C", "Z")}


def _hints(rows: list[tuple[str, str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"account_id": pl.String, "role_hint": pl.String,
                                      "weight": pl.Int8, "typology_id": pl.String}, orient="row")


def test_money_beats_hints_for_controller_and_victims():
    links_ = _links([("V1", "C", "money", 9, 5000.0), ("V2", "C", "money", 7, 4000.0)])
    hints = _hints([("C", "victim", 2, "ad.x"), ("V1", "victim", 2, "ad.x"),
                    ("V2", "controller", 1, "c.y"), ("V2", "victim", 2, "ad.x")])
    roles = assign_roles(("C", "V1", "V2"), links_, hints, {"C", "V1"},
                         {"V1": date(2010, 6, 1), "V2": date(2005, 1, 1)}, date(2026, 3, 1))
    assert roles["C"].role == "likely_controller" and roles["C"].is_subject
    assert roles["V1"].role == roles["V2"].role == "likely_victim"
    assert not roles["V1"].is_subject and not roles["V2"].is_subject
    assert any("possible minor: age 15" in r for r in roles["V1"].reasons)
    assert not any("age" in r for r in roles["V2"].reasons)  # 21: no note


def test_facilitators_paying_a_controller_stay_facilitators():
    links_ = _links([("B1", "C", "money", 9, 5000.0), ("B2", "C", "money", 9, 5000.0)])
    hints = _hints([("B1", "facilitator", 2, "f.z"), ("B2", "facilitator", 2, "f.z"),
                    ("C", "controller", 3, "c.y")])
    roles = assign_roles(("B1", "B2", "C"), links_, hints, {"C"}, {}, date(2026, 3, 1))
    assert roles["C"].role == "likely_controller"
    assert roles["B1"].role == roles["B2"].role == "facilitator"
    assert roles["B1"].is_subject


def test_even_victim_controller_split_is_left_to_the_analyst():
    hints = _hints([("F", "victim", 2, "funnel.a")])
    roles = assign_roles(("F",), _links([]), hints, {"F"}, {}, date(2026, 3, 1),
                         {"funnel.a": ("victim", "controller")})
    assert roles["F"].role == "unknown" and not roles["F"].is_subject
    assert "review before naming" in roles["F"].reasons[0]
