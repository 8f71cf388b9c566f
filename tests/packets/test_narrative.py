"""The draft narrative: key term, exact totals, victims as possible victims, the 17,000 limit."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings

from tests.packets.test_html import hostile_packets
from txflags.packets.model import KEY_TERM, example_packet
from txflags.packets.narrative import (
    NARRATIVE_LIMIT,
    RED_FLAGS,
    draft_narrative,
    red_flag,
    summary_sentence,
)

TYPOLOGIES = Path(__file__).resolve().parents[2] / "typologies"
SECTIONS = ("who", "what", "when", "where", "why", "how")


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text)


def _with_amounts(amounts: list[str], currency: str = "USD") -> dict:
    p = example_packet()
    base = p["transactions"][0]
    rate = 1.08 if currency == "EUR" else 1.0
    p["transactions"] = [dict(base, txn_id=f"T{i}", amount=a, currency=currency,
                              amount_usd=float(a) * rate if a[0].isdigit() else 0.0)
                         for i, a in enumerate(amounts)]
    return p


def _big_packet(n_alerts: int = 500, n_parties: int = 300) -> dict:
    p = example_packet()
    alert, victim = p["alerts"][0], p["parties"][1]
    codes = sorted(RED_FLAGS)
    p["alerts"] = [dict(alert, alert_id=f"A{i}", indicator=codes[i % len(codes)],
                        account_id=f"ACC-{i:04d}") for i in range(n_alerts)]
    p["parties"] = [p["parties"][0]] + [
        dict(victim, account_id=f"ACC-V{i:04d}", kyc={"name": f"Victim Person {i}"})
        for i in range(n_parties - 1)]
    return p


def test_opens_with_the_key_term_and_has_every_part():
    n = draft_narrative(example_packet())
    assert n["text"].startswith(KEY_TERM)
    paragraphs = n["text"].split("\n\n")
    assert paragraphs[0] == KEY_TERM + "."
    for label, paragraph in zip(SECTIONS, paragraphs[1:], strict=True):
        assert paragraph == f"{label.capitalize()}: {n[label]}"


def test_deterministic_and_ignores_the_input_narrative():
    p = example_packet()
    first = draft_narrative(p)
    q = copy.deepcopy(p)
    q["narrative"] = {"text": "something else", "who": "x"}
    assert draft_narrative(q) == first
    del q["narrative"]
    assert draft_narrative(q) == first


def test_exact_decimal_totals():
    what = draft_narrative(_with_amounts(["0.10", "0.20"]))["what"]
    assert "USD 0.30" in what and "0.30000000000000004" not in what
    what = draft_narrative(_with_amounts(["12345678.12345678", "0.00000001"]))["what"]
    assert "USD 12,345,678.12345679" in what


def test_foreign_currency_shows_the_usd_equivalent():
    what = draft_narrative(_with_amounts(["0.10", "0.20"], "EUR"))["what"]
    assert "EUR 0.30" in what and "USD 0.32 equivalent" in what


def test_unreadable_amounts_are_left_out_and_said_so():
    what = draft_narrative(_with_amounts(["1.00", "NaN", "1e9", "abc"]))["what"]
    assert "USD 1.00" in what
    assert "3 transactions with an unreadable amount are left out" in what


def test_example_totals_and_counts():
    what = draft_narrative(example_packet())["what"]
    assert "7 transactions totalling USD 2,975.99" in what
    assert "2 credits of USD 830.50" in what and "5 debits of USD 2,145.49" in what


def test_subjects_named_with_account_and_role():
    who = draft_narrative(example_packet())["who"]
    assert "Subject Marco Rossi (account ACC-C1, customer CUS-C1), likely controller" in who


def test_possible_victims_are_never_called_subjects_or_suspects():
    p = example_packet()
    p["parties"][2]["is_subject"] = True  # bad data: a likely victim flagged as subject
    n = draft_narrative(p)
    victims = [(v["kyc"]["name"], v["account_id"]) for v in p["parties"][1:]]
    for name, account in victims:
        assert f"{name} (account {account}) may be a victim of human trafficking" in n["who"]
        for s in _sentences(n["text"]):
            if name in s or f"account {account}" in s:
                assert "subject" not in s.lower() and "suspect" not in s.lower(), s
    assert "possible victims" in n["who"]


def test_when_has_exact_dates_and_deadlines():
    when = draft_narrative(example_packet())["when"]
    for day in ("2026-03-10", "2026-03-16", "2026-03-17", "2026-04-16", "2026-06-15",
                "2026-07-15", "2026-03-10T02:15:00+00:00", "2026-03-16T02:15:00+00:00"):
        assert day in when


def test_where_and_how():
    n = draft_narrative(example_packet())
    assert "Houston, TX, US" in n["where"] and "Dallas, TX, US" in n["where"]
    assert "MX (1 transaction)" in n["where"]
    assert ("ACC-C1 collected USD 830.50 through P2P from 2 accounts (ACC-V1 and ACC-V2) and "
            "sent USD 1,200.00 by money transfer to 1 counterparty in MX") in n["how"]


def test_why_names_red_flags_with_codes_and_observed_facts():
    why = draft_narrative(example_packet())["why"]
    assert RED_FLAGS["HT-LOD-01"] in why and "[HT-LOD-01, 1 alert]" in why
    assert "(FIN-2020-A008" in why
    assert "3 motel payments on one night & 2 nights in a row, $269.97 in all" in why


def test_every_catalogue_indicator_has_advisory_wording():
    indicators = set()
    for path in TYPOLOGIES.glob("*/*.yaml"):
        if path.name.endswith(".fixture.yaml"):
            continue
        indicators.add(yaml.safe_load(path.read_text(encoding="utf-8"))["indicator"])
    assert indicators and indicators <= set(RED_FLAGS)
    assert "commercial sex" in red_flag("HT-ADV-99")
    assert "commercial sex" in red_flag(None, "ad_platform")


def test_large_case_stays_within_the_limit_in_whole_sentences():
    n = draft_narrative(_big_packet())
    assert len(n["text"]) <= NARRATIVE_LIMIT
    assert "further alerts; see the attachment." in n["why"]
    assert "further parties, including" in n["who"]
    assert n["why"].count("[HT-") == len(RED_FLAGS)  # every red flag named before the tail
    for paragraph in n["text"].split("\n\n"):
        assert paragraph.endswith(".")


def test_huge_strings_stay_within_the_limit():
    p = example_packet()
    p["parties"][0]["kyc"]["name"] = "N" * 50_000
    p["alerts"][0]["sentence"] = "word " * 10_000
    p["parties"][0]["role_reasons"] = ["r" * 5_000] * 50
    n = draft_narrative(p)
    assert len(n["text"]) <= NARRATIVE_LIMIT
    assert n["text"].startswith(KEY_TERM)


def test_empty_packets():
    for packet in ({}, {"case": {}, "parties": [], "alerts": [], "transactions": []}):
        n = draft_narrative(packet)
        assert n["text"].startswith(KEY_TERM)
        assert set(n) == {"text", *SECTIONS}
        assert summary_sentence(packet)


def test_summary_sentence():
    s = summary_sentence(example_packet())
    assert s.startswith("HT-3F9A0C12D4: 2 alerts on Marco Rossi (ACC-C1, likely controller)")
    assert "USD 2,975.99 in 7 transactions" in s
    assert "2 account holders may be victims of human trafficking." in s
    assert "\n" not in s and len(_sentences(s)) <= 2


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_packets())
def test_hostile_packets(packet):
    n = draft_narrative(packet)
    assert n["text"].startswith(KEY_TERM)
    assert len(n["text"]) <= NARRATIVE_LIMIT
    assert draft_narrative(copy.deepcopy(packet)) == n
    paragraphs = n["text"].split("\n\n")
    assert len(paragraphs) == 1 + len(SECTIONS)
    assert all("\n" not in p and "\r" not in p for p in paragraphs)
    assert "\n" not in summary_sentence(packet)
