"""Hypothesis strategies for varied case packets (names in many scripts, odd amounts, long text)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from txflags.packets.model import VICTIM_NOTE, Packet, example_packet

SPECIAL_NAMES = [
    "Josefa Núñez & Hijos", "O'Brien <Sean> \"The Boss\"", "李 小红", "محمد عبد الله",
    "Дмитрий Иванов", "Zoë Ångström-Øberg", "  Padded   Name  ", "😀 Emoji Person 🚀",
    "A&B <C> 'D' \"E\"", "X", "", "Tab\tNew\nLine\rName", "Ünïcödé Çafé S.A.",
    "Null\x00Byte Vertical\x0bTab", "Zero\u200bWidth Space",
]
CURRENCIES = ["USD", "EUR", "MXN", "AED", "JPY", "GBP", "XXX"]
AMOUNTS = ["0.01", "12345678.12345678", "450.00", "1", "999999.99", "0.10", "25"]
CHANNELS = ["card", "cash", "wire", "ach", "money_transfer", "p2p", "crypto", "prepaid", "atm",
            "check", "internal", "other"]

_alphabet = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "S", "Zs", "Cc"),
    include_characters="&<>\"' \t\n\r",
)
names = st.one_of(st.sampled_from(SPECIAL_NAMES), st.text(_alphabet, max_size=60))
amounts = st.one_of(
    st.sampled_from(AMOUNTS),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False,
                allow_infinity=False).map(str),
)
_words = st.lists(st.text("abcdefghijklmnopqrstuvwxyzÁÉ李محمد&<>'\"", min_size=1, max_size=12),
                  min_size=1, max_size=40)


@st.composite
def narratives(draw: Any) -> str:
    """Short drafts, or very long ones (20k+ characters) with newlines and tabs."""
    short = " ".join(draw(_words))
    if draw(st.booleans()):
        return "HUMAN TRAFFICKING FIN-2020-A008.\n\n" + short
    paragraph = " ".join(draw(_words)) + ".\n\n\t"
    repeat = 20_500 // max(len(paragraph), 1) + 1
    return ("Who: " + paragraph * repeat)[: draw(st.integers(20_000, 24_000))]


@st.composite
def parties(draw: Any, index: int, subject: bool) -> dict[str, Any]:
    """A packet party: a subject (likely controller) or a likely victim."""
    customer_type = draw(st.sampled_from(["individual", "business", None]))
    kyc = {
        "name": draw(names), "customer_type": customer_type,
        "birth_date": draw(st.sampled_from([None, "1988-04-02", "1900-01-01", "bad", ""])),
        "occupation": draw(st.one_of(st.none(), names)),
        "home_city": draw(st.one_of(st.none(), names)),
        "home_region": draw(st.sampled_from([None, "TX", "Texas", "", " CA "])),
        "home_country": draw(st.sampled_from([None, "US", "MX", "ZZ", "usa", "AE"])),
        "phone": draw(st.sampled_from([None, "+1 713 555 0101", "n/a", "+44 20 7946 0958"])),
        "email": draw(st.sampled_from([None, "mr@example.com", "not an email", " a@b.co "])),
        "address": draw(st.one_of(st.none(), names)),
        "id_number": draw(st.sampled_from([None, "D1234567", " X 1 ", "A" * 40])),
    }
    return {
        "account_id": f"ACC-{'S' if subject else 'V'}{index}",
        "customer_id": draw(st.sampled_from([None, f"CUS-{index}"])),
        "role": "likely_controller" if subject else "likely_victim",
        "role_reasons": [draw(names)], "is_subject": subject,
        "victim_note": None if subject else VICTIM_NOTE, "risk_score": 1.0,
        "families": ["funnel"], "kyc": kyc,
    }


@st.composite
def transactions(draw: Any, index: int, accounts: list[str]) -> dict[str, Any]:
    """One transaction on a packet account, with a named or unnamed counterparty."""
    amount = draw(amounts)
    currency = draw(st.sampled_from(CURRENCIES))
    counterparty = draw(st.sampled_from(accounts + ["CP-1", "MER-X", None]))
    return {
        "txn_id": f"T{index:05d}", "ts": draw(st.sampled_from(
            ["2026-03-10T02:15:00+00:00", "2026-03-11T23:59:59-05:00", "2026-03-12", "bad"])),
        "account_id": draw(st.sampled_from(accounts)),
        "direction": draw(st.sampled_from(["in", "out"])), "amount": amount,
        "currency": currency, "amount_usd": float(amount),
        "channel": draw(st.sampled_from(CHANNELS)), "mcc": draw(st.sampled_from([None, 7011])),
        "merchant": "MER-X" if counterparty == "MER-X" else None,
        "counterparty_id": counterparty,
        "counterparty_name": draw(st.one_of(st.none(), names)),
        "counterparty_country": draw(st.sampled_from([None, "MX", "US", "ZZ", "AE"])),
        "country": draw(st.sampled_from([None, "US"])),
        "city": draw(st.one_of(st.none(), names)), "region": None,
    }


@st.composite
def packets(draw: Any, max_parties: int = 6, max_txns: int = 25) -> Packet:
    """A varied packet: 0+ subjects, 0+ victims, 0+ transactions, odd text everywhere."""
    n_subjects = draw(st.integers(0, max_parties // 2))
    n_victims = draw(st.integers(0 if n_subjects else 1, max_parties // 2))
    people = ([draw(parties(i, True)) for i in range(n_subjects)]
              + [draw(parties(i, False)) for i in range(n_victims)])
    accounts = [p["account_id"] for p in people]
    txns = [draw(transactions(i, accounts)) for i in range(draw(st.integers(0, max_txns)))]
    packet = copy.deepcopy(example_packet())
    packet["parties"] = people  # type: ignore[typeddict-item]
    packet["transactions"] = txns  # type: ignore[typeddict-item]
    packet["narrative"]["text"] = draw(narratives())
    packet["case"]["case_id"] = draw(st.sampled_from(["HT-3F9A0C12D4", "HT-<&>", " HT 1 "]))
    filing = packet["filing"]
    filing["fincen_subtypes"] = draw(st.lists(
        st.sampled_from([927, 824, 812, 114, 911, 9999, 12345, 0, 926, 1201]), max_size=6))
    filing["total_suspicious_usd"] = draw(st.sampled_from([0, 1, 2595, 10**12]))
    filing["continuing"] = draw(st.booleans())
    filing["prior_document_number"] = draw(st.sampled_from([None, "31000123456789", "x"]))
    filing["goaml_indicators"] = draw(st.lists(st.sampled_from(["-", "CSAM1", "FOWNB", "NOPE"]),
                                               max_size=3))
    return packet
