"""The typology file format: allowed values of its header fields, and its vocabulary."""

from __future__ import annotations

import re

#: Families, as the first part of a typology id (TYPOLOGIES.md §1.1, in snake case).
FAMILIES = {
    "remittance": "remittance/money-transfer",
    "ad_platform": "ad-platform payments",
    "crypto": "crypto cash-out",
    "lodging": "lodging & travel",
    "lifestyle": "card-spend lifestyle",
    "funnel": "funnel/collection accounts",
    "cash": "structuring & cash",
    "network": "network/controller",
    "kyc": "identity & KYC",
}
STATUSES = ("experimental", "test", "stable")
ROLES = ("victim", "controller", "buyer", "facilitator")
BANDS = ("high", "medium", "low")
SCOPES = ("window", "account")

#: Source keys of TYPOLOGIES.md §0 (the source register).
REFERENCES = (
    "FC14", "FC20", "FC14F", "FC19", "FC21", "FC24", "FC25S", "FC25Q", "SAR21", "FFIEC", "FCXSD",
    "GOAML", "FATF18", "FT16", "FT21", "FT20", "FTSTR", "GT16", "AU22", "AUCS", "EG20", "AMLC",
    "CH20", "CH24", "CH26", "POL18", "POLON", "POLNSS", "TRF", "WUDHS", "BLUE", "EUR15", "FAST19",
    "BP15", "OSCE19", "MCC",
)

ID_RE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z0-9_]*$")
INDICATOR_RE = re.compile(r"^HT-[A-Z]{3}-\d{2}$")
GOAML_RE = re.compile(r"^[A-Z0-9]{3,8}$")

REQUIRED_FIELDS = (
    "id", "title", "family", "version", "status", "weight", "roles", "indicator", "references",
    "false_positives", "parameters", "detection", "bands", "sentence", "fincen_subtypes",
    "goaml_indicators",
)
OPTIONAL_FIELDS = ("requires", "depends_on", "description", "level", "notes")
DETECTION_KEYS = ("scope", "window_days", "derive", "rows", "measures", "where", "rank_by")

#: Placeholders a sentence may use besides measures and parameters.
SENTENCE_FIELDS = ("account_id", "window_days", "window_start", "window_end", "band")
