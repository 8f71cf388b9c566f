"""Redaction profiles: keyed pseudonyms for the personal data in a packet before it leaves.

``internal`` changes nothing. ``fiu`` keeps the subjects (the filing names them) and
pseudonymises likely victims, other parties and third-party counterparties. ``external``
pseudonymises everyone. A pseudonym is ``KIND-`` plus an HMAC-SHA256 of the value under the
redaction key, so the same person gets the same pseudonym in every packet exported with that
key and nobody without it can reverse or re-compute it. Dates of birth become the year.
Every string in the packet is then scanned for the original values (sentences and reasons
quote account ids), and the summary and narrative are drafted again from the redacted packet.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from txflags.errors import InputError
from txflags.packets.narrative import draft_narrative, summary_sentence

#: KYC fields and their pseudonym prefix.
KYC_KINDS = {"name": "NAME", "phone": "PHONE", "email": "EMAIL", "address": "ADDR",
             "id_number": "IDNO"}
PROFILES: dict[str, str] = {
    "internal": "nothing redacted: for the institution's own investigators",
    "fiu": "subjects kept; likely victims, other parties and counterparties pseudonymised",
    "external": "every person, account and counterparty pseudonymised",
}
_MIN_SUBSTRING = 4  # shorter values are replaced only where they stand alone


def new_key() -> str:
    """A fresh random redaction key (hex)."""
    return secrets.token_hex(32)


class Pseudonymiser:
    """Keyed, stable pseudonyms: ``KIND-`` + 12 hex digits of HMAC-SHA256(key, value)."""

    def __init__(self, key: str | bytes) -> None:
        if not key:
            raise InputError("redaction needs a key (TXFLAGS_REDACTION_KEY or the store's)")
        self._key = key.encode() if isinstance(key, str) else key
        self.mapping: dict[str, str] = {}

    def __call__(self, kind: str, value: Any) -> Any:
        if value is None or str(value).strip() == "":
            return value
        text = str(value)
        if text not in self.mapping:
            digest = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:12]
            self.mapping[text] = f"{kind}-{digest.upper()}"
        return self.mapping[text]

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self._key).hexdigest()[:8]


def _redact_party(party: dict[str, Any], pseudo: Pseudonymiser) -> None:
    party["account_id"] = pseudo("ACCT", party["account_id"])
    party["customer_id"] = pseudo("CUST", party.get("customer_id"))
    kyc = party.get("kyc") or {}
    for field, kind in KYC_KINDS.items():
        if kyc.get(field):
            kyc[field] = pseudo(kind, kyc[field])
    if kyc.get("birth_date"):
        kyc["birth_date"] = str(kyc["birth_date"])[:4]


def _walk(value: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    if isinstance(value, dict):
        return {(fix(k) if isinstance(k, str) else k): _walk(v, fix) for k, v in value.items()}
    return value


def _replacer(mapping: Mapping[str, str]) -> Callable[[str], str]:
    long_values = sorted((v for v in mapping if len(v) >= _MIN_SUBSTRING), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(v) for v in long_values)) if long_values else None

    def fix(text: str) -> str:
        if text in mapping:
            return mapping[text]
        return pattern.sub(lambda m: mapping[m.group(0)], text) if pattern else text

    return fix


def redact(packet: Mapping[str, Any], profile: str, key: str | bytes) -> dict[str, Any]:
    """A redacted copy of ``packet`` under ``profile`` (``internal``, ``fiu`` or ``external``)."""
    if profile not in PROFILES:
        raise InputError(f"unknown redaction profile {profile!r}; choose from "
                         f"{', '.join(PROFILES)}")
    out = copy.deepcopy(dict(packet))
    if profile == "internal":
        out["redaction"] = {"profile": "internal", "pseudonymised": []}
        return out
    pseudo = Pseudonymiser(key)
    keep = {p["account_id"] for p in out["parties"]
            if profile == "fiu" and p.get("is_subject")}
    for party in out["parties"]:
        if party["account_id"] not in keep:
            _redact_party(party, pseudo)
    parties = {p["account_id"] for p in packet["parties"]}
    for t in out.get("transactions", []):
        if t.get("counterparty_id") and t["counterparty_id"] not in parties | keep:
            t["counterparty_id"] = pseudo("CP", t["counterparty_id"])
        if t.get("counterparty_name") and (t.get("merchant") is None):
            t["counterparty_name"] = pseudo("NAME", t["counterparty_name"])
    for node in out.get("network", {}).get("nodes", []):
        if not node.get("is_party") and node["id"] not in keep:
            node["id"] = pseudo("CP", node["id"])
            node["label"] = pseudo("CP", node["label"]) if node["label"] != node["id"] else node[
                "id"]
    fix = _replacer(pseudo.mapping)
    out = _walk(out, fix)
    out["summary"] = summary_sentence(out)
    out["narrative"] = draft_narrative(out)
    out["redaction"] = {"profile": profile, "key_id": pseudo.key_id,
                        "pseudonymised": sorted({v.split("-")[0] for v in pseudo.mapping.values()}),
                        "n_values": len(pseudo.mapping)}
    return out
