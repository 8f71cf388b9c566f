"""goAML report XML (UNODC; STR or SAR) rendered from one case packet.

One ``<report>`` without a namespace, in strict schema order. Transactions become
``transaction`` elements with non-client ``t_from``/``t_to`` (the packet's KYC never carries the
fields ``*_my_client`` makes mandatory: SSN, nationality, account status, ...); a packet without
transactions becomes an activity report (``activity/report_parties``). Amounts come from the
booked decimal strings, never through float. Code lists (transmode, funds, countries, report
indicators) are the FIU's and come from the filer config; values are fitted to the chosen
schema's lengths and patterns (``validate.fit_tree``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from txflags.errors import InputError
from txflags.packets.filer import FilerConfig, GoamlCodes, GoamlConfig
from txflags.packets.model import Packet, Party, Transaction
from txflags.packets.validate import (
    child_decl,
    clean_text,
    clip_words,
    enumeration,
    fit_tree,
)
from txflags.packets.validate import goaml_schema as load_goaml_schema

REASON_LIMIT = 8000
TRUNCATED = " [truncated; see the case packet]"
MAX_FRACTION = 13
MAX_ABS = Decimal("7900000000000000")
_ENTITY_WORDS = re.compile(
    r"(&|\b(inc|llc|ltd|limited|corp|corporation|co|company|gmbh|s\.?a|s\.?l|hijos|bank|motel|"
    r"hotel|inn|services|group|holdings|trust|store|shop|market)\b\.?)", re.I)


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _opt(parent: ET.Element, tag: str, value: Any) -> None:
    text = clean_text(value)
    if text:
        _sub(parent, tag, text)


# --- value formats ----------------------------------------------------------------------------


def goaml_amount(value: Any) -> str:
    """An exact ``xs:decimal`` string with a dot and at least 2 decimals (≤13), from a string.

    Floats are refused: the booked amount must arrive as its decimal string.
    """
    if isinstance(value, float):
        raise TypeError("goAML amounts must come from the exact decimal string, not a float")
    try:
        amount = abs(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError) as exc:
        raise InputError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite() or amount > MAX_ABS:
        raise InputError(f"amount out of goAML range: {value!r}")
    exponent = amount.as_tuple().exponent
    places = max(2, min(MAX_FRACTION, -exponent if isinstance(exponent, int) else 2))
    quantum = Decimal(1).scaleb(-places)
    return format(amount.quantize(quantum, rounding=ROUND_HALF_EVEN), "f")


def goaml_datetime(value: Any, default: str | None = None) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in UTC (goAML ``sql_date``: time part required, ≥1753)."""
    text = str(value or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment is None or moment.year < 1753:
        if default is None:
            raise InputError(f"not an ISO date/time: {value!r}")
        return default
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# --- schema-aware code choice -----------------------------------------------------------------


class _Codes:
    """The FIU code maps checked against the chosen schema's enumerations."""

    def __init__(self, codes: GoamlCodes, schema: Any, schema_name: str) -> None:
        self.codes, self.schema, self.name = codes, schema, schema_name
        self.countries = enumeration(schema, "country_type")
        self.currencies = enumeration(schema, "currency_type")

    def pick(self, type_name: str, code: str, what: str) -> str:
        allowed = enumeration(self.schema, type_name)
        if allowed and code not in allowed:
            raise InputError(
                f"goAML {what} code {code!r} is not in the {self.name} schema's {type_name} "
                f"list; set it in the filer config under goaml.codes (or goaml.fiu_profiles."
                f"{self.name}); allowed: {', '.join(sorted(allowed)[:30])}"
                + (" ..." if len(allowed) > 30 else ""))
        return code

    def country(self, value: Any) -> str:
        code = clean_text(value).upper()
        if self.codes.country_passthrough and code in self.countries:
            return code
        return self.pick("country_type", self.codes.unknown_country, "unknown-country")

    def currency(self, value: Any) -> str | None:
        code = clean_text(value).upper()
        return code if code in self.currencies else None


# --- header -----------------------------------------------------------------------------------


def _require_goaml(filer: FilerConfig) -> GoamlConfig:
    if filer.goaml is None:
        raise InputError(f"filer config {filer.source} has no goaml: section; add rentity_id, "
                         "location and reporting_user_code (see the template)")
    return filer.goaml


def _location(parent: ET.Element, tag: str, g: GoamlConfig, codes: _Codes) -> None:
    loc = _sub(parent, tag)
    _sub(loc, "address_type", codes.pick("contact_type", codes.codes.address_type,
                                         "address_type"))
    _sub(loc, "address", g.location.get("address"))
    _sub(loc, "city", g.location.get("city"))
    _opt(loc, "zip", g.location.get("zip"))
    _sub(loc, "country_code", codes.country(g.location.get("country_code")))
    _sub(loc, "state", g.location.get("state") or g.location.get("city"))


def _reporter(root: ET.Element, g: GoamlConfig) -> None:
    if g.reporting_person is None:
        _sub(root, "reporting_user_code", g.reporting_user_code)
        return
    person = _sub(root, "reporting_person")
    _sub(person, "first_name", g.reporting_person.get("first_name"))
    _sub(person, "last_name", g.reporting_person.get("last_name"))
    _opt(person, "email", g.reporting_person.get("email"))
    _opt(person, "occupation", g.reporting_person.get("occupation"))


def _victims(packet: Packet) -> list[Party]:
    return [p for p in packet.get("parties") or []
            if p.get("role") == "likely_victim" or p.get("is_subject") is False]


def action_text(packet: Packet) -> str:
    """The ``action`` field: case status, recommended handling, and a note on likely victims."""
    case = packet.get("case") or {}
    parts = [f"Case {case.get('case_id', '')} status: {case.get('status', 'open')}."]
    subjects = [p["account_id"] for p in packet.get("parties") or [] if p.get("is_subject")]
    if subjects:
        parts.append(f"Reported as suspected: account(s) {', '.join(subjects)}. Accounts "
                     "remain under enhanced monitoring; a continuing-activity review is "
                     f"due {case.get('review_due') or 'in 90 days'}.")
    victims = _victims(packet)
    if victims:
        parts.append(f"Account(s) {', '.join(p['account_id'] for p in victims)} belong to "
                     "people who may be victims of human trafficking: they are not reported as "
                     "suspects; handle with their safety in mind and consider referral to "
                     "victim services alongside law enforcement.")
    return clip_words(" ".join(parts), REASON_LIMIT, TRUNCATED)


def reason_text(packet: Packet) -> str:
    """The ``reason`` field: the narrative flattened and cut at a word boundary (≤8,000)."""
    text = clean_text((packet.get("narrative") or {}).get("text")) or clean_text(
        packet.get("summary")) or "See the attached case packet."
    return clip_words(text, REASON_LIMIT, TRUNCATED)


# --- parties and accounts ---------------------------------------------------------------------


def _institution(g: GoamlConfig, filer: FilerConfig) -> tuple[str, str, str]:
    """(institution_name, code tag, code value) for accounts held at the filer."""
    name = g.institution_name or filer.activity_institution.legal_name
    if g.swift:
        return name, "swift", g.swift
    return name, "institution_code", g.institution_code or filer.activity_institution.tin


def _own_account(parent: ET.Element, tag: str, party: Party | None, account_id: str,
                 currency: str | None, g: GoamlConfig, filer: FilerConfig) -> None:
    """A t_account held at the filer, for a packet party (or an unnamed customer account)."""
    name, code_tag, code = _institution(g, filer)
    acc = _sub(parent, tag)
    _sub(acc, "institution_name", name)
    _sub(acc, code_tag, code)
    _sub(acc, "account", account_id)
    if currency:
        _sub(acc, "currency_code", currency)
    kyc: dict[str, Any] = dict((party or {}).get("kyc") or {})
    holder = clean_text(kyc.get("name"))
    _sub(acc, "account_name", holder or account_id)
    if party is not None and party.get("customer_id"):
        _sub(acc, "client_number", party["customer_id"])
    _opt(acc, "comments", _account_comment(party, holder))


def _account_comment(party: Party | None, holder: str) -> str:
    if party is None:
        return ""
    role = str(party.get("role") or "unknown").replace("_", " ")
    note = f"txflags role: {role}."
    if party.get("role") == "likely_victim" or party.get("is_subject") is False:
        note += " The account holder may be a victim of human trafficking, not a suspect."
    if holder and not holder.isascii():
        note += f" Name as on file: {holder}."
    return note


def _is_entity(name: str, is_merchant: bool) -> bool:
    return is_merchant or len(name.split()) < 2 or bool(_ENTITY_WORDS.search(name))


def _counterparty(parent: ET.Element, side: str, t: Transaction, g: GoamlConfig,
                  filer: FilerConfig, parties: dict[str, Party]) -> None:
    """The other side: a packet party's account, a person, an entity, or an account."""
    cp_id = clean_text(t.get("counterparty_id"))
    name = clean_text(t.get("counterparty_name") or t.get("merchant"))
    if cp_id in parties:
        _own_account(parent, f"{side}_account", parties[cp_id], cp_id, None, g, filer)
    elif name and not _is_entity(name, bool(t.get("merchant"))):
        person = _sub(parent, f"{side}_person")
        first, _, last = name.partition(" ")
        _sub(person, "first_name", first)
        _sub(person, "last_name", last)
    elif name or not cp_id:
        _sub(_sub(parent, f"{side}_entity"), "name", name or "Unknown counterparty")
    else:
        acc = _sub(parent, f"{side}_account")
        _sub(acc, "institution_name", "Unknown institution")
        _sub(acc, "institution_code", "UNKNOWN")
        _sub(acc, "account", cp_id)
        _sub(acc, "account_name", cp_id)


# --- transactions -----------------------------------------------------------------------------


def _local_amount(t: Transaction, local: str) -> tuple[str, bool]:
    """(amount_local, converted?): exact when booked in the local currency."""
    currency = clean_text(t.get("currency")).upper()
    if currency == local or not currency:
        return goaml_amount(t.get("amount")), False
    if local == "USD" and t.get("amount_usd") is not None:
        usd = Decimal(repr(float(t["amount_usd"]))).quantize(Decimal("0.01"))
        return goaml_amount(str(usd)), True
    return goaml_amount(t.get("amount")), False


def _foreign(parent: ET.Element, tag: str, t: Transaction, local_amount: str,
             codes: _Codes) -> None:
    currency = codes.currency(t.get("currency"))
    booked = Decimal(goaml_amount(t.get("amount")))
    if currency is None or booked == 0:
        return
    fx = _sub(parent, tag)
    _sub(fx, "foreign_currency_code", currency)
    _sub(fx, "foreign_amount", goaml_amount(t.get("amount")))
    rate = (Decimal(local_amount) / booked).quantize(Decimal("0.000001"))
    _sub(fx, "foreign_exchange_rate", goaml_amount(str(rate)))


def _side(txn: ET.Element, side: str, t: Transaction, ours: bool, ctx: dict[str, Any]) -> None:
    codes: _Codes = ctx["codes"]
    g: GoamlConfig = ctx["g"]
    el = _sub(txn, f"t_{side}")
    _sub(el, f"{side}_funds_code",
         codes.pick("funds_type", codes.codes.funds_for(t.get("channel")), "funds"))
    if ctx["converted"]:
        _foreign(el, f"{side}_foreign_currency", t, ctx["amount_local"], codes)
    if ours:
        account_id = clean_text(t.get("account_id")) or "UNKNOWN"
        _own_account(el, f"{side}_account", ctx["parties"].get(account_id), account_id,
                     codes.currency(t.get("currency")), g, ctx["filer"])
        country = t.get("country") or ctx["filer"].activity_institution.address.country
    else:
        _counterparty(el, side, t, g, ctx["filer"], ctx["parties"])
        country = t.get("counterparty_country") or t.get("country")
    _sub(el, f"{side}_country", codes.country(country))


def _description(t: Transaction, converted: bool, local: str) -> str:
    direction = "outgoing" if t.get("direction") == "out" else "incoming"
    text = f"{direction} {clean_text(t.get('channel')) or 'payment'}"
    if t.get("merchant"):
        text += f" at {clean_text(t.get('merchant'))}"
    if t.get("mcc") is not None:
        text += f" (MCC {t.get('mcc')})"
    booked = f"{clean_text(t.get('amount'))} {clean_text(t.get('currency'))}".strip()
    if converted:
        text += f"; booked as {booked}, converted to {local}"
    elif clean_text(t.get("currency")).upper() not in ("", local):
        text += f"; amount in {clean_text(t.get('currency'))}, not converted to {local}"
    return text


def _transaction(root: ET.Element, t: Transaction, ctx: dict[str, Any]) -> None:
    codes: _Codes = ctx["codes"]
    local = ctx["g"].currency_code_local
    amount_local, converted = _local_amount(t, local)
    ctx.update(amount_local=amount_local, converted=converted)
    txn = _sub(root, "transaction")
    _sub(txn, "transactionnumber", clean_text(t.get("txn_id")) or "UNKNOWN")
    place = ", ".join(clean_text(t.get(k)) for k in ("city", "region", "country")
                      if clean_text(t.get(k)))
    _sub(txn, "transaction_location", place or "Unknown")
    _sub(txn, "transaction_description", _description(t, converted, local))
    _sub(txn, "date_transaction", goaml_datetime(t.get("ts"), ctx["fallback_date"]))
    channel = clean_text(t.get("channel")) or "other"
    _sub(txn, "transmode_code", codes.pick("conduction_type", codes.codes.transmode_for(channel),
                                           "transmode"))
    _sub(txn, "transmode_comment", channel if len(channel) <= ctx["comment_len"] else "-")
    _sub(txn, "amount_local", amount_local)
    outgoing = t.get("direction") == "out"
    _side(txn, "from", t, outgoing, ctx)
    _side(txn, "to", t, not outgoing, ctx)


# --- activity report (no transactions) --------------------------------------------------------


def _party_reason(p: Party) -> str:
    role = str(p.get("role") or "unknown").replace("_", " ")
    reasons = "; ".join(clean_text(r) for r in p.get("role_reasons") or [])
    text = f"{role}: {reasons}" if reasons else role
    if p.get("role") == "likely_victim" or p.get("is_subject") is False:
        text += ". May be a victim of human trafficking; not reported as a suspect."
    return clip_words(text, REASON_LIMIT, TRUNCATED)


def _activity(root: ET.Element, packet: Packet, ctx: dict[str, Any]) -> None:
    parties = list(packet.get("parties") or [])
    if not parties:
        raise InputError("the packet has neither transactions nor parties: nothing to report")
    holder = _sub(_sub(root, "activity"), "report_parties")
    for p in parties:
        rp = _sub(holder, "report_party")
        _own_account(rp, "account", p, p["account_id"], None, ctx["g"], ctx["filer"])
        _sub(rp, "reason", _party_reason(p))


# --- indicators and the report ----------------------------------------------------------------


def report_indicators(packet: Packet, codes: GoamlCodes, allowed: frozenset[str]) -> list[str]:
    """FIU indicator codes: mapped txflags codes/families, FIU-listed codes, else the default."""
    filing, case = packet.get("filing") or {}, packet.get("case") or {}
    candidates = list(filing.get("goaml_indicators") or [])
    for alert in packet.get("alerts") or []:
        candidates += alert.get("goaml_indicators") or []
    candidates += [f"family:{f}" for f in case.get("families") or []]
    out: list[str] = []
    for raw in candidates:
        code = str(raw).strip()
        if code in codes.indicators:
            code = codes.indicators[code]  # a configured code: checked (and reported) later
        elif not (codes.indicator_passthrough and code in allowed):
            continue
        if code and code not in out:
            out.append(code)
    return out or [codes.default_indicator]


def goaml_xml(packet: Packet, filer: FilerConfig, *, report_code: str = "STR",
              goaml_schema: str = "5.0.1", submission_date: datetime | None = None) -> bytes:
    """One goAML ``<report>`` (STR or SAR) for a packet, for the chosen FIU schema.

    ``goaml_schema`` is ``5.0.1`` (baseline), ``5.0.2-uae`` or a path to an FIU's
    goAMLSchema.xsd; code maps come from ``filer.goaml.codes_for(goaml_schema)``.
    """
    g = _require_goaml(filer)
    schema = load_goaml_schema(goaml_schema)
    codes = _Codes(g.codes_for(goaml_schema), schema, goaml_schema)
    now = (submission_date or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    case = packet.get("case") or {}
    root = ET.Element("report")
    _sub(root, "rentity_id", g.rentity_id)
    _sub(root, "rentity_branch", g.rentity_branch or "Head office")
    _sub(root, "submission_code", "E")
    _sub(root, "report_code", codes.pick("report_type", report_code, "report_code"))
    _sub(root, "entity_reference", clean_text(case.get("case_id")) or "UNKNOWN")
    _sub(root, "submission_date", now.strftime("%Y-%m-%dT%H:%M:%S"))
    _sub(root, "currency_code_local", codes.pick("currency_type", g.currency_code_local,
                                                 "currency_code_local"))
    _reporter(root, g)
    _location(root, "location", g, codes)
    _sub(root, "reason", reason_text(packet))
    _sub(root, "action", action_text(packet))
    ctx: dict[str, Any] = {
        "codes": codes, "g": g, "filer": filer,
        "parties": {p["account_id"]: p for p in packet.get("parties") or []},
        "fallback_date": goaml_datetime(case.get("first_activity") or case.get("opened_on"),
                                        now.strftime("%Y-%m-%dT%H:%M:%S")),
    }
    ctx["comment_len"] = _max_length(schema, "transaction", "transmode_comment")
    txns = list(packet.get("transactions") or [])
    for t in txns:
        _transaction(root, t, ctx)
    if not txns:
        _activity(root, packet, ctx)
    indicators = _sub(root, "report_indicators")
    allowed = enumeration(schema, "report_indicator_type")
    for code in report_indicators(packet, codes.codes, allowed):
        _sub(indicators, "indicator", codes.pick("report_indicator_type", code, "indicator"))
    fit_tree(root, schema)
    return _serialise(root)


def _max_length(schema: Any, *path: str) -> int:
    """maxLength of a leaf below ``report`` (UAE 5.0.2 allows one character for some)."""
    decl = schema.elements["report"]
    for tag in path:
        decl = child_decl(decl, tag) if decl is not None else None
    return getattr(getattr(decl, "type", None), "max_length", None) or 255


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
