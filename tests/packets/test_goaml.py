"""goAML report XML: 5.0.1 and UAE 5.0.2 validity, exact amounts, indicators, activity reports."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from tests.packets.strategies import packets
from tests.support import ROOT
from txflags.errors import InputError
from txflags.packets.filer import FilerConfig, GoamlCodes
from txflags.packets.goaml import goaml_amount, goaml_datetime, goaml_xml, reason_text
from txflags.packets.model import example_packet
from txflags.packets.validate import GOAML_XSDS, clean_text, goaml_schema, validate_goaml

FILER = FilerConfig.example()
WHEN = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
SCHEMAS = ["5.0.1", "5.0.2-uae"]
SHARED = ROOT.parent / "shared" / "schemas" / "samples"  # ../shared, as in CI
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def build(packet, schema="5.0.1", **kw) -> bytes:
    return goaml_xml(packet, FILER, goaml_schema=schema, submission_date=WHEN, **kw)


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("code", ["STR", "SAR"])
def test_example_validates(schema: str, code: str) -> None:
    xml = build(example_packet(), schema, report_code=code)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert validate_goaml(xml, schema) == []
    root = ET.fromstring(xml)
    assert root.tag == "report"  # no namespace
    assert root.findtext("entity_reference") == "HT-3F9A0C12D4"
    assert root.findtext("report_code") == code
    assert len(root.findall("transaction")) == 7


@pytest.mark.parametrize("schema", SCHEMAS)
def test_no_transactions_is_an_activity_report(schema: str) -> None:
    p = copy.deepcopy(example_packet())
    p["transactions"] = []
    xml = build(p, schema, report_code="SAR")
    assert validate_goaml(xml, schema) == []
    root = ET.fromstring(xml)
    parties = root.findall("activity/report_parties/report_party")
    assert len(parties) == 3 and root.find("transaction") is None
    victim = [rp for rp in parties if rp.findtext("account/account") == "ACC-V1"][0]
    assert "may be a victim" in victim.findtext("reason").lower()


def check_report(xml: bytes, packet, schema: str) -> None:
    assert validate_goaml(xml, schema) == []
    root = ET.fromstring(xml)
    txns = root.findall("transaction")
    assert len(txns) == len(packet["transactions"])
    for el, t in zip(txns, packet["transactions"], strict=True):
        assert "T" in el.findtext("date_transaction")
        if t["currency"] == "USD":
            assert el.findtext("amount_local") == goaml_amount(t["amount"])
        elif el.find(".//foreign_amount") is not None:
            assert el.find(".//foreign_amount").text == goaml_amount(t["amount"])
    if not packet["transactions"]:
        assert root.find("activity/report_parties/report_party") is not None
    assert len(root.findtext("reason")) <= 8000
    assert root.findall("report_indicators/indicator")


@SETTINGS
@given(packets())
def test_generated_packets_validate_baseline(packet) -> None:
    xml = build(packet, "5.0.1")
    check_report(xml, packet, "5.0.1")
    root = ET.fromstring(xml)
    assert [i.text for i in root.findall("report_indicators/indicator")] == ["-"]
    names = {clean_text(t.get("counterparty_name")) for t in packet["transactions"]}
    for tag in ("to_person", "from_person"):  # counterparties survive a parse round trip
        for person in root.iter(tag):
            full = f"{person.findtext('first_name')} {person.findtext('last_name')}"
            assert full in names or any(len(n) > 100 for n in names)


@SETTINGS
@given(packets())
def test_generated_packets_validate_uae(packet) -> None:
    check_report(build(packet, "5.0.2-uae"), packet, "5.0.2-uae")


def test_amounts_are_exact_decimal_strings() -> None:
    assert goaml_amount("0.01") == "0.01"
    assert goaml_amount("12345678.12345678") == "12345678.12345678"
    assert goaml_amount("450") == "450.00"
    assert goaml_amount("1.5") == "1.50"
    with pytest.raises(TypeError):
        goaml_amount(0.1)
    p = copy.deepcopy(example_packet())
    p["transactions"][0]["amount"] = "12345678.12345678"
    root = ET.fromstring(build(p))
    assert root.find("transaction/amount_local").text == "12345678.12345678"


def test_datetimes_have_a_time_part() -> None:
    assert goaml_datetime("2026-03-11T23:59:59-05:00") == "2026-03-12T04:59:59"
    assert goaml_datetime("2026-03-12") == "2026-03-12T00:00:00"
    assert goaml_datetime("bad", "2026-01-01T00:00:00") == "2026-01-01T00:00:00"


def test_reason_is_cut_at_a_word_boundary() -> None:
    p = copy.deepcopy(example_packet())
    p["narrative"]["text"] = "alpha beta\n" * 2000
    text = reason_text(p)
    assert len(text) <= 8000 and text.endswith("[truncated; see the case packet]")
    assert "\n" not in text and "alph " not in text


def test_uae_indicators_pass_through_and_map() -> None:
    p = copy.deepcopy(example_packet())
    p["filing"]["goaml_indicators"] = ["CSAM1", "-", "NOPE"]
    root = ET.fromstring(build(p, "5.0.2-uae"))
    assert [i.text for i in root.findall("report_indicators/indicator")] == ["CSAM1"]
    mapped = FILER.with_goaml_codes(GoamlCodes(indicators={"family:lodging": "A"}))
    with pytest.raises(InputError, match="indicator"):  # "A" is not in the baseline list
        goaml_xml(example_packet(), mapped, submission_date=WHEN)
    mapped = FILER.with_goaml_codes(GoamlCodes(indicators={"family:lodging": "-"}))
    root = ET.fromstring(goaml_xml(example_packet(), mapped, submission_date=WHEN))
    assert [i.text for i in root.findall("report_indicators/indicator")] == ["-"]


def test_code_not_in_fiu_list_is_a_clear_error() -> None:
    bad = FILER.with_goaml_codes(GoamlCodes(transmode={"default": "ZZZ"}))
    with pytest.raises(InputError, match="transmode"):
        goaml_xml(example_packet(), bad)
    with pytest.raises(InputError, match="report_code"):
        build(example_packet(), report_code="NOPE")


def test_custom_schema_path_and_unknown_name() -> None:
    xml = build(example_packet(), str(GOAML_XSDS["5.0.1"]))
    assert validate_goaml(xml, str(GOAML_XSDS["5.0.1"])) == []
    with pytest.raises(InputError, match="unknown goAML schema"):
        goaml_schema("9.9.9")


def test_validator_reports_removed_required_element() -> None:
    root = ET.fromstring(build(example_packet()))
    root.remove(root.find("rentity_id"))
    errors = validate_goaml(ET.tostring(root, encoding="utf-8"))
    assert errors


def test_validator_reports_namespace_and_spaces() -> None:
    xml = build(example_packet())
    assert validate_goaml(xml.replace(b"<report>", b'<report xmlns="http://www.unodc.org/goaml">'))
    root = ET.fromstring(xml)
    root.find("entity_reference").text = " HT-1 "
    assert any(e.startswith("business rule:") for e in
               validate_goaml(ET.tostring(root, encoding="utf-8")))


def test_uae_anchor_fix_is_needed_and_applied() -> None:
    import xmlschema
    schema = goaml_schema("5.0.2-uae")
    assert type(schema) is xmlschema.XMLSchema11 and goaml_schema("5.0.2-uae") is schema
    pristine = xmlschema.XMLSchema11(str(GOAML_XSDS["5.0.2-uae"]))
    xml = build(example_packet(), "5.0.2-uae")
    assert not pristine.is_valid(xml.decode())
    sample = SHARED / "vyttah-golden-SAR.xml"
    if sample.exists():
        assert validate_goaml(sample.read_bytes(), "5.0.2-uae") == []
