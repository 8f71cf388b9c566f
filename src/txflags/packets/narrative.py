"""Draft SAR narrative for a case packet: who, what, when, where, why and how.

The draft is plain text for an analyst to edit, never filed as is. It opens with the FinCEN key
term, names subjects by name and account, names likely victims only as *possible victims*,
computes totals exactly with :class:`decimal.Decimal` from the booked amount strings, names each
red flag as the advisories do (with its TYPOLOGIES.md indicator code) and stays within FinCEN's
17,000-character narrative limit by summarising the tail of long lists in whole sentences.
The output depends on the packet only: no clock, no randomness, stable ordering.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from txflags.packets.fields import as_list, as_map, finite
from txflags.packets.model import KEY_TERM, Narrative

#: FinCEN SAR narrative limit (5 blocks; schemas/README.md §3.7).
NARRATIVE_LIMIT = 17_000

#: Character budgets of the bounded paragraphs; "why" gets whatever is left.
BUDGETS = {"who": 3_200, "what": 1_400, "when": 900, "where": 1_500, "how": 2_000}

#: Red flags by TYPOLOGIES.md indicator code, worded as the advisories name them.
RED_FLAGS: dict[str, str] = {
    "HT-REM-01": "many small transfers from apparently unrelated senders collected by one "
    "beneficiary (FIN-2014-A008; FINTRAC-2016-OA003)",
    "HT-REM-02": "frequent low-value transfers to a higher-risk jurisdiction with no apparent "
    "family or business purpose (FIN-2014-A008; AUSTRAC)",
    "HT-REM-03": "apparently unrelated customers sending small amounts to the same foreign "
    "beneficiary (FIN-2014-A008; AUSTRAC)",
    "HT-REM-04": "small transfers to a higher-risk jurisdiction described with innocuous cover "
    "reasons (AUSTRAC)",
    "HT-REM-05": "wages sent abroad as soon as received, with a third party present or one "
    "contact serving many senders (FIN-2014-A008)",
    "HT-REM-06": "a burst of payments from a young customer to a new overseas payee, consistent "
    "with financially motivated sextortion (FIN-2025-NTC2)",
    "HT-ADV-01": "frequent payments to online classified advertising sites associated with "
    "commercial sex (FIN-2020-A008; FINTRAC-2016-OA003)",
    "HT-ADV-02": "payments for escort advertising, website hosting or domains from a personal "
    "account with no business purpose (FIN-2014-A008)",
    "HT-ADV-03": "frequent transactions with online classified sites that are based in foreign "
    "jurisdictions (FIN-2020-A008)",
    "HT-ADV-04": "prepaid access or virtual currency bought shortly before payments to online "
    "advertising sites associated with commercial sex (FIN-2020-A008)",
    "HT-CRY-01": "frequent small purchases of virtual currency (FINTRAC-2016-OA003)",
    "HT-CRY-02": "virtual currency sent to or received from darknet markets or services "
    "associated with illicit activity (FIN-2020-A008; FIN-2019-A003)",
    "HT-CRY-03": "repeated small virtual-currency payments at night to one address cluster, a "
    "pattern associated with buying child sexual abuse material (FIN-2021-NTC3)",
    "HT-CRY-04": "funds from many unrelated parties pooled and sent to a virtual-currency "
    "exchange (FIN-2019-A003)",
    "HT-CRY-05": "repeated use of virtual-currency kiosks, or amounts just below the kiosk "
    "identification limit (FIN-2019-A003)",
    "HT-CRY-06": "large stablecoin transfers linked to online escort or guarantee-marketplace "
    "services (industry research)",
    "HT-LOD-01": "frequent short stays at hotels, motels or short-term rentals, inconsistent with "
    "expected activity (FIN-2020-A008; FINTRAC-2016-OA003)",
    "HT-LOD-02": "several lodging bookings on the same day or at a rate no traveller needs "
    "(FINTRAC-2016-OA003)",
    "HT-LOD-03": "transactions from different geographic locations in a short time, away from "
    "the customer's home (FIN-2020-A008)",
    "HT-LOD-04": "payment of travel or lodging for several other people (FINTRAC-2016-OA003)",
    "HT-LOD-05": "frequent taxi, ride-share or vehicle-rental payments at night "
    "(FIN-2020-A008; FINTRAC-2016-OA003)",
    "HT-LOD-06": "repeated travel to a jurisdiction at high risk for child sexual exploitation, "
    "with cash withdrawals there (FINTRAC-2020-OA001)",
    "HT-LIF-01": "purchases that appear to cover victims' living costs (fast food, convenience "
    "stores, pharmacies, clothing, beauty) alongside lodging or advertising (FIN-2020-A008)",
    "HT-LIF-02": "card transactions at massage, spa, beauty or club businesses outside normal "
    "business hours (FIN-2020-A008; FINTRAC-2016-OA003)",
    "HT-LIF-03": "a business paying for workers' housing and food with little or no payroll "
    "(FIN-2020-A008)",
    "HT-LIF-04": "third-party inflows and luxury spending inconsistent with the customer's "
    "declared income (FATF-APG 2018)",
    "HT-FUN-01": "a funnel account: cash deposited in cities or states where the customer does "
    "not live or work, then quickly withdrawn (FIN-2014-A005; FIN-2020-A008)",
    "HT-FUN-02": "many first-time person-to-person payments in round amounts, often at night or "
    "at weekends, with no payroll (FINTRAC-2016-OA003; FIN-2020-A008)",
    "HT-FUN-03": "income forwarded to one person within hours, cycle after cycle, as if a third "
    "party controls the account (FATF-APG 2018; FIN-2014-A008)",
    "HT-FUN-04": "several people's wages or deposits landing in one account (FATF-APG 2018)",
    "HT-FUN-05": "consistent cash deposits with no ACH payments (FIN-2020-A008)",
    "HT-CSH-01": "transactions that avoid identification or reporting requirements "
    "(FIN-2020-A008; FIN-2014-A008)",
    "HT-CSH-02": "frequent cash deposits at ATMs late at night (FINTRAC-2016-OA003)",
    "HT-CSH-03": "cash deposits by a business far above what its size and card sales explain, "
    "or outside its business hours (FIN-2020-A008)",
    "HT-CSH-04": "frequent purchase and use of prepaid access cards (FIN-2020-A008)",
    "HT-NET-01": "customers with no apparent family relationship sharing a telephone number, "
    "email, address or device (FIN-2014-A008)",
    "HT-NET-02": "one account receiving funds from several accounts that each show red flags of "
    "victimisation (FATF-APG 2018)",
    "HT-NET-03": "one device or contact detail used to operate several unrelated customers' "
    "accounts (FIN-2020-A008)",
    "HT-NET-04": "massage, spa or nail businesses linked by shared owners, signers, addresses or "
    "phones (FIN-2020-A008)",
    "HT-NET-05": "payments to employment or student recruitment agencies that are not licensed "
    "or registered (FIN-2020-A008; FIN-2014-A008)",
    "HT-KYC-01": "a third party speaking for the customer or holding the customer's "
    "identification or money, or signs of abuse observed by staff (FIN-2020-A008)",
    "HT-KYC-02": "account identifiers associated with escort websites and commercial sex "
    "advertisements (FIN-2020-A008)",
    "HT-KYC-03": "a very young customer's account receiving many third-party credits "
    "(FIN-2020-A008)",
    "HT-KYC-04": "use of third-party identification, or one identity document under several "
    "names (FIN-2020-A008)",
}

#: Fallback wording by indicator prefix and by typology family.
FAMILY_RED_FLAGS: dict[str, str] = {
    "HT-REM": "money transfers associated with human trafficking (FIN-2014-A008)",
    "HT-ADV": "payments to online classified advertising sites associated with commercial sex "
    "(FIN-2020-A008)",
    "HT-CRY": "virtual currency transactions with services associated with illicit activity "
    "(FIN-2020-A008)",
    "HT-LOD": "lodging and travel payments inconsistent with expected activity (FIN-2020-A008)",
    "HT-LIF": "spending inconsistent with the customer's expected activity (FIN-2020-A008)",
    "HT-FUN": "funnel or collection account activity (FIN-2020-A008)",
    "HT-CSH": "cash activity that avoids reporting or identification requirements "
    "(FIN-2020-A008)",
    "HT-NET": "links between accounts suggesting control by a third party (FIN-2020-A008)",
    "HT-KYC": "identity and customer-behaviour red flags (FIN-2020-A008)",
}
FAMILY_PREFIX: dict[str, str] = {
    "remittance": "HT-REM", "ad_platform": "HT-ADV", "crypto": "HT-CRY", "lodging": "HT-LOD",
    "lifestyle": "HT-LIF", "funnel": "HT-FUN", "cash": "HT-CSH", "network": "HT-NET",
    "kyc": "HT-KYC",
}

#: How a channel code reads in a sentence.
CHANNEL_WORDS: dict[str, str] = {
    "card": "card", "cash": "cash", "wire": "wire", "ach": "ACH",
    "money_transfer": "money transfer", "p2p": "P2P", "crypto": "virtual currency",
    "prepaid": "prepaid card", "atm": "ATM", "check": "check", "internal": "internal transfer",
    "other": "other means",
}

_AMOUNT = re.compile(r"[+-]?\d{1,18}(\.\d{1,10})?")
_NAME_MAX = 120
_TEXT_MAX = 300
_LIST_MAX = 5


# --- small text helpers ------------------------------------------------------------------


def clean(value: Any, limit: int = _TEXT_MAX) -> str:
    """One line of packet text: whitespace collapsed, clipped to ``limit`` characters."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sentence(text: str) -> str:
    """Text ending in exactly one full stop (or its own ? / !)."""
    text = text.strip()
    if not text:
        return ""
    return text if text[-1] in ".?!" else text.rstrip(";:,") + "."


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 alert', '3 alerts'."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def short_list(items: Sequence[str], limit: int = _LIST_MAX) -> str:
    """At most ``limit`` items, then 'and N more'."""
    if len(items) <= limit:
        return join_words(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit:,} more"


def fit(
    head: str, items: Sequence[str], budget: int, tail: Callable[[int], str]
) -> str:
    """``head`` plus as many whole sentences as fit in ``budget``, then ``tail(n_left)``."""
    out = head
    n = len(items)
    for i, item in enumerate(items):
        reserve = len(tail(n - i - 1)) + 1 if i < n - 1 else 0
        candidate = f"{out} {item}" if out else item
        if len(candidate) + reserve > budget:
            rest = tail(n - i)
            return f"{out} {rest}" if out else rest
        out = candidate
    return out


# --- money -------------------------------------------------------------------------------


def parse_amount(value: Any) -> Decimal | None:
    """The booked amount as an exact Decimal, or None when it is not a plain decimal string."""
    text = str(value).strip() if value is not None else ""
    if not _AMOUNT.fullmatch(text):
        return None
    return Decimal(text)


def money(amount: Decimal, currency: str) -> str:
    """'USD 2,975.49' — exact, thousands grouped, never through float."""
    return f"{clean(currency, 12) or 'XXX'} {amount:,f}"


def usd(value: float) -> str:
    """'USD 1,200.00' for a float USD equivalent."""
    return f"USD {value:,.2f}"



usd_value = finite  # a finite float, 0.0 for anything else


def currency_totals(transactions: Iterable[Mapping]) -> tuple[dict[str, Decimal], int]:
    """Exact totals per currency (sorted by code) and the number of unreadable amounts."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    bad = 0
    for txn in transactions:
        amount = parse_amount(txn.get("amount"))
        if amount is None:
            bad += 1
            continue
        totals[clean(txn.get("currency"), 12) or "XXX"] += abs(amount)
    return dict(sorted(totals.items())), bad


def totals_text(transactions: Sequence[Mapping]) -> str:
    """'USD 830.50', or 'MXN 1,000.00 and USD 20.00 (USD 75.00 equivalent)'."""
    totals, _ = currency_totals(transactions)
    listed = short_list([money(v, k) for k, v in totals.items()], 6) or "no readable amount"
    if set(totals) <= {"USD"}:
        return listed
    equivalent = sum(usd_value(t.get("amount_usd")) for t in transactions)
    return f"{listed} ({usd(equivalent)} equivalent)"


# --- packet accessors --------------------------------------------------------------------


def _list(packet: Mapping, key: str) -> list[Mapping]:
    value = packet.get(key) or []
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _map(packet: Mapping, key: str) -> Mapping:
    value = packet.get(key)
    return value if isinstance(value, Mapping) else {}


def is_victim(party: Mapping) -> bool:
    """A likely victim: by role, or because a victim note is set (safety first)."""
    return party.get("role") == "likely_victim" or bool(party.get("victim_note"))


@dataclass(frozen=True)
class VictimNotice:
    """What every packet format says about the case's possible victims (each escapes it)."""

    headline: str  # "N account holder(s) in this case may be victims of human trafficking."
    notes: list[str]  # the distinct victim notes, sorted
    names: list[str]  # "name (account id)" per possible victim

    #: said right after the headline: possible victims are never subjects
    NOT_SUBJECTS = "They are not subjects of this report."


def victim_notice(packet: Mapping) -> VictimNotice | None:
    """The notice naming the packet's possible victims, or None when it has none."""
    victims = [p for p in as_list(packet.get("parties")) if is_victim(p)]
    if not victims:
        return None
    return VictimNotice(
        f"{len(victims)} account holder(s) in this case may be victims of human trafficking.",
        sorted({str(p.get("victim_note")) for p in victims if p.get("victim_note")}),
        [f"{clean(as_map(p.get('kyc')).get('name'), 120) or 'name not on file'} "
         f"(account {clean(p.get('account_id'), 80)})" for p in victims],
    )


def is_subject(party: Mapping) -> bool:
    """A SAR subject: flagged as such and never a likely victim."""
    return bool(party.get("is_subject")) and not is_victim(party)


def party_name(party: Mapping) -> str:
    """The KYC name, or a neutral phrase when none is on file."""
    kyc = party.get("kyc") if isinstance(party.get("kyc"), Mapping) else {}
    return clean(kyc.get("name"), _NAME_MAX) or "name not on file"


def role_words(role: Any) -> str:
    """'likely_controller' -> 'likely controller'."""
    return clean(role, 40).replace("_", " ") or "unknown role"


def place(city: Any, region: Any, country: Any) -> str:
    """'Houston, TX, US'."""
    return ", ".join(p for p in (clean(city, 60), clean(region, 40), clean(country, 20)) if p)


def red_flag(indicator: Any, family: Any = None) -> str:
    """Advisory wording of an indicator code, falling back to its family."""
    code = clean(indicator, 20).upper()
    if code in RED_FLAGS:
        return RED_FLAGS[code]
    prefix = code[:6] if code.startswith("HT-") else FAMILY_PREFIX.get(clean(family, 40), "")
    return FAMILY_RED_FLAGS.get(prefix, "a human-trafficking red flag from the txflags catalogue")


# --- who ---------------------------------------------------------------------------------


def _reasons(party: Mapping) -> str:
    reasons = party.get("role_reasons") or []
    items = [clean(r, 160) for r in reasons if clean(r)] if isinstance(reasons, list) else []
    return "; ".join(items[:4])


def _subject_sentence(party: Mapping) -> str:
    ids = f"account {clean(party.get('account_id'), 60)}"
    if party.get("customer_id"):
        ids += f", customer {clean(party.get('customer_id'), 60)}"
    text = f"Subject {party_name(party)} ({ids}), {role_words(party.get('role'))}"
    reasons = _reasons(party)
    return sentence(f"{text}: {reasons}" if reasons else text)


def _victim_sentence(party: Mapping) -> str:
    text = (f"{party_name(party)} (account {clean(party.get('account_id'), 60)}) may be a "
            f"victim of human trafficking")
    reasons = _reasons(party)
    return sentence(f"{text}; observed: {reasons}" if reasons else text)


def _other_sentence(party: Mapping) -> str:
    text = (f"{party_name(party)} (account {clean(party.get('account_id'), 60)}) appears as "
            f"{role_words(party.get('role'))}, not reported as a subject")
    reasons = _reasons(party)
    return sentence(f"{text}: {reasons}" if reasons else text)


def _who_tail(counts: Callable[[int], tuple[int, int]]) -> Callable[[int], str]:
    def tail(n: int) -> str:
        parties, victims = counts(n)
        extra = f", including {plural(victims, 'possible victim')}," if victims else ""
        return (f"{plural(parties, 'further party', 'further parties')}{extra} are listed in "
                "the attachment.")
    return tail


def draft_who(packet: Mapping, budget: int = BUDGETS["who"]) -> str:
    """Subjects with roles and reasons; possible victims named only as possible victims."""
    parties = _list(packet, "parties")
    subjects = [p for p in parties if is_subject(p)]
    victims = [p for p in parties if is_victim(p)]
    others = [p for p in parties if not is_subject(p) and not is_victim(p)]
    items = [_subject_sentence(p) for p in subjects]
    victim_items: list[str] = []
    if victims:
        victim_items = [
            f"{plural(len(victims), 'account holder')} may be victims of human trafficking and "
            "are named here only as possible victims; handle their accounts with their safety "
            "in mind and consider referral to victim services."
        ] + [_victim_sentence(p) for p in victims]
    start_victims = len(items)
    items += victim_items + [_other_sentence(p) for p in others]

    def left(n: int) -> tuple[int, int]:
        """(parties, possible victims) among the last ``n`` items."""
        rest = range(len(items) - n, len(items))
        intro = 1 if victims and start_victims in rest else 0
        n_victims = sum(1 for i in rest if start_victims < i <= start_victims + len(victims))
        return n - intro, n_victims

    head = "" if subjects else "No subject has been identified yet."
    if not parties:
        return "No party is recorded in the case."
    return fit(head, items, budget, _who_tail(left))


# --- what --------------------------------------------------------------------------------


def _direction_text(transactions: Sequence[Mapping], direction: str, word: str) -> str:
    chosen = [t for t in transactions if t.get("direction") == direction]
    if not chosen:
        return ""
    return f"{plural(len(chosen), word)} of {totals_text(chosen)}"


def draft_what(packet: Mapping, budget: int = BUDGETS["what"]) -> str:
    """Counts and exact per-currency totals of the evidence, alerts and families."""
    case, txns = _map(packet, "case"), _list(packet, "transactions")
    alerts = _list(packet, "alerts")
    case_id = clean(case.get("case_id"), 60) or "without an id"
    items: list[str] = []
    if txns:
        items.append(f"Case {case_id} rests on {plural(len(txns), 'transaction')} totalling "
                     f"{totals_text(txns)}.")
        split = join_words([_direction_text(txns, "in", "credit"),
                            _direction_text(txns, "out", "debit")])
        if split:
            items.append(sentence(f"They comprise {split}"))
        _, bad = currency_totals(txns)
        if bad:
            items.append(f"{plural(bad, 'transaction')} with an unreadable amount "
                         f"{'is' if bad == 1 else 'are'} left out of the totals.")
    else:
        items.append(f"Case {case_id} lists no transactions as evidence.")
    n_alerts = len(alerts) or int(usd_value(case.get("n_alerts")))
    typologies = {clean(a.get("typology_id"), 80) for a in alerts} - {""}
    families = [clean(f, 40) for f in case.get("families") or [] if clean(f)]
    text = f"{plural(n_alerts, 'alert')} fired"
    if typologies:
        text += f" from {plural(len(typologies), 'typology', 'typologies')}"
    if families:
        noun = "family" if len(families) == 1 else "families"
        text += f" in the {short_list(families, 9)} {noun}"
    items.append(sentence(text))
    filing = _map(packet, "filing")
    if filing.get("total_suspicious_usd") is not None:
        amount = int(usd_value(filing.get("total_suspicious_usd")))
        items.append(f"The suspicious amount reported is USD {amount:,}.")
    return fit("", items, budget, lambda n: "Further figures are in the attachment.")


# --- when --------------------------------------------------------------------------------


def _dates(transactions: Sequence[Mapping]) -> list[str]:
    return sorted(clean(t.get("ts"), 40) for t in transactions if clean(t.get("ts")))


def draft_when(packet: Mapping, budget: int = BUDGETS["when"]) -> str:
    """First/last activity, exact first/last transaction times, the case's deadlines."""
    case = _map(packet, "case")
    stamps = _dates(_list(packet, "transactions"))
    first = clean(case.get("first_activity"), 20) or (stamps[0][:10] if stamps else "")
    last = clean(case.get("last_activity"), 20) or (stamps[-1][:10] if stamps else "")
    items: list[str] = []
    if first and last:
        span = f"on {first}" if first == last else f"between {first} and {last}"
        items.append(f"The activity took place {span}.")
    if stamps:
        items.append(f"The first transaction in the evidence is dated {stamps[0]} and the last "
                     f"{stamps[-1]}.")
    deadlines = [
        (case.get("opened_on"), "the case was opened on {}"),
        (case.get("sar_due"), "the SAR is due by {}"),
        (case.get("review_due"), "the 90-day continuing-activity review falls on {}"),
        (case.get("continuing_sar_due"), "a continuing SAR would be due by {}"),
    ]
    parts = [fmt.format(clean(v, 20)) for v, fmt in deadlines if clean(v)]
    if parts:
        text = sentence(join_words(parts))
        items.append(text[0].upper() + text[1:])
    if case.get("continuing_activity"):
        items.append("Activity continued after the case was first detected.")
    runs = case.get("runs") or []
    if isinstance(runs, list) and runs:
        items.append(f"The activity was found in {plural(len(runs), 'detection run')}.")
    if not items:
        return "No dates are recorded in the case."
    return fit("", items, budget, lambda n: "Further dates are in the attachment.")


# --- where -------------------------------------------------------------------------------


def _location_items(packet: Mapping) -> list[str]:
    locations = sorted(
        _list(packet, "locations"),
        key=lambda loc: (-int(usd_value(loc.get("n"))),
                         place(loc.get("city"), loc.get("region"), loc.get("country"))),
    )
    out = []
    for loc in locations:
        name = place(loc.get("city"), loc.get("region"), loc.get("country"))
        if name:
            out.append(f"{name} ({plural(int(usd_value(loc.get('n'))), 'transaction')})")
    return out


def _counterparty_countries(transactions: Sequence[Mapping]) -> list[str]:
    counts = Counter(clean(t.get("counterparty_country"), 20) for t in transactions)
    counts.pop("", None)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [f"{country} ({plural(n, 'transaction')})" for country, n in ordered]


def _home_places(packet: Mapping) -> list[str]:
    homes = set()
    for party in _list(packet, "parties"):
        kyc = party.get("kyc") if isinstance(party.get("kyc"), Mapping) else {}
        if is_subject(party):
            home = place(kyc.get("home_city"), kyc.get("home_region"), kyc.get("home_country"))
            if home:
                homes.add(home)
    return sorted(homes)


def draft_where(packet: Mapping, budget: int = BUDGETS["where"]) -> str:
    """Cities and countries of the activity, counterparties' countries, subjects' homes."""
    items: list[str] = []
    locations = _location_items(packet)
    if locations:
        items.append(sentence(f"The transactions took place in {short_list(locations, 8)}"))
    countries = _counterparty_countries(_list(packet, "transactions"))
    if countries:
        items.append(sentence(f"Counterparties are located in {short_list(countries, 8)}"))
    homes = _home_places(packet)
    if homes:
        items.append(sentence(f"The subjects' home addresses on file are in {short_list(homes)}"))
    if not items:
        return "No location is recorded in the case."
    return fit("", items, budget, lambda n: "Further places are in the attachment.")


# --- why ---------------------------------------------------------------------------------


def _alert_groups(alerts: Sequence[Mapping]) -> list[tuple[str, list[Mapping]]]:
    """Alerts grouped by indicator code, heaviest group first, then by code."""
    groups: dict[str, list[Mapping]] = defaultdict(list)
    for alert in alerts:
        groups[clean(alert.get("indicator"), 20).upper() or "UNCODED"].append(alert)
    for members in groups.values():
        members.sort(key=lambda a: (clean(a.get("account_id")), clean(a.get("window_start")),
                                    clean(a.get("alert_id"))))
    return sorted(groups.items(),
                  key=lambda kv: (-max(int(usd_value(a.get("weight"))) for a in kv[1]), kv[0]))


def _round_robin(groups: Sequence[tuple[str, list[Mapping]]]) -> list[tuple[str, Mapping]]:
    """First alert of every group, then the second of every group, and so on."""
    out: list[tuple[str, Mapping]] = []
    depth = max((len(members) for _, members in groups), default=0)
    for i in range(depth):
        out += [(code, members[i]) for code, members in groups if i < len(members)]
    return out


def _flag_item(code: str, members: Sequence[Mapping]) -> str:
    wording = red_flag(code, members[0].get("family"))
    return f"{wording} [{code}, {plural(len(members), 'alert')}];"


def _alert_item(code: str, alert: Mapping) -> str:
    window = [clean(alert.get("window_start"), 20), clean(alert.get("window_end"), 20)]
    when = window[0] if window[0] == window[1] else " to ".join(w for w in window if w)
    where = ", ".join(p for p in (clean(alert.get("account_id"), 60), when) if p)
    observed = clean(alert.get("sentence"), 400).rstrip(".") or "no sentence recorded"
    label = ", ".join(p for p in (clean(alert.get("typology_id"), 80),
                                  clean(alert.get("band"), 20)) if p)
    evidence = alert.get("evidence_txn_ids") or []
    n_evidence = len(evidence) if isinstance(evidence, list) else 0
    tail = f"; {plural(n_evidence, 'evidence transaction')}" if n_evidence else ""
    return sentence(f"{code} ({where}): {observed} ({label}{tail})")


def draft_why(packet: Mapping, budget: int) -> str:
    """Red flags named as in the advisories, with codes, then the observed facts per alert."""
    groups = _alert_groups(_list(packet, "alerts"))
    if not groups:
        return "No alert is recorded in the case."
    head = (f"The activity matches {plural(len(groups), 'red flag')} named in FinCEN and FIU "
            "guidance on human trafficking:")
    flags = [_flag_item(code, members) for code, members in groups]
    flags[-1] = flags[-1].rstrip(";") + "."
    flag_text = fit(head, flags, budget * 3 // 5,
                    lambda n: f"and {plural(n, 'further red flag')} listed in the attachment.")
    pairs = _round_robin(groups)
    facts = [_alert_item(code, alert) for code, alert in pairs]
    return fit(flag_text + " Observed facts:", facts, budget,
               lambda n: f"And {plural(n, 'further alert')}; see the attachment.")


# --- how ---------------------------------------------------------------------------------


def _channel_words(channel: Any) -> str:
    code = clean(channel, 40)
    return CHANNEL_WORDS.get(code, code.replace("_", " ") or "unknown channel")


def _channel_item(transactions: Sequence[Mapping], direction: str, verb: str) -> str:
    chosen = [t for t in transactions if t.get("direction") == direction]
    by_channel: dict[str, list[Mapping]] = defaultdict(list)
    for txn in chosen:
        by_channel[_channel_words(txn.get("channel"))].append(txn)
    ordered = sorted(by_channel.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    parts = [f"{name} ({plural(len(ts), 'payment')}, {totals_text(ts)})" for name, ts in ordered]
    return sentence(f"{verb} {short_list(parts, 6)}") if parts else ""


@dataclass
class _Flows:
    """Edges and evidence indexed once: channels and counterparty countries per payer/payee."""

    nodes: dict[str, Mapping] = field(default_factory=dict)
    ins: dict[str, list[Mapping]] = field(default_factory=lambda: defaultdict(list))
    outs: dict[str, list[Mapping]] = field(default_factory=lambda: defaultdict(list))
    channels: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    countries: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))

    def is_party(self, node_id: str) -> bool:
        return bool(self.nodes.get(node_id, {}).get("is_party"))


def _index_flows(packet: Mapping) -> _Flows:
    network = _map(packet, "network")
    flows = _Flows()
    for n in network.get("nodes") or []:
        if isinstance(n, Mapping):
            flows.nodes.setdefault(clean(n.get("id"), 200), n)
    for e in network.get("edges") or []:
        if isinstance(e, Mapping):
            flows.outs[clean(e.get("source"), 200)].append(e)
            flows.ins[clean(e.get("target"), 200)].append(e)
    for t in _list(packet, "transactions"):
        account, cp = clean(t.get("account_id"), 200), clean(t.get("counterparty_id"), 200)
        payer, payee = (cp, account) if t.get("direction") == "in" else (account, cp)
        flows.channels[(payer, payee)][_channel_words(t.get("channel"))] += 1
        country = clean(t.get("counterparty_country"), 20)
        if country:
            flows.countries[(account, cp)].add(country)
    return flows


def _by_channels(counts: Counter, word: str) -> str:
    names = [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return f" {word} {join_words(names[:3])}" if names else ""


def _recipients(targets: Sequence[str], flows: _Flows, source: str) -> str:
    """'account ACC-C1 and 2 counterparties in MX (A and B)'."""
    accounts = [t for t in targets if flows.is_party(t)]
    others = [t for t in targets if not flows.is_party(t)]
    parts = []
    if accounts:
        noun = "account" if len(accounts) == 1 else "accounts"
        parts.append(f"{noun} {short_list([clean(a, 60) for a in accounts], 4)}")
    if others:
        countries = sorted(set().union(*(flows.countries.get((source, t), set())
                                         for t in others)))
        where = f" in {short_list(countries, 4)}" if countries else ""
        names = [clean(flows.nodes.get(t, {}).get("label") or t, 60) for t in others]
        parts.append(f"{plural(len(others), 'counterparty', 'counterparties')}{where} "
                     f"({short_list(names, 4)})")
    return join_words(parts)


def _flow_item(node_id: str, flows: _Flows) -> str:
    ins, outs = flows.ins.get(node_id, []), flows.outs.get(node_id, [])
    parts = []
    if ins:
        sources = sorted({clean(e.get("source"), 200) for e in ins})
        channels = sum((flows.channels.get((s, node_id), Counter()) for s in sources), Counter())
        kind = "accounts" if all(flows.is_party(s) for s in sources) else "payers"
        amount = usd(sum(usd_value(e.get("total_usd")) for e in ins))
        names = short_list([clean(s, 60) for s in sources], 4)
        parts.append(f"collected {amount}{_by_channels(channels, 'through')} from "
                     f"{len(sources):,} {kind} ({names})")
    if outs:
        targets = sorted({clean(e.get("target"), 200) for e in outs})
        channels = sum((flows.channels.get((node_id, t), Counter()) for t in targets), Counter())
        amount = usd(sum(usd_value(e.get("total_usd")) for e in outs))
        parts.append(f"sent {amount}{_by_channels(channels, 'by')} to "
                     f"{_recipients(targets, flows, node_id)}")
    return sentence(f"{clean(node_id, 60)} {join_words(parts)}") if parts else ""


def _flow_items(packet: Mapping) -> list[str]:
    """One sentence per party with money flows, the busiest first."""
    flows = _index_flows(packet)

    def volume(node_id: str) -> float:
        edges = flows.ins.get(node_id, []) + flows.outs.get(node_id, [])
        return sum(usd_value(e.get("total_usd")) for e in edges)

    parties = sorted((i for i, n in flows.nodes.items() if n.get("is_party")),
                     key=lambda i: (-volume(i), i))
    items = [_flow_item(i, flows) for i in parties]
    return [i for i in items if i]


def draft_how(packet: Mapping, budget: int = BUDGETS["how"]) -> str:
    """Channels in and out, and the money flows through each party."""
    txns = _list(packet, "transactions")
    items = [_channel_item(txns, "in", "Money came in by"),
             _channel_item(txns, "out", "Money went out by")]
    items = [i for i in items if i] + _flow_items(packet)
    if not items:
        return "No channel or money flow is recorded in the case."
    return fit("", items, budget, lambda n: f"{plural(n, 'further flow')} are in the attachment.")


# --- the whole draft ---------------------------------------------------------------------


def draft_narrative(packet: Mapping) -> Narrative:
    """The draft narrative of a packet (its own ``narrative`` field is ignored)."""
    label = {"who": "Who: ", "what": "What: ", "when": "When: ", "where": "Where: ",
             "why": "Why: ", "how": "How: "}
    parts = {
        "who": draft_who(packet, BUDGETS["who"] - len(label["who"])),
        "what": draft_what(packet, BUDGETS["what"] - len(label["what"])),
        "when": draft_when(packet, BUDGETS["when"] - len(label["when"])),
        "where": draft_where(packet, BUDGETS["where"] - len(label["where"])),
        "how": draft_how(packet, BUDGETS["how"] - len(label["how"])),
    }
    order = ("who", "what", "when", "where", "why", "how")
    used = len(KEY_TERM) + 1 + 2 * len(order) + sum(len(label[k]) for k in order)
    used += sum(len(v) for v in parts.values())
    parts["why"] = draft_why(packet, NARRATIVE_LIMIT - used)
    paragraphs = [KEY_TERM + "."] + [label[k] + parts[k] for k in order]
    return {"text": "\n\n".join(paragraphs), "who": parts["who"], "what": parts["what"],
            "when": parts["when"], "where": parts["where"], "why": parts["why"],
            "how": parts["how"]}


def summary_sentence(packet: Mapping) -> str:
    """One or two sentences for the packet's ``summary`` field."""
    case, txns = _map(packet, "case"), _list(packet, "transactions")
    parties = _list(packet, "parties")
    subjects = [p for p in parties if is_subject(p)]
    victims = [p for p in parties if is_victim(p)]
    n_alerts = len(_list(packet, "alerts")) or int(usd_value(case.get("n_alerts")))
    case_id = clean(case.get("case_id"), 60) or "Case"
    if subjects:
        lead = subjects[0]
        who = (f"{party_name(lead)} ({clean(lead.get('account_id'), 60)}, "
               f"{role_words(lead.get('role'))})")
        if len(subjects) > 1:
            who += f" and {plural(len(subjects) - 1, 'other subject')}"
    else:
        who = "no identified subject"
    first = clean(case.get("first_activity"), 20)
    last = clean(case.get("last_activity"), 20)
    span = f", {first} to {last}" if first and last else ""
    money_part = f", {totals_text(txns)} in {plural(len(txns), 'transaction')}" if txns else ""
    text = f"{case_id}: {plural(n_alerts, 'alert')} on {who}{span}{money_part}."
    if victims:
        text += (f" {plural(len(victims), 'account holder')} may be "
                 f"{'a victim' if len(victims) == 1 else 'victims'} of human trafficking.")
    return text
