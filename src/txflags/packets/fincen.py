"""FinCEN SAR batch XML (BSA E-Filing, form SARX, schema v1.2) rendered from case packets.

``fincen_sar_xml`` builds ONE ``EFilingBatchXML`` with one ``Activity`` per packet; every value is
cleaned and clipped to the XSD (``validate.fit_tree``), SeqNum is one counter per file and the
batch attributes are computed from the content. Likely victims (``is_subject`` False) are never
subjects. ``write_fincen_batch`` writes the ``.xml`` (or a ``.zip`` with the XML plus one evidence
CSV per SAR when attachments are on) atomically.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from txflags.errors import InputError
from txflags.packets.filer import Address, FilerConfig, Institution
from txflags.packets.model import KEY_TERM, Packet, Party
from txflags.packets.validate import (
    FINCEN_NS,
    clean_text,
    clip_words,
    enumeration,
    fincen_schema,
    fit_tree,
)

log = logging.getLogger(__name__)

ET.register_namespace("fc2", FINCEN_NS)

HUMAN_TRAFFICKING = (9, 927)
NARRATIVE_BLOCK = 4000
NARRATIVE_BLOCKS = 5
NARRATIVE_TOTAL = 17000
TRUNCATED = " [narrative truncated; see attachment]"
CSV_LIMIT = 1_000_000  # FinCEN: one CSV of at most 1 MB per SAR
ZEROS14 = "0" * 14
_SPLIT_WINDOW = 400  # split a block at a space only within its last 400 characters

# Elements that carry the required SeqNum attribute (every complex element below the root).
_SEQ = {"Activity", "ActivityAssociation", "ActivitySupportDocument", "Party", "PartyName",
        "Address", "PhoneNumber", "PartyIdentification", "OrganizationClassificationTypeSubtype",
        "PartyOccupationBusiness", "ElectronicAddress", "PartyAssociation",
        "PartyAccountAssociation", "Account", "SuspiciousActivity",
        "SuspiciousActivityClassification", "ActivityNarrativeInformation"}
_CSV_COLUMNS = ("txn_id", "ts", "account_id", "direction", "amount", "currency", "amount_usd",
                "channel", "mcc", "merchant", "counterparty_id", "counterparty_name",
                "counterparty_country", "country", "city", "region")


def _q(tag: str) -> str:
    return f"{{{FINCEN_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, _q(tag))
    if text is not None:
        el.text = str(text)
    return el


def _flag(parent: ET.Element, tag: str, on: bool = True) -> None:
    """A ``Y`` indicator, omitted when off (FinCEN rejects "N")."""
    if on:
        _sub(parent, tag, "Y")


def _opt(parent: ET.Element, tag: str, value: Any) -> None:
    text = clean_text(value)
    if text:
        _sub(parent, tag, text)


# --- small conversions ------------------------------------------------------------------------


def yyyymmdd(value: Any, *, dob: bool = False) -> str | None:
    """``YYYY-MM-DD…`` → ``YYYYMMDD`` when the year is 1900–2099, else None."""
    digits = re.sub(r"\D", "", str(value or "")[:10])
    if len(digits) != 8 or not ("1900" <= digits[:4] <= "2099"):
        return None
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        if not dob:
            return None
    return digits


def whole_dollars(value: Any) -> int | None:
    """A US-dollar amount as whole dollars (rounded up, as FinCEN asks); None if unknown."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    return int(math.ceil(amount))


def _country(value: Any) -> str | None:
    text = clean_text(value).upper()
    return text if re.fullmatch(r"[A-Z]{2}", text) else None


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def split_name(name: str, business: bool) -> tuple[str | None, str | None]:
    """(first, last) of a person's name; (None, name) for an entity or a one-word name."""
    parts = clean_text(name).split(" ")
    parts = [p for p in parts if p]
    if not parts:
        return None, None
    if business or len(parts) == 1:
        return None, " ".join(parts)
    return parts[0], " ".join(parts[1:])


# --- narrative --------------------------------------------------------------------------------


def flatten_narrative(text: Any) -> str:
    """CR/LF/tab → single spaces, runs of spaces collapsed, trimmed."""
    return clean_text(text)


def narrative_blocks(text: Any) -> list[str]:
    """The narrative as ≤5 blocks of ≤4,000 characters (≤17,000 in all), split at spaces.

    A longer narrative is cut at a word boundary and ends with
    " [narrative truncated; see attachment]". When every cut falls on a space,
    ``" ".join(blocks)`` gives back the flattened text.
    """
    flat = flatten_narrative(text) or "See attached case packet."
    flat = clip_words(flat, NARRATIVE_TOTAL, TRUNCATED)
    blocks: list[str] = []
    rest = flat
    while rest and len(blocks) < NARRATIVE_BLOCKS:
        if len(rest) <= NARRATIVE_BLOCK:
            blocks.append(rest)
            break
        cut = rest.rfind(" ", NARRATIVE_BLOCK - _SPLIT_WINDOW, NARRATIVE_BLOCK + 1)
        if cut <= 0:
            blocks.append(rest[:NARRATIVE_BLOCK].rstrip())
            rest = rest[NARRATIVE_BLOCK:].lstrip()
        else:
            blocks.append(rest[:cut].rstrip())
            rest = rest[cut + 1:].lstrip()
    return [b for b in blocks if b]


# --- suspicious activity classification -------------------------------------------------------


def subtype_type(code: int) -> int:
    """The SAR activity type of a subtype code: 1xx→1, 8xx→8, 9xx→9, 10xx→10, x999→x."""
    if code >= 1000 and code % 1000 == 999:
        return code // 1000
    return code // 100


def classifications(codes: Iterable[Any]) -> list[tuple[int, int]]:
    """(type, subtype) pairs: 9/927 first, then the mapped codes the XSD knows, de-duplicated.

    "Other" subtypes (x999) are dropped: they need a free-text description txflags lacks.
    """
    schema = fincen_schema()
    subtypes = enumeration(schema, "ValidateSuspiciousActivitySubtypeID")
    types = enumeration(schema, "ValidateSuspiciousActivityTypeID")
    out = [HUMAN_TRAFFICKING]
    for raw in codes:
        try:
            code = int(raw)
        except (TypeError, ValueError):
            continue
        pair = (subtype_type(code), code)
        if (str(code) in subtypes and str(pair[0]) in types and code % 1000 != 999
                and pair not in out):
            out.append(pair)
    return out[:99]


# --- parties ----------------------------------------------------------------------------------


def _address(parent: ET.Element, street: Any = None, city: Any = None, state: Any = None,
             zip_code: Any = None, country: Any = None) -> None:
    el = _sub(parent, "Address")
    street, city, state = clean_text(street), clean_text(city), clean_text(state)
    zip_code, country = _digits(zip_code)[:9], _country(country)
    _flag(el, "CityUnknownIndicator", not city)
    _flag(el, "CountryCodeUnknownIndicator", not country)
    _opt(el, "RawCityText", city)
    _opt(el, "RawCountryCodeText", country)
    _opt(el, "RawStateCodeText", state if len(state) <= 3 else "")
    _opt(el, "RawStreetAddress1Text", street)
    _opt(el, "RawZIPCode", zip_code)
    _flag(el, "StateCodeUnknownIndicator", not state or len(state) > 3)
    _flag(el, "StreetAddressUnknownIndicator", not street)
    _flag(el, "ZIPCodeUnknownIndicator", not zip_code)


def _postal(parent: ET.Element, a: Address) -> None:
    _address(parent, a.street, a.city, a.state, a.zip, a.country)


def _legal_name(parent: ET.Element, name: str, code: str = "L") -> None:
    el = _sub(parent, "PartyName")
    _sub(el, "PartyNameTypeCode", code)
    _sub(el, "RawPartyFullName", name)


def _identification(parent: ET.Element, number: str | None, type_code: str) -> None:
    if number:
        el = _sub(parent, "PartyIdentification")
        _sub(el, "PartyIdentificationNumberText", number)
        _sub(el, "PartyIdentificationTypeCode", type_code)


def _phone(parent: ET.Element, number: str, ext: str | None = None) -> None:
    digits = _digits(number)
    if str(number).strip().startswith("+1") and len(digits) == 11:
        digits = digits[1:]  # NANP: FinCEN wants the 10-digit number
    el = _sub(parent, "PhoneNumber")
    _opt(el, "PhoneNumberExtensionText", _digits(ext)[:6])
    _sub(el, "PhoneNumberText", digits[:16])


def _party(activity: ET.Element, code: str) -> ET.Element:
    party = _sub(activity, "Party")
    _sub(party, "ActivityPartyTypeCode", code)
    return party


def _transmitter(activity: ET.Element, filer: FilerConfig) -> None:
    t = filer.transmitter
    party = _party(activity, "35")
    _legal_name(party, t.legal_name)
    _postal(party, t.address)
    _phone(party, t.phone)
    _identification(party, _digits(t.tin), "4")
    _identification(party, t.tcc, "28")
    contact = _party(activity, "37")
    _legal_name(contact, t.contact_name)


def _institution(activity: ET.Element, inst: Institution, code: str) -> None:
    party = _party(activity, code)
    _flag(party, "NoBranchActivityInvolvedIndicator", code == "34")
    _sub(party, "PrimaryRegulatorTypeCode", inst.primary_regulator)
    _legal_name(party, inst.legal_name)
    if inst.dba_name:
        _legal_name(party, inst.dba_name, "DBA")
    _postal(party, inst.address)
    _identification(party, _digits(inst.tin), inst.tin_type)
    _identification(party, inst.rssd, "14")
    _identification(party, inst.internal_control_number, "29")
    org = _sub(party, "OrganizationClassificationTypeSubtype")
    _opt(org, "OrganizationSubtypeID", inst.organization_subtype)
    _sub(org, "OrganizationTypeID", inst.organization_type)
    if inst.organization_type == "999":
        _sub(org, "OtherOrganizationTypeText", inst.organization_type_other or "Other")


def _contact_office(activity: ET.Element, filer: FilerConfig) -> None:
    party = _party(activity, "8")
    _legal_name(party, filer.contact_office.name)
    _phone(party, filer.contact_office.phone, filer.contact_office.phone_ext)


def _subject_name(party: ET.Element, kyc: dict[str, Any], business: bool) -> None:
    first, last = split_name(str(kyc.get("name") or ""), business)
    el = _sub(party, "PartyName")
    _flag(el, "EntityLastNameUnknownIndicator", not last)
    _flag(el, "FirstNameUnknownIndicator", not first and not business)
    _sub(el, "PartyNameTypeCode", "L")
    _opt(el, "RawEntityIndividualLastName", last)
    _opt(el, "RawIndividualFirstName", first)


def _subject_ids(party: ET.Element, kyc: dict[str, Any]) -> None:
    number = clean_text(kyc.get("id_number"))
    el = _sub(party, "PartyIdentification")
    if number:
        _sub(el, "OtherPartyIdentificationTypeText", "Identification on file")
        _sub(el, "PartyIdentificationNumberText", number)
        _sub(el, "PartyIdentificationTypeCode", "999")
    else:
        _flag(el, "IdentificationPresentUnknownIndicator")
    tin = _sub(party, "PartyIdentification")
    _flag(tin, "TINUnknownIndicator")


def _subject_account(party: ET.Element, p: Party, filer: FilerConfig) -> None:
    outer = _sub(party, "PartyAccountAssociation")
    _sub(outer, "PartyAccountAssociationTypeCode", "7")
    holder = _sub(outer, "Party")
    _sub(holder, "ActivityPartyTypeCode", "41")
    inst = filer.activity_institution
    _identification(holder, _digits(inst.tin), inst.tin_type)
    account = _sub(holder, "Account")
    _sub(account, "AccountNumberText", p["account_id"])
    inner = _sub(account, "PartyAccountAssociation")
    _sub(inner, "PartyAccountAssociationTypeCode", "5")


def _subject(activity: ET.Element, p: Party, filer: FilerConfig) -> None:
    kyc: dict[str, Any] = dict(p.get("kyc") or {})
    business = (kyc.get("customer_type") or "") == "business"
    dob = yyyymmdd(kyc.get("birth_date"), dob=True) if not business else None
    party = _party(activity, "33")
    _flag(party, "BirthDateUnknownIndicator", not business and not dob)
    _opt(party, "IndividualBirthDateText", dob)
    _flag(party, "PartyAsEntityOrganizationIndicator", business)
    _flag(party, "UnknownGenderIndicator", not business)
    _subject_name(party, kyc, business)
    _address(party, kyc.get("address"), kyc.get("home_city"), kyc.get("home_region"), None,
             kyc.get("home_country"))
    if _digits(kyc.get("phone")):
        _phone(party, str(kyc.get("phone")))
    _subject_ids(party, kyc)
    occupation = clean_text(kyc.get("occupation") or kyc.get("business_type"))
    if occupation:
        _sub(_sub(party, "PartyOccupationBusiness"), "OccupationBusinessText", occupation)
    email = clean_text(kyc.get("email"))
    if email:
        el = _sub(party, "ElectronicAddress")
        _sub(el, "ElectronicAddressText", email)
        _sub(el, "ElectronicAddressTypeCode", "E")
    assoc = _sub(party, "PartyAssociation")
    _flag(assoc, "CustomerIndicator", bool(p.get("customer_id")))
    _flag(assoc, "NoRelationshipToInstitutionIndicator", not p.get("customer_id"))
    _sub(assoc, "SubjectRelationshipFinancialInstitutionTINText",
         _digits(filer.activity_institution.tin))
    _subject_account(party, p, filer)


def subjects(packet: Packet) -> list[Party]:
    """The packet's SAR subjects: parties flagged ``is_subject`` (never a likely victim)."""
    return [p for p in packet.get("parties") or []
            if p.get("is_subject") is True and p.get("role") != "likely_victim"]


def _subjects(activity: ET.Element, packet: Packet, filer: FilerConfig) -> None:
    found = subjects(packet)[:999]
    if not found:
        party = _party(activity, "33")
        _flag(party, "AllCriticalSubjectInformationUnavailableIndicator")
    for p in found:
        _subject(activity, p, filer)


# --- activity ---------------------------------------------------------------------------------


def _dates(packet: Packet, filed: str) -> tuple[str, str | None]:
    filing, case = packet.get("filing") or {}, packet.get("case") or {}
    start = (yyyymmdd(filing.get("from_date")) or yyyymmdd(case.get("first_activity"))
             or yyyymmdd(case.get("opened_on")) or filed)
    end = yyyymmdd(filing.get("to_date")) or yyyymmdd(case.get("last_activity"))
    if end is not None and end < start:
        end = None
    return start, end


def _suspicious_activity(activity: ET.Element, packet: Packet, filed: str) -> int:
    """Part II; returns the whole-dollar amount it reports (0 when unknown)."""
    filing = packet.get("filing") or {}
    amount = whole_dollars(filing.get("total_suspicious_usd"))
    amount = amount if amount is not None and len(str(amount)) <= 15 else None
    start, end = _dates(packet, filed)
    el = _sub(activity, "SuspiciousActivity")
    _flag(el, "AmountUnknownIndicator", amount is None)
    _sub(el, "SuspiciousActivityFromDateText", start)
    _opt(el, "SuspiciousActivityToDateText", end)
    _opt(el, "TotalSuspiciousAmountText", amount)
    codes = list(filing.get("fincen_subtypes") or [])
    for type_id, subtype in classifications(codes):
        c = _sub(el, "SuspiciousActivityClassification")
        _sub(c, "SuspiciousActivitySubtypeID", subtype)
        _sub(c, "SuspiciousActivityTypeID", type_id)
    return amount or 0


def _prior_number(filing: dict[str, Any]) -> str:
    digits = _digits(filing.get("prior_document_number"))
    return digits if 0 < len(digits) <= 14 else ZEROS14


def _key_term(packet: Packet) -> str:
    return clean_text((packet.get("filing") or {}).get("key_term")) or KEY_TERM


def _narrative_text(packet: Packet) -> str:
    """The narrative, with the advisory key term in front when the draft lacks it."""
    text = flatten_narrative((packet.get("narrative") or {}).get("text"))
    key = _key_term(packet)
    return text if key in text else f"{key}. {text}".strip()


def _activity(root: ET.Element, packet: Packet, filer: FilerConfig, filed: str,
              attachment: str | None) -> int:
    filing = packet.get("filing") or {}
    continuing = bool(filing.get("continuing"))
    activity = _sub(root, "Activity")
    if continuing:
        _sub(activity, "EFilingPriorDocumentNumber", _prior_number(filing))
    _sub(activity, "FilingDateText", filed)
    _sub(activity, "FilingInstitutionNotetoFinCEN", _key_term(packet))
    assoc = _sub(activity, "ActivityAssociation")
    _flag(assoc, "ContinuingActivityReportIndicator", continuing)
    _flag(assoc, "InitialReportIndicator", not continuing)
    if attachment:
        _sub(_sub(activity, "ActivitySupportDocument"), "OriginalAttachmentFileName", attachment)
    _transmitter(activity, filer)
    _institution(activity, filer.filer, "30")
    _contact_office(activity, filer)
    _institution(activity, filer.activity_institution, "34")
    _subjects(activity, packet, filer)
    amount = _suspicious_activity(activity, packet, filed)
    for n, block in enumerate(narrative_blocks(_narrative_text(packet)), 1):
        info = _sub(activity, "ActivityNarrativeInformation")
        _sub(info, "ActivityNarrativeSequenceNumber", n)
        _sub(info, "ActivityNarrativeText", block)
    return amount


def attachment_names(packets: Sequence[Packet]) -> list[str]:
    """One distinct, file-system-safe CSV name per packet (≤150 characters)."""
    names: list[str] = []
    for i, packet in enumerate(packets, 1):
        case = re.sub(r"[^A-Za-z0-9._-]+", "_", str((packet.get("case") or {}).get("case_id")
                                                     or f"case{i}"))[:100]
        name = f"{case}-transactions.csv"
        if name in names:
            name = f"{case}-{i}-transactions.csv"
        names.append(name)
    return names


def _number_and_count(root: ET.Element, total: int) -> None:
    seq = 0
    for el in root.iter():
        if el is not root and el.tag.rsplit("}", 1)[-1] in _SEQ:
            seq += 1
            el.set("SeqNum", str(seq))
    activities = root.findall(_q("Activity"))
    subjects_n = sum(1 for a in activities for p in a.findall(_q("Party"))
                     if p.findtext(_q("ActivityPartyTypeCode")) == "33")
    attached = sum(1 for a in activities if a.find(_q("ActivitySupportDocument")) is not None)
    root.set("TotalAmount", str(total))
    root.set("PartyCount", str(subjects_n))
    root.set("ActivityCount", str(len(activities)))
    root.set("ActivityAttachmentCount", str(attached))
    root.set("AttachmentCount", str(attached))


def fincen_sar_xml(packets: Sequence[Packet], filer: FilerConfig, *, attachments: bool = False,
                   filing_date: date | None = None) -> bytes:
    """One FinCEN SAR batch (``EFilingBatchXML``, form SARX) with one Activity per packet."""
    if not packets:
        raise InputError("no case packets to file: a SAR batch needs at least one")
    filed = (filing_date or datetime.now(UTC).date()).strftime("%Y%m%d")
    names = attachment_names(packets) if attachments else [None] * len(packets)
    root = ET.Element(_q("EFilingBatchXML"))
    _sub(root, "FormTypeCode", "SARX")
    total = sum(_activity(root, p, filer, filed, n) for p, n in zip(packets, names, strict=True))
    fit_tree(root, fincen_schema())
    _number_and_count(root, total)
    return _serialise(root)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


# --- attachments and files --------------------------------------------------------------------


def _csv_safe(value: Any) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "@", "\t", "\r") else text


def _csv_row(row: Sequence[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(row)
    return buf.getvalue().encode("utf-8")


def evidence_csv(packet: Packet, limit: int = CSV_LIMIT) -> bytes:
    """The packet's transactions as CSV (≤1 MB); rows beyond are dropped and a NOTE row says so."""
    txns = list(packet.get("transactions") or [])
    out = bytearray(_csv_row(_CSV_COLUMNS))
    reserve = 200  # room for the NOTE row
    kept = 0
    for t in txns:
        row = _csv_row([_csv_safe(t.get(c)) for c in _CSV_COLUMNS])  # type: ignore[misc]
        if len(out) + len(row) > limit - reserve:
            break
        out += row
        kept += 1
    if kept < len(txns):
        log.warning("evidence CSV truncated to %d of %d transactions (1 MB limit)",
                    kept, len(txns))
        out += _csv_row(["NOTE", f"truncated: {kept} of {len(txns)} transactions shown "
                         "(FinCEN 1 MB attachment limit); the full list is in the case packet"])
    return bytes(out)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _zip_bytes(xml_name: str, xml: bytes, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(xml_name, xml)
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def write_fincen_batch(path: str | Path, packets: Sequence[Packet], filer: FilerConfig, *,
                       attachments: bool = False, filing_date: date | None = None,
                       xml: bytes | None = None) -> Path:
    """Write the batch atomically: ``.xml``, or a ``.zip`` (XML + CSVs) with attachments.

    ``xml``: the batch already built (and validated) from the same arguments; built here if
    not given. Returns the path written (the suffix becomes ``.zip`` when attachments are on).
    """
    target = Path(path)
    if xml is None:
        xml = fincen_sar_xml(packets, filer, attachments=attachments, filing_date=filing_date)
    if not attachments:
        _write_atomic(target, xml)
        return target
    target = target.with_suffix(".zip")
    csvs = {name: evidence_csv(p) for p, name in zip(packets, attachment_names(packets),
                                                      strict=True)}
    _write_atomic(target, _zip_bytes(target.with_suffix(".xml").name, xml, csvs))
    return target
