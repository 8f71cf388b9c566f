"""The case packet: one JSON-able document that every export format renders (DESIGN §7).

A packet is plain data (``dict``/``list``/``str``/``int``/``float``/``bool``/``None``) so that the
JSON export is ``json.dumps(packet)`` and every renderer (HTML, Markdown, FinCEN SAR XML, goAML
XML) reads the same fields. ``build_packet`` (txflags.packets.build) assembles it from the store;
``example_packet`` below is a small, realistic packet for tests and for renderer development.

Money: ``amount`` is the booked amount as a decimal *string* (never rounded through float);
``amount_usd`` is a float for thresholds and charts. Dates are ISO strings (``YYYY-MM-DD``),
timestamps ISO 8601 in UTC (``YYYY-MM-DDTHH:MM:SS+00:00``).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

PACKET_VERSION = 1

Role = Literal["likely_controller", "likely_victim", "buyer", "facilitator", "unknown"]
ROLES: tuple[str, ...] = ("likely_controller", "likely_victim", "buyer", "facilitator", "unknown")


class CaseInfo(TypedDict):
    case_id: str  # stable, derived from content, e.g. "HT-3F9A0C12D4"
    status: str  # open | reviewing | filed | closed-false-positive | closed-no-filing
    priority: int  # 1 = most urgent, rank among open cases at build time
    risk_score: float
    priority_reasons: list[str]
    opened_on: str  # date the case was first detected (as-of day of that run)
    first_activity: str  # earliest evidence date
    last_activity: str  # latest evidence date
    sar_due: str  # opened_on + 30 days (initial SAR deadline)
    review_due: str  # 90-day continuing-activity review date
    continuing_sar_due: str  # 120-day continuing-SAR date
    families: list[str]
    typology_ids: list[str]
    n_alerts: int
    runs: list[str]  # run ids that contributed activity, oldest first
    continuing_activity: bool  # True when activity was appended after the first run


class Kyc(TypedDict, total=False):
    name: str | None
    birth_date: str | None
    occupation: str | None
    business_type: str | None
    customer_type: str | None  # individual | business
    opened_at: str | None
    home_city: str | None
    home_region: str | None
    home_country: str | None
    phone: str | None
    email: str | None
    address: str | None
    id_number: str | None


class Party(TypedDict):
    account_id: str
    customer_id: str | None
    role: str  # one of ROLES
    role_reasons: list[str]
    is_subject: bool  # False for a likely victim: never listed as a SAR subject
    victim_note: str | None  # set for likely victims: how to treat them
    risk_score: float
    families: list[str]
    kyc: Kyc


class Alert(TypedDict):
    alert_id: str
    typology_id: str
    typology_version: int
    title: str
    family: str
    indicator: str  # TYPOLOGIES.md code, e.g. HT-REM-01
    account_id: str
    window_start: str | None
    window_end: str | None
    band: str
    weight: int
    sentence: str
    observed: dict[str, Any]
    params: dict[str, Any]
    evidence_txn_ids: list[str]
    fincen_subtypes: list[int]
    goaml_indicators: list[str]


class Transaction(TypedDict):
    txn_id: str
    ts: str
    account_id: str
    direction: str  # in | out
    amount: str  # exact decimal string, as booked
    currency: str
    amount_usd: float
    channel: str
    mcc: int | None
    merchant: str | None
    counterparty_id: str | None
    counterparty_name: str | None
    counterparty_country: str | None
    country: str | None
    city: str | None
    region: str | None


class TimelineEvent(TypedDict):
    date: str
    account_id: str
    kind: str  # "transaction" | "alert"
    label: str
    amount_usd: float | None


class Edge(TypedDict):
    source: str  # payer (account id or counterparty id)
    target: str  # payee
    n: int
    total_usd: float


class Node(TypedDict):
    id: str
    label: str
    role: str  # a ROLE for parties, "counterparty" for others
    is_party: bool


class Location(TypedDict):
    city: str | None
    region: str | None
    country: str | None
    lat: float | None  # None when the place is not in the bundled gazetteer
    lon: float | None
    n: int
    total_usd: float


class Narrative(TypedDict):
    text: str  # the whole draft, plain text, paragraphs separated by blank lines
    who: str
    what: str
    when: str
    where: str
    why: str
    how: str


class Filing(TypedDict):
    key_term: str  # "HUMAN TRAFFICKING FIN-2020-A008"
    fincen_subtypes: list[int]  # always includes 927; 9xx/8xx/1xx codes from the typologies
    goaml_indicators: list[str]
    total_suspicious_usd: int  # whole dollars
    from_date: str
    to_date: str
    continuing: bool  # a continuing-activity report on a case already filed
    prior_document_number: str | None  # BSA id of the previous filing, when known


class Stamp(TypedDict):
    txflags_version: str
    catalogue_hash: str
    parameters: dict[str, Any]  # overrides and risk config the runs used
    inputs: list[dict[str, str]]  # [{"path": ..., "sha256": ...}]
    runs: list[str]
    built_at: str


class Packet(TypedDict):
    packet_version: int
    case: CaseInfo
    summary: str
    parties: list[Party]
    alerts: list[Alert]
    transactions: list[Transaction]
    timeline: list[TimelineEvent]
    network: dict[str, list[Any]]  # {"nodes": [Node], "edges": [Edge]}
    locations: list[Location]
    narrative: Narrative
    filing: Filing
    stamp: Stamp
    redaction: dict[str, Any]  # {"profile": internal|fiu|external, "pseudonymised": [...]}


KEY_TERM = "HUMAN TRAFFICKING FIN-2020-A008"

VICTIM_NOTE = (
    "The account holder may be a victim of human trafficking. Do not list them as a subject, "
    "do not close or restrict the account in a way that harms them without considering their "
    "safety, and consider referral to victim services (National Human Trafficking Hotline "
    "1-888-373-7888) alongside law enforcement."
)


def example_packet() -> Packet:
    """A small, realistic packet: a controller fed by two likely victims, with evidence."""
    txns: list[Transaction] = []
    for i, (acct, cp, direction, amt, ch, city) in enumerate([
        ("ACC-V1", "ACC-C1", "out", "450.00", "p2p", "Houston"),
        ("ACC-V2", "ACC-C1", "out", "380.50", "p2p", "Dallas"),
        ("ACC-C1", "ACC-V1", "in", "450.00", "p2p", "Houston"),
        ("ACC-C1", "ACC-V2", "in", "380.50", "p2p", "Houston"),
        ("ACC-C1", "MER-MOTEL6", "out", "89.99", "card", "Houston"),
        ("ACC-C1", "MER-ADSITE", "out", "25.00", "card", "Houston"),
        ("ACC-C1", "CP-MX-0042", "out", "1200.00", "money_transfer", "Houston"),
    ]):
        txns.append({
            "txn_id": f"T{i + 1:04d}", "ts": f"2026-03-{10 + i:02d}T02:15:00+00:00",
            "account_id": acct, "direction": direction, "amount": amt, "currency": "USD",
            "amount_usd": float(amt), "channel": ch, "mcc": 7011 if "MOTEL" in cp else None,
            "merchant": cp if cp.startswith("MER") else None, "counterparty_id": cp,
            "counterparty_name": {"ACC-C1": "Marco R.", "CP-MX-0042": "Josefa Núñez & Hijos"}
            .get(cp), "counterparty_country": "MX" if cp.startswith("CP-MX") else "US",
            "country": "US", "city": city, "region": "TX",
        })
    kyc_c: Kyc = {"name": "Marco Rossi", "birth_date": "1988-04-02", "occupation": "unemployed",
                  "customer_type": "individual", "home_city": "Houston", "home_region": "TX",
                  "home_country": "US", "phone": "+1 713 555 0101", "email": "mr@example.com",
                  "address": "12 Elm St, Houston TX 77002", "id_number": "D1234567",
                  "opened_at": "2025-11-01"}
    kyc_v: Kyc = {"name": "Ana <López> \"Ana\"", "birth_date": "2005-09-30",
                  "occupation": "student", "customer_type": "individual", "home_city": "Houston",
                  "home_region": "TX", "home_country": "US", "phone": "+1 713 555 0101",
                  "email": None, "address": "12 Elm St, Houston TX 77002", "id_number": None,
                  "opened_at": "2026-01-15"}
    parties: list[Party] = [
        {"account_id": "ACC-C1", "customer_id": "CUS-C1", "role": "likely_controller",
         "role_reasons": ["receives money from 2 likely victims", "pays for motel rooms and ads"],
         "is_subject": True, "victim_note": None, "risk_score": 21.5,
         "families": ["remittance", "lodging", "ad_platform"], "kyc": kyc_c},
        {"account_id": "ACC-V1", "customer_id": "CUS-V1", "role": "likely_victim",
         "role_reasons": ["victim-side indicator fired", "sends most inbound money on to ACC-C1"],
         "is_subject": False, "victim_note": VICTIM_NOTE, "risk_score": 9.0,
         "families": ["funnel"], "kyc": kyc_v},
        {"account_id": "ACC-V2", "customer_id": "CUS-V2", "role": "likely_victim",
         "role_reasons": ["victim-side indicator fired"], "is_subject": False,
         "victim_note": VICTIM_NOTE, "risk_score": 6.0, "families": ["funnel"],
         "kyc": {"name": "李 小红", "home_city": "Dallas", "home_country": "US"}},
    ]
    alerts: list[Alert] = [
        {"alert_id": "A-1", "typology_id": "lodging.motel_stacking", "typology_version": 1,
         "title": "Several motel rooms paid the same night", "family": "lodging",
         "indicator": "HT-LOD-01", "account_id": "ACC-C1", "window_start": "2026-03-10",
         "window_end": "2026-03-16", "band": "high", "weight": 2,
         "sentence": "3 motel payments on one night & 2 nights in a row, $269.97 in all",
         "observed": {"n_txn": 3, "total_usd": 269.97}, "params": {"n_min": 2},
         "evidence_txn_ids": ["T0005"], "fincen_subtypes": [927], "goaml_indicators": ["-"]},
        {"alert_id": "A-2", "typology_id": "funnel.pays_flagged_collection",
         "typology_version": 1, "title": "Pays most inbound money on to a flagged collector",
         "family": "funnel", "indicator": "HT-FUN-03", "account_id": "ACC-V1",
         "window_start": "2026-03-10", "window_end": "2026-03-10", "band": "high", "weight": 3,
         "sentence": "Sent $450.00 of $470.00 received to ACC-C1 within a day",
         "observed": {"share": 0.96}, "params": {"share_min": 0.8},
         "evidence_txn_ids": ["T0001"], "fincen_subtypes": [824], "goaml_indicators": ["-"]},
    ]
    return {
        "packet_version": PACKET_VERSION,
        "case": {
            "case_id": "HT-3F9A0C12D4", "status": "open", "priority": 1, "risk_score": 36.5,
            "priority_reasons": ["3 families on the subject", "high-weight indicator"],
            "opened_on": "2026-03-17", "first_activity": "2026-03-10",
            "last_activity": "2026-03-16", "sar_due": "2026-04-16",
            "review_due": "2026-06-15", "continuing_sar_due": "2026-07-15",
            "families": ["ad_platform", "funnel", "lodging", "remittance"],
            "typology_ids": ["funnel.pays_flagged_collection", "lodging.motel_stacking"],
            "n_alerts": 2, "runs": ["20260317T010000-abcd1234"], "continuing_activity": False,
        },
        "summary": "ACC-C1 (likely controller) received $830.50 from 2 likely victims.",
        "parties": parties,
        "alerts": alerts,
        "transactions": txns,
        "timeline": [
            {"date": t["ts"][:10], "account_id": t["account_id"], "kind": "transaction",
             "label": f"{t['direction']} {t['amount']} {t['currency']} {t['channel']}",
             "amount_usd": t["amount_usd"]} for t in txns
        ] + [{"date": "2026-03-16", "account_id": "ACC-C1", "kind": "alert",
              "label": "lodging.motel_stacking (high)", "amount_usd": None}],
        "network": {
            "nodes": [
                {"id": "ACC-C1", "label": "ACC-C1", "role": "likely_controller", "is_party": True},
                {"id": "ACC-V1", "label": "ACC-V1", "role": "likely_victim", "is_party": True},
                {"id": "ACC-V2", "label": "ACC-V2", "role": "likely_victim", "is_party": True},
                {"id": "CP-MX-0042", "label": "Josefa Núñez & Hijos", "role": "counterparty",
                 "is_party": False},
            ],
            "edges": [
                {"source": "ACC-V1", "target": "ACC-C1", "n": 1, "total_usd": 450.0},
                {"source": "ACC-V2", "target": "ACC-C1", "n": 1, "total_usd": 380.5},
                {"source": "ACC-C1", "target": "CP-MX-0042", "n": 1, "total_usd": 1200.0},
            ],
        },
        "locations": [
            {"city": "Houston", "region": "TX", "country": "US", "lat": 29.76, "lon": -95.37,
             "n": 6, "total_usd": 2595.49},
            {"city": "Dallas", "region": "TX", "country": "US", "lat": 32.78, "lon": -96.80,
             "n": 1, "total_usd": 380.5},
        ],
        "narrative": {
            "text": "HUMAN TRAFFICKING FIN-2020-A008.\n\nWho: ...",
            "who": "...", "what": "...", "when": "...", "where": "...", "why": "...", "how": "...",
        },
        "filing": {
            "key_term": KEY_TERM, "fincen_subtypes": [927, 824], "goaml_indicators": ["-"],
            "total_suspicious_usd": 2595, "from_date": "2026-03-10", "to_date": "2026-03-16",
            "continuing": False, "prior_document_number": None,
        },
        "stamp": {
            "txflags_version": "0.1.0", "catalogue_hash": "sha256:0f0e", "parameters": {},
            "inputs": [{"path": "night1.parquet", "sha256": "ab" * 32}],
            "runs": ["20260317T010000-abcd1234"], "built_at": "2026-03-17T01:05:00+00:00",
        },
        "redaction": {"profile": "internal", "pseudonymised": []},
    }
