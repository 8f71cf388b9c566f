"""FinCEN SAR batch XML: schema validity, business rules, victims, narrative blocks, files."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.packets.strategies import packets
from tests.support import ROOT
from txflags.packets.filer import FilerConfig
from txflags.packets.fincen import (
    TRUNCATED,
    classifications,
    evidence_csv,
    fincen_sar_xml,
    flatten_narrative,
    narrative_blocks,
    split_name,
    write_fincen_batch,
)
from txflags.packets.model import KEY_TERM, example_packet
from txflags.packets.validate import FINCEN_XSD, SCHEMA_DIR, fincen_schema, validate_fincen

NS = {"fc2": "www.fincen.gov/base"}
F = "{www.fincen.gov/base}"
SHARED = ROOT.parent / "shared" / "schemas"  # ../shared, as in CI
FILED = date(2026, 3, 20)
FILER = FilerConfig.example()
SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def build(pkts, **kw) -> bytes:
    return fincen_sar_xml(pkts, FILER, filing_date=FILED, **kw)


def parties_of(activity: ET.Element, code: str) -> list[ET.Element]:
    return [p for p in activity.findall("fc2:Party", NS)
            if p.findtext("fc2:ActivityPartyTypeCode", namespaces=NS) == code]


def check_batch(xml: bytes, pkts) -> None:
    """Everything a batch must satisfy, asserted on the parsed XML."""
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert validate_fincen(xml) == []
    root = ET.fromstring(xml)
    seq = [el.get("SeqNum") for el in root.iter() if el.get("SeqNum") is not None]
    assert len(seq) == len(set(seq))
    activities = root.findall("fc2:Activity", NS)
    assert root.get("ActivityCount") == str(len(pkts)) == str(len(activities))
    assert int(root.get("PartyCount")) == sum(len(parties_of(a, "33")) for a in activities)
    amounts = [a.findtext("fc2:SuspiciousActivity/fc2:TotalSuspiciousAmountText", "0", NS)
               for a in activities]
    assert all(re.fullmatch(r"[0-9]+", x) for x in amounts)
    assert root.get("TotalAmount") == str(sum(int(x) for x in amounts))
    for activity, packet in zip(activities, pkts, strict=True):
        check_activity(activity, packet)


def check_activity(activity: ET.Element, packet) -> None:
    assert activity.findtext("fc2:FilingInstitutionNotetoFinCEN", namespaces=NS) == KEY_TERM
    blocks = [b.text for b in activity.findall(
        "fc2:ActivityNarrativeInformation/fc2:ActivityNarrativeText", NS)]
    assert 1 <= len(blocks) <= 5 and all(len(b) <= 4000 for b in blocks)
    assert sum(map(len, blocks)) <= 17000 and KEY_TERM in blocks[0]
    subtypes = [c.findtext("fc2:SuspiciousActivitySubtypeID", namespaces=NS) for c in
                activity.iter(f"{F}SuspiciousActivityClassification")]
    assert "927" in subtypes and len(subtypes) == len(set(subtypes))
    subject_accounts = {a.text for p in parties_of(activity, "33")
                        for a in p.iter(f"{F}AccountNumberText")}
    victims = {p["account_id"] for p in packet["parties"] if not p["is_subject"]}
    subjects = {p["account_id"] for p in packet["parties"] if p["is_subject"]}
    assert subject_accounts == subjects and not (subject_accounts & victims)
    if not subjects:
        (only,) = parties_of(activity, "33")
        assert only.findtext("fc2:AllCriticalSubjectInformationUnavailableIndicator",
                             namespaces=NS) == "Y"
    continuing = activity.find("fc2:ActivityAssociation/fc2:ContinuingActivityReportIndicator",
                               NS) is not None
    assert continuing == bool(packet["filing"]["continuing"])
    assert (activity.find("fc2:EFilingPriorDocumentNumber", NS) is not None) == continuing


# --- the example and generated packets ---------------------------------------------------------


def test_example_packet_single_and_multi() -> None:
    p = example_packet()
    check_batch(build([p]), [p])
    check_batch(build([p, p, p]), [p, p, p])


def test_example_victims_are_not_subjects() -> None:
    root = ET.fromstring(build([example_packet()]))
    text = ET.tostring(root, encoding="unicode")
    assert "ACC-V1" not in text and "ACC-V2" not in text and "López" not in text
    (subject,) = parties_of(root.find("fc2:Activity", NS), "33")
    name = subject.find("fc2:PartyName", NS)
    assert name.findtext("fc2:RawIndividualFirstName", namespaces=NS) == "Marco"
    assert name.findtext("fc2:RawEntityIndividualLastName", namespaces=NS) == "Rossi"


@SETTINGS
@given(st.lists(packets(), min_size=1, max_size=3))
def test_generated_batches_validate(pkts) -> None:
    check_batch(build(pkts), pkts)


@SETTINGS
@given(packets(), st.booleans())
def test_generated_single_packet_validates(packet, attachments) -> None:
    xml = build([packet], attachments=attachments)
    check_batch(xml, [packet])
    root = ET.fromstring(xml)
    assert root.get("AttachmentCount") == ("1" if attachments else "0")
    subjects = [p for p in packet["parties"] if p["is_subject"]]
    if subjects:
        for party, el in zip(subjects, parties_of(root.find("fc2:Activity", NS), "33"),
                             strict=True):
            assert_name_round_trip(party, el)


def assert_name_round_trip(party, el: ET.Element) -> None:
    """Special characters survive: the parsed name equals the cleaned source name."""
    business = party["kyc"]["customer_type"] == "business"
    first, last = split_name(party["kyc"]["name"], business)
    name = el.find("fc2:PartyName", NS)
    got_first = name.findtext("fc2:RawIndividualFirstName", namespaces=NS)
    got_last = name.findtext("fc2:RawEntityIndividualLastName", namespaces=NS)
    if first and len(first) <= 35:
        assert got_first == first
    if last and len(last) <= 150:
        assert got_last == last
    if not first and not last:
        assert name.findtext("fc2:EntityLastNameUnknownIndicator", namespaces=NS) == "Y"


def test_special_characters_round_trip() -> None:
    p = copy.deepcopy(example_packet())
    p["parties"][0]["kyc"]["name"] = "Zoë <O'Brien> & \"Sons\""
    root = ET.fromstring(build([p]))
    (subject,) = parties_of(root.find("fc2:Activity", NS), "33")
    assert subject.findtext("fc2:PartyName/fc2:RawEntityIndividualLastName",
                            namespaces=NS) == "<O'Brien> & \"Sons\""
    assert subject.findtext("fc2:PartyName/fc2:RawIndividualFirstName", namespaces=NS) == "Zoë"


# --- narrative, codes, amounts ----------------------------------------------------------------


def test_narrative_short_is_one_block() -> None:
    assert narrative_blocks("a\tb\r\n\nc   d ") == ["a b c d"]


@SETTINGS
@given(st.lists(st.text("abcxyz\n\t ", min_size=1, max_size=30), min_size=1, max_size=900))
def test_narrative_blocks_split_on_words(words) -> None:
    text = " ".join(words)
    flat = flatten_narrative(text)
    blocks = narrative_blocks(text)
    assert 1 <= len(blocks) <= 5
    assert all(0 < len(b) <= 4000 and b == b.strip() for b in blocks)
    if flat and len(flat) <= 17000:
        assert " ".join(blocks) == flat


def test_narrative_over_17000_is_truncated_at_a_word() -> None:
    text = ("word " * 5000 + "\n") * 2  # 50,000 characters
    blocks = narrative_blocks(text)
    joined = " ".join(blocks)
    assert len(blocks) == 5 and sum(map(len, blocks)) <= 17000
    assert joined.endswith(TRUNCATED) and "wor " not in joined


def test_classifications_map_types_and_drop_unknown() -> None:
    assert classifications([824, 114, 911, 9999, 12345, 927, 824, "x", 1201]) == [
        (9, 927), (8, 824), (1, 114), (9, 911), (12, 1201)]


def test_continuing_with_and_without_prior_number() -> None:
    p = copy.deepcopy(example_packet())
    p["filing"]["continuing"] = True
    root = ET.fromstring(build([p]))
    assert root.findtext("fc2:Activity/fc2:EFilingPriorDocumentNumber", namespaces=NS) == "0" * 14
    p["filing"]["prior_document_number"] = "31000123456789"
    xml = build([p])
    assert validate_fincen(xml) == []
    assert ET.fromstring(xml).findtext("fc2:Activity/fc2:EFilingPriorDocumentNumber",
                                       namespaces=NS) == "31000123456789"


def test_amount_is_whole_dollars_rounded_up() -> None:
    p = copy.deepcopy(example_packet())
    p["filing"]["total_suspicious_usd"] = "2595.01"  # type: ignore[typeddict-item]
    root = ET.fromstring(build([p]))
    assert root.get("TotalAmount") == "2596"


# --- negative tests: the validator can fail ---------------------------------------------------


def _mutate(xml: bytes, change) -> bytes:
    root = ET.fromstring(xml)
    change(root)
    return ET.tostring(root, encoding="utf-8")


def test_validator_reports_removed_required_element() -> None:
    def drop(root):
        activity = root.find("fc2:Activity", NS)
        activity.remove(activity.find("fc2:FilingDateText", NS))
    errors = validate_fincen(_mutate(build([example_packet()]), drop))
    assert errors and any("FilingDateText" in e or "Activity" in e for e in errors)


def test_validator_reports_business_rules() -> None:
    xml = build([example_packet()])

    def amount_with_comma(root):
        root.find(".//fc2:TotalSuspiciousAmountText", NS).text = "2,595"
    assert any("whole dollars" in e for e in validate_fincen(_mutate(xml, amount_with_comma)))

    def wrong_count(root):
        root.set("PartyCount", "7")
    assert any(e.startswith("business rule: PartyCount") for e in
               validate_fincen(_mutate(xml, wrong_count)))

    def leading_space(root):
        root.find(".//fc2:ActivityNarrativeText", NS).text = " leading"
    assert any("leading or trailing" in e for e in validate_fincen(_mutate(xml, leading_space)))


def test_validator_rejects_moov_sample() -> None:
    sample = SHARED / "samples" / "moov-io-sar_batch.xml"
    if not sample.exists():
        pytest.skip("shared schemas folder not present")
    assert validate_fincen(sample.read_bytes())


def test_schema_is_xsd11_and_cached() -> None:
    import xmlschema
    assert type(fincen_schema()) is xmlschema.XMLSchema11
    assert fincen_schema() is fincen_schema()


@pytest.mark.parametrize("rel", [
    "fincen-sar/EFL_SARXBatchSchema.xsd", "goaml/5.0.1/goAMLSchema.xsd",
    "goaml/5.0.2-uae/goAMLSchema.xsd"])
def test_bundled_xsds_match_shared(rel: str) -> None:
    if not SHARED.exists():
        pytest.skip("../shared is not present")
    assert (SCHEMA_DIR / rel).read_bytes() == (SHARED / rel).read_bytes()
    assert FINCEN_XSD.is_file()


# --- attachments and files --------------------------------------------------------------------


def test_evidence_csv_drops_rows_over_the_limit() -> None:
    p = copy.deepcopy(example_packet())
    p["transactions"] = p["transactions"] * 200
    data = evidence_csv(p, limit=5_000)
    assert len(data) <= 5_000
    assert b"NOTE,truncated:" in data and data.startswith(b"txn_id,ts,")
    assert b"NOTE" not in evidence_csv(example_packet())


def test_write_xml_and_zip_atomically(tmp_path: Path) -> None:
    p = example_packet()
    out = write_fincen_batch(tmp_path / "batch.xml", [p], FILER, filing_date=FILED)
    assert out.suffix == ".xml" and validate_fincen(out.read_bytes()) == []
    out = write_fincen_batch(tmp_path / "batch.xml", [p, p], FILER, attachments=True,
                             filing_date=FILED)
    assert out.suffix == ".zip"
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        xml = zf.read("batch.xml")
    assert validate_fincen(xml) == []
    attached = [el.text for el in ET.fromstring(xml).iter(f"{F}OriginalAttachmentFileName")]
    assert sorted(attached) == sorted(n for n in names if n.endswith(".csv"))
    assert len(set(attached)) == 2
    assert not [f for f in tmp_path.iterdir() if ".tmp-" in f.name]
