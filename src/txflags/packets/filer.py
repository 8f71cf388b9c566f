"""Filer configuration: who files the FinCEN SAR / goAML report (a documented YAML file).

``FilerConfig.load(path)`` reads and checks the file and raises ``InputError`` with a message that
says what to write; ``FilerConfig.template_text()`` is the commented template (the bundled
``data/filer.example.yaml``, an obviously fictitious "Example Community Bank").
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from txflags.errors import InputError

EXAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "filer.example.yaml"

TIN_TYPES = {"ein": "2", "ssn_itin": "1", "foreign": "9"}
REGULATORS = {1, 2, 3, 4, 6, 7, 9, 13, 99}
ORG_TYPES = {1, 2, 3, 4, 5, 11, 12, 999}

_ADDRESS_KEYS = {"street", "city", "state", "zip", "country"}
_INSTITUTION_KEYS = {"legal_name", "dba_name", "tin", "tin_type", "address", "primary_regulator",
                     "organization_type", "organization_type_other", "organization_subtype",
                     "rssd", "internal_control_number"}
_FILER_KEYS = _INSTITUTION_KEYS | {"contact_office"}
_CONTACT_KEYS = {"name", "phone", "phone_ext"}
_TRANSMITTER_KEYS = {"tcc", "contact_name", "legal_name", "tin", "phone", "address"}
_GOAML_KEYS = {"rentity_id", "rentity_branch", "reporting_user_code", "reporting_person",
               "currency_code_local", "institution_name", "institution_code", "swift",
               "location", "codes", "fiu_profiles"}
_LOCATION_KEYS = {"address_type", "address", "city", "state", "zip", "country_code"}
_PERSON_KEYS = {"first_name", "last_name", "email", "occupation"}
_CODES_KEYS = {"address_type", "transmode", "funds", "country_passthrough", "unknown_country",
               "indicators", "indicator_passthrough", "default_indicator"}
_TOP_KEYS = {"filer", "transmitter", "activity_institution", "goaml"}


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, str]:
    items = (mapping or {}).items()
    return MappingProxyType({str(k): str(v).strip() for k, v in items if v is not None})


@dataclass(frozen=True)
class Address:
    """A postal address (FinCEN ``Address``)."""

    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Institution:
    """A financial institution as FinCEN parties 30/34 describe it."""

    legal_name: str
    tin: str
    tin_type: str  # FinCEN PartyIdentificationTypeCode: "2" EIN, "1" SSN/ITIN, "9" foreign
    address: Address
    primary_regulator: str
    organization_type: str
    organization_type_other: str | None = None
    organization_subtype: str | None = None
    dba_name: str | None = None
    rssd: str | None = None
    internal_control_number: str | None = None


@dataclass(frozen=True)
class Contact:
    """FinCEN designated contact office (party type 8)."""

    name: str
    phone: str
    phone_ext: str | None = None


@dataclass(frozen=True)
class Transmitter:
    """Who transmits the batch (party types 35 and 37)."""

    legal_name: str
    tin: str
    address: Address
    phone: str
    tcc: str
    contact_name: str


@dataclass(frozen=True)
class GoamlCodes:
    """One FIU's code lists, as txflags maps onto them."""

    address_type: str = "-"
    transmode: Mapping[str, str] = field(default_factory=lambda: _frozen({"default": "-"}))
    funds: Mapping[str, str] = field(default_factory=lambda: _frozen({"default": "-"}))
    country_passthrough: bool = True
    unknown_country: str = "-"
    indicators: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    indicator_passthrough: bool = True
    default_indicator: str = "-"

    def transmode_for(self, channel: str | None) -> str:
        """The FIU transmode code for a txflags channel."""
        return self.transmode.get(channel or "", self.transmode.get("default", "-"))

    def funds_for(self, channel: str | None) -> str:
        """The FIU funds-type code for a txflags channel."""
        return self.funds.get(channel or "", self.funds.get("default", "-"))


@dataclass(frozen=True)
class GoamlConfig:
    """goAML reporting-entity details and per-FIU code maps."""

    rentity_id: int
    location: Mapping[str, str]
    rentity_branch: str | None = None
    reporting_user_code: str | None = None
    reporting_person: Mapping[str, str] | None = None
    currency_code_local: str = "USD"
    institution_name: str | None = None
    institution_code: str | None = None
    swift: str | None = None
    codes: GoamlCodes = field(default_factory=GoamlCodes)
    fiu_profiles: Mapping[str, GoamlCodes] = field(default_factory=lambda: MappingProxyType({}))

    def codes_for(self, schema: str) -> GoamlCodes:
        """The code maps for a schema name (``fiu_profiles`` entry, else the base ``codes``)."""
        if schema in self.fiu_profiles:
            return self.fiu_profiles[schema]
        name = Path(schema).name if schema.endswith(".xsd") else schema
        return self.fiu_profiles.get(name, self.codes)


@dataclass(frozen=True)
class FilerConfig:
    """Everything about the filer that a FinCEN SAR batch or a goAML report needs."""

    filer: Institution
    contact_office: Contact
    transmitter: Transmitter
    activity_institution: Institution
    goaml: GoamlConfig | None = None
    source: str = "<dict>"

    @classmethod
    def load(cls, path: str | Path) -> FilerConfig:
        """Read and check a filer YAML file; ``InputError`` says what to write."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read filer config {p}: {exc.strerror or exc}. "
                             "Create one with the filer-config template.") from exc
        except yaml.YAMLError as exc:
            raise InputError(f"filer config {p} is not valid YAML: {exc}") from exc
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> FilerConfig:
        """Build from parsed YAML (a mapping), with the same checks as ``load``."""
        r = _Reader(source)
        top = r.mapping(data, "", _TOP_KEYS)
        filer_raw = r.mapping(r.required(top, "filer", ""), "filer", _FILER_KEYS)
        filer = _institution(r, filer_raw, "filer", None)
        contact = _contact(r, r.required(filer_raw, "contact_office", "filer"))
        transmitter = _transmitter(r, r.required(top, "transmitter", ""), filer, contact)
        activity_raw = top.get("activity_institution")
        activity = filer if activity_raw is None else _institution(
            r, r.mapping(activity_raw, "activity_institution", _INSTITUTION_KEYS),
            "activity_institution", filer)
        goaml_raw = top.get("goaml")
        goaml = None if goaml_raw is None else _goaml(r, goaml_raw)
        return cls(filer, contact, transmitter, activity, goaml, source)

    @classmethod
    def example(cls) -> FilerConfig:
        """The bundled, fictitious example configuration."""
        return cls.load(EXAMPLE_PATH)

    @staticmethod
    def template_text() -> str:
        """A commented YAML template (the bundled example) to copy and fill in."""
        return EXAMPLE_PATH.read_text(encoding="utf-8")

    def with_goaml_codes(self, codes: GoamlCodes) -> FilerConfig:
        """A copy whose base goAML code maps are ``codes`` (handy for tests and one-off FIUs)."""
        if self.goaml is None:
            raise InputError(f"{self.source}: add a goaml: section (see the template)")
        return replace(self, goaml=replace(self.goaml, codes=codes))


# --- reading helpers --------------------------------------------------------------------------


class _Reader:
    """Checks one config document and phrases errors with the file name and key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, msg: str) -> InputError:
        return InputError(f"filer config {self.source}: {msg}")

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            label = where or "the file"
            raise self.fail(f"{label} must be a mapping of keys to values (see the template)")
        for key in value:
            if str(key) not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                place = f" in {where}" if where else ""
                raise self.fail(f"unknown key {key!r}{place}{hint}; allowed: "
                                f"{', '.join(sorted(allowed))}")
        return {str(k): v for k, v in value.items()}

    def required(self, raw: dict[str, Any], key: str, where: str) -> Any:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            full = f"{where}.{key}" if where else key
            raise self.fail(f"missing {full}: write `{key}: <value>` under "
                            f"{where + ':' if where else 'the top level'} (see the template)")
        return value

    def text(self, raw: dict[str, Any], key: str, where: str, default: str | None = None
             ) -> str | None:
        value = raw.get(key)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            raise self.fail(f"{where}.{key} must be a single value, not a list or mapping")
        text = str(value).strip()
        return text or default

    def code(self, raw: dict[str, Any], key: str, where: str, allowed: set[int],
             default: str | None = None) -> str:
        value = raw.get(key, default)
        if value is None:
            value = self.required(raw, key, where)
        try:
            number = int(str(value))
        except ValueError:
            number = -1
        if number not in allowed:
            raise self.fail(f"{where}.{key} is {value!r}; write one of "
                            f"{', '.join(str(a) for a in sorted(allowed))}")
        return str(number)


def _address(r: _Reader, value: Any, where: str) -> Address:
    raw = r.mapping(value, where, _ADDRESS_KEYS)
    return Address(**{k: r.text(raw, k, where) for k in sorted(_ADDRESS_KEYS)})


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _institution(r: _Reader, raw: dict[str, Any], where: str, base: Institution | None
                 ) -> Institution:
    def pick(key: str) -> Any:
        return raw.get(key, getattr(base, key) if base is not None else None)

    legal = r.text(raw, "legal_name", where, base.legal_name if base else None)
    tin = r.text(raw, "tin", where, base.tin if base else None)
    if not legal or not tin:
        r.required({}, "legal_name" if not legal else "tin", where)
    tin_type_raw = str(raw.get("tin_type") or "").strip().lower()
    if tin_type_raw and tin_type_raw not in TIN_TYPES:
        raise r.fail(f"{where}.tin_type is {tin_type_raw!r}; write one of "
                     f"{', '.join(TIN_TYPES)}")
    tin_type = TIN_TYPES.get(tin_type_raw) or (base.tin_type if base else TIN_TYPES["ein"])
    if raw.get("address") is None and base is not None:
        address = base.address
    else:
        address = _address(r, r.required(raw, "address", where), f"{where}.address")
    return Institution(
        legal_name=str(legal), tin=str(tin), tin_type=tin_type, address=address,
        primary_regulator=r.code(raw, "primary_regulator", where, REGULATORS,
                                 base.primary_regulator if base else None),
        organization_type=r.code(raw, "organization_type", where, ORG_TYPES,
                                 base.organization_type if base else None),
        organization_type_other=r.text(raw, "organization_type_other", where,
                                       pick("organization_type_other")),
        organization_subtype=r.text(raw, "organization_subtype", where,
                                    pick("organization_subtype")),
        dba_name=r.text(raw, "dba_name", where, pick("dba_name")),
        rssd=r.text(raw, "rssd", where, pick("rssd")),
        internal_control_number=r.text(raw, "internal_control_number", where,
                                       pick("internal_control_number")),
    )


def _contact(r: _Reader, value: Any) -> Contact:
    where = "filer.contact_office"
    raw = r.mapping(value, where, _CONTACT_KEYS)
    phone = _digits(str(r.required(raw, "phone", where)))
    if not phone:
        raise r.fail(f"{where}.phone must contain digits, e.g. \"5555550100\"")
    return Contact(name=str(r.text(raw, "name", where) or r.required(raw, "name", where)),
                   phone=phone, phone_ext=r.text(raw, "phone_ext", where))


def _transmitter(r: _Reader, value: Any, filer: Institution, contact: Contact) -> Transmitter:
    where = "transmitter"
    raw = r.mapping(value, where, _TRANSMITTER_KEYS)
    address = (_address(r, raw["address"], f"{where}.address")
               if raw.get("address") is not None else filer.address)
    return Transmitter(
        legal_name=str(r.text(raw, "legal_name", where, filer.legal_name)),
        tin=str(r.text(raw, "tin", where, filer.tin)),
        address=address,
        phone=_digits(str(r.text(raw, "phone", where, contact.phone))) or contact.phone,
        tcc=str(r.required(raw, "tcc", where)).strip(),
        contact_name=str(r.required(raw, "contact_name", where)).strip(),
    )


def _codes(r: _Reader, value: Any, where: str, base: GoamlCodes) -> GoamlCodes:
    raw = r.mapping(value or {}, where, _CODES_KEYS)
    for key in ("transmode", "funds", "indicators"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise r.fail(f"{where}.{key} must be a mapping, e.g. `{key}: {{default: \"-\"}}`")
    return GoamlCodes(
        address_type=str(r.text(raw, "address_type", where, base.address_type)),
        transmode=_frozen({**base.transmode, **(raw.get("transmode") or {})}),
        funds=_frozen({**base.funds, **(raw.get("funds") or {})}),
        country_passthrough=bool(raw.get("country_passthrough", base.country_passthrough)),
        unknown_country=str(r.text(raw, "unknown_country", where, base.unknown_country)),
        indicators=_frozen({**base.indicators, **(raw.get("indicators") or {})}),
        indicator_passthrough=bool(raw.get("indicator_passthrough",
                                           base.indicator_passthrough)),
        default_indicator=str(r.text(raw, "default_indicator", where, base.default_indicator)),
    )


def _goaml(r: _Reader, value: Any) -> GoamlConfig:
    where = "goaml"
    raw = r.mapping(value, where, _GOAML_KEYS)
    try:
        rentity_id = int(str(r.required(raw, "rentity_id", where)))
    except ValueError:
        rentity_id = 0
    if rentity_id < 1:
        raise r.fail("goaml.rentity_id must be the whole number (>= 1) your FIU assigned")
    location = r.mapping(r.required(raw, "location", where), "goaml.location", _LOCATION_KEYS)
    for key in ("address", "city"):
        r.required(location, key, "goaml.location")
    person = raw.get("reporting_person")
    if person is not None:
        person = r.mapping(person, "goaml.reporting_person", _PERSON_KEYS)
        for key in ("first_name", "last_name"):
            r.required(person, key, "goaml.reporting_person")
    user_code = r.text(raw, "reporting_user_code", where)
    if person is None and user_code is None:
        raise r.fail("goaml needs `reporting_user_code: <your goAML user code>` or "
                     "`reporting_person: {first_name: ..., last_name: ...}`")
    codes = _codes(r, raw.get("codes"), "goaml.codes", GoamlCodes())
    profiles_raw = raw.get("fiu_profiles") or {}
    if not isinstance(profiles_raw, dict):
        raise r.fail("goaml.fiu_profiles must map a schema name (e.g. 5.0.2-uae) to codes")
    profiles = {str(k): _codes(r, v, f"goaml.fiu_profiles.{k}", codes)
                for k, v in profiles_raw.items()}
    return GoamlConfig(
        rentity_id=rentity_id, location=_frozen(location),
        rentity_branch=r.text(raw, "rentity_branch", where),
        reporting_user_code=user_code,
        reporting_person=_frozen(person) if person is not None else None,
        currency_code_local=str(r.text(raw, "currency_code_local", where, "USD")),
        institution_name=r.text(raw, "institution_name", where),
        institution_code=r.text(raw, "institution_code", where),
        swift=r.text(raw, "swift", where),
        codes=codes, fiu_profiles=MappingProxyType(profiles),
    )
