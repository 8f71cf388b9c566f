"""Redaction profiles: no source identifier survives `external`, subjects survive `fiu`,
pseudonyms are stable under one key and differ under another."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.packets.strategies import SPECIAL_NAMES, packets
from txflags.errors import InputError
from txflags.packets.model import example_packet
from txflags.packets.redact import redact

_HOSTILE = [n for n in SPECIAL_NAMES if n.strip()]


@st.composite
def identified_packets(draw):
    """Packets whose personal values are unique tokens (hostile text plus a marker), so that a
    leak cannot hide behind a coincidence with ordinary words."""
    packet = draw(packets())
    for i, p in enumerate(packet["parties"]):
        p["account_id"] = f"ACC-{i}-{draw(st.sampled_from(['<&>', 'x', '李']))}Z{i}"
        p["customer_id"] = f"CUS-{i}Q"
        kyc = p["kyc"]
        kyc["name"] = f"{draw(st.sampled_from(_HOSTILE))} #{i}Q7"
        kyc["phone"] = f"+1 555 01{i:02d} 99"
        kyc["email"] = f"person{i}@mail{i}.example"
        kyc["address"] = f"{i} Rue d'Évry & <Main> St, Apt {i}Q"
        kyc["id_number"] = f"PASS{i:05d}Q"
    accounts = [p["account_id"] for p in packet["parties"]]
    for j, t in enumerate(packet["transactions"]):
        t["account_id"] = accounts[j % len(accounts)]
        if t["counterparty_id"] not in (None, "MER-X") and t["counterparty_id"] not in accounts:
            t["counterparty_id"] = f"CP-{j}-R9"
            t["counterparty_name"] = f"Payee {j} Ñ&<R9>"
        elif t["counterparty_id"] is None:
            t["counterparty_name"] = None
        t["merchant"] = "MER-X" if t["counterparty_id"] == "MER-X" else None
    for a in packet["alerts"]:
        a["account_id"] = accounts[0]
        a["sentence"] = f"14 transfers to account {accounts[0]} from {accounts[-1]}"
    packet["network"]["nodes"] = [{"id": a, "label": a, "role": "unknown", "is_party": True}
                                  for a in accounts]
    packet["network"]["edges"] = []
    return packet


def _identifiers(packet) -> set[str]:
    out = set()
    for p in packet["parties"]:
        out |= {p["account_id"], p["customer_id"]}
        out |= {p["kyc"][k] for k in ("name", "phone", "email", "address", "id_number")}
    for t in packet["transactions"]:
        if t["counterparty_id"] and t["counterparty_id"].endswith("R9"):
            out |= {t["counterparty_id"], t["counterparty_name"]}
    return out


@settings(max_examples=40, deadline=None)
@given(identified_packets())
def test_external_leaves_no_source_identifier(packet):
    red = redact(packet, "external", "k" * 32)
    text = json.dumps(red, ensure_ascii=False)
    assert [i for i in _identifiers(packet) if i in text] == []
    assert red["redaction"]["profile"] == "external"
    for p in red["parties"]:
        assert p["kyc"].get("birth_date") in (None, "") or len(p["kyc"]["birth_date"]) <= 4


@settings(max_examples=25, deadline=None)
@given(identified_packets())
def test_fiu_keeps_subjects_and_hides_victims(packet):
    red = redact(packet, "fiu", "key")
    text = json.dumps(red, ensure_ascii=False)
    for before, after in zip(packet["parties"], red["parties"], strict=True):
        if before["is_subject"]:
            assert after["account_id"] == before["account_id"]
            assert after["kyc"]["name"] == before["kyc"]["name"]
        else:
            assert before["kyc"]["name"] not in text and before["account_id"] not in text


def test_pseudonyms_are_keyed_and_stable():
    p = example_packet()
    a1, a2 = redact(p, "external", "one"), redact(p, "external", "one")
    b = redact(p, "external", "two")
    ids = [x["account_id"] for x in a1["parties"]]
    assert ids == [x["account_id"] for x in a2["parties"]]
    assert ids != [x["account_id"] for x in b["parties"]]
    assert all(i.startswith("ACCT-") for i in ids)
    assert redact(p, "internal", "one")["parties"] == p["parties"]


def test_unknown_profile_and_missing_key():
    with pytest.raises(InputError, match="choose from"):
        redact(example_packet(), "public", "k")
    with pytest.raises(InputError, match="key"):
        redact(example_packet(), "external", "")
