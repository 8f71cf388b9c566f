"""Validate FinCEN SAR and goAML filings against the bundled official XSDs (offline).

``validate_fincen`` / ``validate_goaml`` return a list of messages; an empty list means valid.
Schemas load with ``xmlschema.XMLSchema11`` (the XSDs declare ``vc:minVersion="1.1"``; the XSD 1.0
class silently drops every declaration) and are built once per process. goAML patterns are
written for JavaScript/.NET regex, so their ``^``/``$`` anchors are stripped in memory before
compiling (pitfall G1 of ``shared/schemas/README.md``); the files on disk stay pristine.

Besides the XSD, the cheap FinCEN business rules the schema cannot express are checked and
reported with the prefix ``business rule:``.

``fit_tree`` is the shared schema-driven clean-up used by the renderers: it trims and flattens
every text value, clips it to the declared ``maxLength`` and makes it match declared patterns.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import xmlschema

from txflags.errors import InputError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "schemas"
FINCEN_XSD = SCHEMA_DIR / "fincen-sar" / "EFL_SARXBatchSchema.xsd"
GOAML_XSDS = {
    "5.0.1": SCHEMA_DIR / "goaml" / "5.0.1" / "goAMLSchema.xsd",
    "5.0.2-uae": SCHEMA_DIR / "goaml" / "5.0.2-uae" / "goAMLSchema.xsd",
}
FINCEN_NS = "www.fincen.gov/base"
_ANCHORED = re.compile(r'(<xs(?:d)?:pattern\s+value=")\^(.*?)\$(")')
_WS = re.compile(r"\s+")
MAX_ERRORS = 50


# --- schema loading ---------------------------------------------------------------------------


def goaml_schema_path(schema: str = "5.0.1") -> Path:
    """The goAML XSD for ``5.0.1``, ``5.0.2-uae`` or a path to another FIU's goAMLSchema.xsd."""
    if schema in GOAML_XSDS:
        return GOAML_XSDS[schema]
    path = Path(schema).expanduser()
    if path.is_file():
        return path.resolve()
    raise InputError(
        f"unknown goAML schema {schema!r}: use one of {', '.join(GOAML_XSDS)} "
        "or the path to your FIU's goAMLSchema.xsd"
    )


def strip_anchors(xsd_text: str) -> str:
    """Remove JavaScript-style ``^…$`` anchors from ``xs:pattern`` values (pitfall G1)."""
    return _ANCHORED.sub(r"\1\2\3", xsd_text)


@functools.cache
def _load(path: str, anchor_fix: bool) -> xmlschema.XMLSchema11:
    source = Path(path)
    try:
        if not anchor_fix:
            return xmlschema.XMLSchema11(str(source))
        text = strip_anchors(source.read_text(encoding="utf-8"))
        return xmlschema.XMLSchema11(text, base_url=str(source.parent))
    except (OSError, xmlschema.XMLSchemaException) as exc:
        raise InputError(f"cannot load schema {source.name}: {exc}") from exc


def fincen_schema() -> xmlschema.XMLSchema11:
    """The FinCEN SAR batch schema (v1.2), built once per process."""
    return _load(str(FINCEN_XSD), False)


def goaml_schema(schema: str = "5.0.1") -> xmlschema.XMLSchema11:
    """A goAML schema with the anchor fix applied, built once per process."""
    return _load(str(goaml_schema_path(schema)), True)


# --- schema facts the renderers use -----------------------------------------------------------


def enumeration(schema: xmlschema.XMLSchema11, type_name: str) -> frozenset[str]:
    """The enumeration values of a named simple type, as strings (empty if none/unknown)."""
    xsd_type = schema.types.get(type_name)
    values = getattr(xsd_type, "enumeration", None) or []
    return frozenset(str(v) for v in values)


def child_decl(decl: Any, tag: str) -> Any | None:
    """The declaration of child element ``tag`` inside the complex element ``decl``."""
    return _children(decl.type).get(tag)


@functools.cache
def _children_cached(xsd_type: Any) -> dict[str, Any]:
    content = getattr(xsd_type, "content", None)
    if content is None or not hasattr(content, "iter_elements"):
        return {}
    out: dict[str, Any] = {}
    for el in content.iter_elements():
        out.setdefault(el.name, el)
    return out


def _children(xsd_type: Any) -> dict[str, Any]:
    try:
        return _children_cached(xsd_type)
    except TypeError:  # unhashable type object: compute without the cache
        return _children_cached.__wrapped__(xsd_type)


def clean_text(value: Any) -> str:
    """Text as a filing wants it: CR/LF/tab and runs of spaces become one space, trimmed."""
    if value is None:
        return ""
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch.isspace())
    return _WS.sub(" ", text).strip()


def clip_words(text: str, limit: int, suffix: str = "") -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, appending ``suffix``."""
    if len(text) <= limit:
        return text
    room = max(limit - len(suffix), 0)
    cut = text[:room]
    space = cut.rfind(" ")
    if space > room // 2:
        cut = cut[:space]
    return cut.rstrip() + suffix


def _matches(patterns: Any, value: str) -> bool:
    return patterns is None or any(p.match(value) for p in patterns.patterns)


def _transliterate(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fit_pattern(patterns: Any, value: str) -> str:
    """Make ``value`` match the patterns: transliterate, then drop characters that do not fit."""
    if _matches(patterns, value):
        return value
    ascii_ish = clean_text(_transliterate(value))  # "¸" decomposes to a bare space
    if _matches(patterns, ascii_ish):
        return ascii_ish
    kept = clean_text("".join(ch for ch in ascii_ish if _matches(patterns, ch)))
    return kept if _matches(patterns, kept) else ""


def fit_text(xsd_type: Any, value: str, placeholder: str = "Unknown") -> str:
    """Clean, clip to ``maxLength`` and fit ``value`` to the patterns of a simple type."""
    text = clean_text(value)
    patterns = getattr(xsd_type, "patterns", None)
    text = _fit_pattern(patterns, text) if patterns is not None else text
    max_length = getattr(xsd_type, "max_length", None)
    if max_length is not None and len(text) > max_length:
        text = text[:max_length].rstrip()
    if not text and (getattr(xsd_type, "min_length", None) or 0) > 0:
        text = placeholder
    return text


def fit_tree(root: ET.Element, schema: xmlschema.XMLSchema11) -> ET.Element:
    """Clean every text node of ``root`` to its declared type; drop optional empty leaves.

    Elements the schema does not declare are left alone (validation will report them).
    """
    decl = schema.maps.elements.get(root.tag)
    if decl is not None:
        _fit_children(root, decl)
    return root


def _fit_children(elem: ET.Element, decl: Any) -> None:
    for child in list(elem):
        sub = child_decl(decl, child.tag)
        if sub is None:
            continue
        if sub.type.is_simple() or sub.type.has_simple_content():
            if not _fit_leaf(child, sub) and sub.min_occurs == 0:
                elem.remove(child)
        else:
            _fit_children(child, sub)


def _fit_leaf(child: ET.Element, decl: Any) -> bool:
    """Fit one leaf; False when it ends up empty and should be dropped."""
    xsd_type = decl.type if decl.type.is_simple() else decl.type.content
    if getattr(xsd_type, "enumeration", None):
        return bool(child.text)
    if not _is_stringish(xsd_type):
        return child.text is not None and child.text != ""
    child.text = fit_text(xsd_type, child.text or "")
    return child.text != "" or _allows_empty(xsd_type)


def _is_stringish(xsd_type: Any) -> bool:
    primitive = getattr(xsd_type, "primitive_type", None)
    return primitive is not None and primitive.local_name == "string"


def _allows_empty(xsd_type: Any) -> bool:
    try:
        xsd_type.validate("")
    except (xmlschema.XMLSchemaValidationError, ValueError):
        return False
    return True


# --- validation -------------------------------------------------------------------------------


def _schema_errors(schema: xmlschema.XMLSchema11, xml: bytes) -> list[str]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    out: list[str] = []
    for err in schema.iter_errors(ET.ElementTree(root)):
        path = err.path or "?"
        out.append(f"{path}: {err.reason or err.message}")
        if len(out) >= MAX_ERRORS:
            out.append("... more errors not shown")
            break
    return out


def validate_fincen(xml: bytes) -> list[str]:
    """XSD errors plus FinCEN business-rule problems of a SAR batch; [] means valid."""
    errors = _schema_errors(fincen_schema(), xml)
    if errors and errors[0].startswith("not well-formed"):
        return errors
    return errors + fincen_business_rules(ET.fromstring(xml))


def validate_goaml(xml: bytes, schema: str = "5.0.1") -> list[str]:
    """XSD errors of a goAML report against ``schema``; [] means valid."""
    errors = _schema_errors(goaml_schema(schema), xml)
    if errors and errors[0].startswith("not well-formed"):
        return errors
    return errors + goaml_business_rules(ET.fromstring(xml))


# --- business rules ---------------------------------------------------------------------------

_F = f"{{{FINCEN_NS}}}"
_WHOLE_DOLLARS = re.compile(r"[0-9]+")
_LATER_FLAGS = {"ContinuingActivityReportIndicator", "CorrectsAmendsPriorReportIndicator"}
_AMOUNT_TAGS = ("TotalSuspiciousAmountText", "CumulativeTotalViolationAmountText",
                "LossToFinancialAmountText")


def _text_problems(root: ET.Element) -> list[str]:
    out: list[str] = []
    for el in root.iter():
        text = el.text if len(el) == 0 else None
        if not text:
            continue
        name = el.tag.rsplit("}", 1)[-1]
        if text != text.strip():
            out.append(f"business rule: {name} has leading or trailing spaces")
        if any(c in text for c in "\r\n\t"):
            out.append(f"business rule: {name} contains a CR, LF or tab character")
    return out


def _fincen_counts(root: ET.Element) -> list[str]:
    activities = root.findall(f"{_F}Activity")
    subjects = [p for a in activities for p in a.findall(f"{_F}Party")
                if p.findtext(f"{_F}ActivityPartyTypeCode") == "33"]
    with_attachment = [a for a in activities if a.find(f"{_F}ActivitySupportDocument") is not None]
    total = Decimal(0)
    for a in activities:
        amount = a.findtext(f"{_F}SuspiciousActivity/{_F}TotalSuspiciousAmountText") or "0"
        try:
            total += Decimal(amount)
        except InvalidOperation:
            pass
    expected = {"ActivityCount": len(activities), "PartyCount": len(subjects),
                "ActivityAttachmentCount": len(with_attachment),
                "AttachmentCount": len(with_attachment)}
    out = []
    for attr, want in expected.items():
        if root.get(attr) != str(want):
            out.append(f"business rule: {attr} is {root.get(attr)!r} but the batch has {want}")
    try:
        declared = Decimal(root.get("TotalAmount") or "")
    except InvalidOperation:
        declared = None
    if declared != total:
        out.append(f"business rule: TotalAmount is {root.get('TotalAmount')!r} "
                   f"but the activities add up to {total}")
    return out


def _fincen_activity_rules(activity: ET.Element, n: int) -> list[str]:
    out = []
    assoc = activity.find(f"{_F}ActivityAssociation")
    flags = {c.tag.rsplit("}", 1)[-1] for c in (assoc if assoc is not None else [])}
    prior = activity.find(f"{_F}EFilingPriorDocumentNumber") is not None
    later = bool(flags & _LATER_FLAGS)
    if "InitialReportIndicator" in flags and later:
        out.append(f"business rule: activity {n}: initial report combined with "
                   "continuing/corrects")
    if prior != later:
        out.append(f"business rule: activity {n}: EFilingPriorDocumentNumber must be present "
                   "exactly when continuing or corrects/amends is set")
    codes = [p.findtext(f"{_F}ActivityPartyTypeCode") for p in activity.findall(f"{_F}Party")]
    for code, role in (("35", "transmitter"), ("37", "transmitter contact"),
                       ("30", "filing institution"), ("8", "contact office"),
                       ("34", "institution where activity occurred"), ("33", "subject")):
        if code not in codes:
            out.append(f"business rule: activity {n}: no {role} party (type {code})")
    for tag in _AMOUNT_TAGS:
        for el in activity.iter(f"{_F}{tag}"):
            if el.text and not _WHOLE_DOLLARS.fullmatch(el.text):
                out.append(f"business rule: activity {n}: {tag} {el.text!r} is not whole "
                           "dollars (digits only)")
    return out


def fincen_business_rules(root: ET.Element) -> list[str]:
    """FinCEN rules the XSD cannot check: counts, totals, amounts, spaces, required roles."""
    out = _fincen_counts(root) + _text_problems(root)
    for n, activity in enumerate(root.findall(f"{_F}Activity"), 1):
        out += _fincen_activity_rules(activity, n)
    return out


def goaml_business_rules(root: ET.Element) -> list[str]:
    """Cheap goAML checks the XSD cannot do: no stray spaces or line breaks in values."""
    return _text_problems(root)
