"""Ground truth: who belongs to which scheme instance, in which role, with which indicators."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

#: Typology id → (family, TYPOLOGIES.md indicator code).
TYPOLOGIES: dict[str, str] = {
    "remittance.many_senders_small": "HT-REM-01",
    "remittance.ocse_corridor_small": "HT-REM-02",
    "remittance.shared_beneficiary": "HT-REM-03",
    "remittance.cover_description": "HT-REM-04",
    "remittance.wages_sent_on": "HT-REM-05",
    "remittance.sextortion_bursts": "HT-REM-06",
    # the employer side of REM-05: pays wages to workers who send them on (second stage)
    "remittance.employer_wages_sent_on": "HT-REM-05",
    "ad_platform.small_repeated_fees": "HT-ADV-01",
    "ad_platform.high_monthly_spend": "HT-ADV-02",
    "ad_platform.foreign_ad_hosting": "HT-ADV-03",
    "ad_platform.prepaid_or_crypto_then_ads": "HT-ADV-04",
    "crypto.small_frequent_buys": "HT-CRY-01",
    "crypto.high_risk_exposure": "HT-CRY-02",
    "crypto.night_small_payments": "HT-CRY-03",
    "crypto.pooled_third_party_to_vasp": "HT-CRY-04",
    "crypto.kiosk_near_limit": "HT-CRY-05",
    "crypto.large_stablecoin": "HT-CRY-06",
    "lodging.motel_stacking": "HT-LOD-01",
    "lodging.same_day_multiple_bookings": "HT-LOD-02",
    "lodging.city_circuit": "HT-LOD-03",
    "lodging.tickets_for_others": "HT-LOD-04",
    "lodging.night_rides": "HT-LOD-05",
    "lodging.travel_to_offend": "HT-LOD-06",
    "lifestyle.upkeep_basket": "HT-LIF-01",
    "lifestyle.after_hours_venue": "HT-LIF-02",
    "lifestyle.business_upkeep_no_payroll": "HT-LIF-03",
    "lifestyle.controller_luxury": "HT-LIF-04",
    "funnel.out_of_area_cash": "HT-FUN-01",
    "funnel.many_new_p2p_payers": "HT-FUN-02",
    "funnel.pass_through_sweep": "HT-FUN-03",
    "funnel.many_wages_one_account": "HT-FUN-04",
    "funnel.cash_only_life": "HT-FUN-05",
    # the buyer side of FUN-02: pays a victim's collection account (second stage)
    "funnel.pays_flagged_collection": "HT-FUN-02",
    "cash.structuring": "HT-CSH-01",
    "cash.night_atm_deposits": "HT-CSH-02",
    "cash.business_cash_excess": "HT-CSH-03",
    "cash.prepaid_loading": "HT-CSH-04",
    "network.shared_identifiers": "HT-NET-01",
    "network.controller_hub": "HT-NET-02",
    "network.shared_device": "HT-NET-03",
    "network.linked_venues": "HT-NET-04",
    "network.recruitment_agency": "HT-NET-05",
    "kyc.staff_observed": "HT-KYC-01",
    "kyc.ad_identifier_match": "HT-KYC-02",
    "kyc.young_third_party": "HT-KYC-03",
    "kyc.reused_id": "HT-KYC-04",
}
FAMILIES = (
    "remittance",
    "ad_platform",
    "crypto",
    "lodging",
    "lifestyle",
    "funnel",
    "cash",
    "network",
    "kyc",
)
ROLES = ("controller", "victim", "buyer", "facilitator")

TRUTH_ACCOUNTS_SCHEMA = pl.Schema(
    {
        "account_id": pl.String(),
        "label": pl.Int8(),
        "family": pl.String(),
        "typology_ids": pl.List(pl.String()),
        "role": pl.String(),
        "instance_id": pl.String(),
        "lookalike": pl.String(),
    }
)
TRUTH_TXN_SCHEMA = pl.Schema(
    {
        "txn_id": pl.String(),
        "instance_id": pl.String(),
        "typology_id": pl.String(),
    }
)


def family_of(typology_id: str) -> str:
    return typology_id.split(".", 1)[0]


@dataclass
class Member:
    role: str | None
    instance_id: str
    label: int
    lookalike: str | None = None
    family: str | None = None  # lookalikes: the family they resemble
    typologies: list[str] = field(default_factory=list)


@dataclass
class Truth:
    """Per-chunk truth of accounts, keyed by chunk-local customer index."""

    members: dict[int, Member] = field(default_factory=dict)

    def join(self, cust: int, instance_id: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.members[int(cust)] = Member(role, instance_id, 1)

    def lookalike(self, cust: int, instance_id: str, name: str, family: str) -> None:
        self.members[int(cust)] = Member(None, instance_id, 0, name, family)

    def flag(self, cust: int, typology_id: str) -> None:
        if typology_id not in TYPOLOGIES:
            raise ValueError(f"unknown typology {typology_id!r}")
        m = self.members[int(cust)]
        if typology_id not in m.typologies:
            m.typologies.append(typology_id)

    def frame(self, account_ids: pl.Series) -> pl.DataFrame:
        """One row per account of the chunk (plain customers: label 0, nulls)."""
        n = len(account_ids)
        label = [0] * n
        fam: list[str | None] = [None] * n
        typs: list[list[str]] = [[] for _ in range(n)]
        role: list[str | None] = [None] * n
        inst: list[str | None] = [None] * n
        look: list[str | None] = [None] * n
        for c in sorted(self.members):
            m = self.members[c]
            ordered = sorted(m.typologies, key=list(TYPOLOGIES).index)
            label[c], typs[c], role[c], inst[c], look[c] = (
                m.label,
                ordered,
                m.role,
                m.instance_id,
                m.lookalike,
            )
            fam[c] = m.family if m.lookalike else _main_family(ordered)
        return pl.DataFrame(
            {
                "account_id": account_ids,
                "label": label,
                "family": fam,
                "typology_ids": typs,
                "role": role,
                "instance_id": inst,
                "lookalike": look,
            },
            schema=TRUTH_ACCOUNTS_SCHEMA,
        )


def _main_family(typology_ids: list[str]) -> str | None:
    """The family with most of the account's indicators (ties: catalogue order)."""
    if not typology_ids:
        return None
    counts = {f: 0 for f in FAMILIES}
    for t in typology_ids:
        counts[family_of(t)] += 1
    return max(FAMILIES, key=lambda f: (counts[f], -FAMILIES.index(f)))
