"""The case packet as Markdown: the HTML packet's sections, without the charts.

The network becomes an edge table and the map a location table. Table cells are escaped for
``|``, backslashes and line breaks, so packet text can never break a table's layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from txflags.packets.fields import as_list, as_map, as_strings, case_facts
from txflags.packets.fields import plain_text as text
from txflags.packets.html import (
    CASE_DATES,
    KYC_FIELDS,
    TITLES,
    TXN_FIELDS,
    map_points,
    narrative_of,
    network_nodes,
)
from txflags.packets.model import KEY_TERM
from txflags.packets.narrative import (
    currency_totals,
    is_victim,
    money,
    usd_value,
    victim_notice,
)

_MD_SPECIAL = frozenset("\\`*_{}[]<>#|~!")




def escape_md(raw: str) -> str:
    """Backslash-escape Markdown and inline-HTML syntax so packet text stays literal text.

    An underscore inside a word (``likely_controller``) cannot start emphasis and is kept.
    """
    out = []
    for i, ch in enumerate(raw):
        intraword = ch == "_" and 0 < i < len(raw) - 1 and raw[i - 1].isalnum() \
            and raw[i + 1].isalnum()
        out.append("\\" + ch if ch in _MD_SPECIAL and not intraword else ch)
    return "".join(out)


def cell(value: Any) -> str:
    """A table cell: Markdown syntax and pipes escaped, line breaks turned into <br>."""
    raw = text(value).replace("\r\n", "\n").replace("\r", "\n")
    return "<br>".join(escape_md(part) for part in raw.split("\n"))


def inline(value: Any) -> str:
    """Packet text on one line outside tables (line breaks collapsed, syntax escaped)."""
    return escape_md(" ".join(text(value).split()))


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-style table; every cell escaped."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def kv(rows: Iterable[tuple[str, Any]]) -> str:
    """A two-column key/value table, or '_none_'."""
    rows = list(rows)
    return md_table(["Field", "Value"], rows) if rows else "_none_"


def bullets(items: Iterable[Any]) -> str:
    """A bullet list, or '_none_'."""
    lines = [f"- {inline(i)}" for i in items]
    return "\n".join(lines) if lines else "_none_"








def heading(sid: str) -> str:
    return f'<a id="{sid}"></a>\n## {TITLES[sid]}'


def md_summary(packet: Mapping) -> str:
    case = as_map(packet.get("case"))
    facts = case_facts(case)
    facts += [(label, case.get(key)) for key, label in CASE_DATES]
    return "\n\n".join([
        heading("summary"), inline(packet.get("summary")) or "_no summary_", kv(facts),
        "**Priority reasons**", bullets(as_strings(case.get("priority_reasons"))),
        "**Families**", bullets(as_strings(case.get("families"))),
        "**Typologies**", bullets(as_strings(case.get("typology_ids"))),
        "**Detection runs**", bullets(as_strings(case.get("runs")))])


def md_victim_notice(packet: Mapping) -> str:
    notice = victim_notice(packet)
    if notice is None:
        return ""
    quote = [f"> **{notice.headline}** {notice.NOT_SUBJECTS}"]  # fixed text: nothing to escape
    quote += [f">\n> {inline(n)}" for n in notice.notes]
    return "\n\n".join([heading("victim-notice"), "\n".join(quote), bullets(notice.names)])


def _kyc_text(kyc: Mapping) -> str:
    keys = [k for k in KYC_FIELDS if kyc.get(k) not in (None, "")]
    keys += sorted(str(k) for k in kyc if k not in KYC_FIELDS and kyc.get(k) not in (None, ""))
    return "\n".join(f"{k}: {text(kyc.get(k))}" for k in keys)


def md_parties(packet: Mapping) -> str:
    parties = as_list(packet.get("parties"))
    if not parties:
        return f"{heading('parties')}\n\n_No parties in this case._"
    rows = []
    for p in parties:
        subject = "possible victim — not a subject" if is_victim(p) else \
            ("yes" if p.get("is_subject") else "no")
        rows.append([p.get("account_id"), as_map(p.get("kyc")).get("name"),
                     str(p.get("role") or "unknown").replace("_", " "), subject,
                     "\n".join(as_strings(p.get("role_reasons"))), p.get("risk_score"),
                     ", ".join(as_strings(p.get("families"))), _kyc_text(as_map(p.get("kyc")))])
    headers = ["Account", "Name", "Role", "Subject?", "Reasons", "Risk", "Families", "KYC"]
    return f"{heading('parties')}\n\n{md_table(headers, rows)}"


def md_timeline(packet: Mapping) -> str:
    events = sorted(as_list(packet.get("timeline")),
                    key=lambda e: (str(e.get("date")), str(e.get("account_id")),
                                   str(e.get("kind"))))
    if not events:
        return f"{heading('timeline')}\n\n_No timeline events._"
    rows = [[e.get("date"), e.get("account_id"), e.get("kind"), e.get("label"),
             "" if e.get("amount_usd") is None else f"{usd_value(e.get('amount_usd')):,.2f}"]
            for e in events]
    return f"{heading('timeline')}\n\n" + md_table(
        ["Date", "Account", "Kind", "Label", "USD"], rows)


def md_network(packet: Mapping) -> str:
    network = as_map(packet.get("network"))
    nodes = {n["id"]: n for n in network_nodes(packet)}
    edges = sorted(as_list(network.get("edges")),
                   key=lambda e: (str(e.get("source")), str(e.get("target"))))
    if not edges:
        return f"{heading('network')}\n\n_No money flows recorded._"

    def name(node_id: Any) -> str:
        node = nodes.get(str(node_id), {})
        label = str(node.get("label") or node_id)
        return f"{label} ({node.get('role', 'counterparty')})" if label == str(node_id) else \
            f"{label} [{node_id}] ({node.get('role', 'counterparty')})"

    rows = [[name(e.get("source")), name(e.get("target")), e.get("n"),
             f"USD {usd_value(e.get('total_usd')):,.2f}"] for e in edges]
    return f"{heading('network')}\n\n" + md_table(["From", "To", "Payments", "Total"], rows)


def md_map(packet: Mapping) -> str:
    placed, missing = map_points(packet)
    if not placed and not missing:
        return f"{heading('map')}\n\n_No locations recorded._"
    rows = [[p["loc"].get("city"), p["loc"].get("region"), p["loc"].get("country"),
             f"{p['lat']:.2f}", f"{p['lon']:.2f}", "approximate" if p["approx"] else "packet",
             p["loc"].get("n"), f"USD {usd_value(p['loc'].get('total_usd')):,.2f}"]
            for p in placed]
    rows += [[loc.get("city"), loc.get("region"), loc.get("country"), "", "", "unknown",
              loc.get("n"), f"USD {usd_value(loc.get('total_usd')):,.2f}"] for loc in missing]
    headers = ["City", "Region", "Country", "Lat", "Lon", "Coordinates", "Transactions", "Total"]
    return f"{heading('map')}\n\n" + md_table(headers, rows)


def md_evidence(packet: Mapping) -> str:
    txns = as_list(packet.get("transactions"))
    if not txns:
        return f"{heading('evidence')}\n\n_No evidence transactions._"
    extra = sorted({str(k) for t in txns for k in t if k not in TXN_FIELDS})
    fields = list(TXN_FIELDS) + extra

    def value(t: Mapping, f: str) -> Any:
        if f == "amount":
            return f"{text(t.get('amount'))} {text(t.get('currency'))}"
        if f == "amount_usd":
            return f"{usd_value(t.get('amount_usd')):,.2f}"
        return t.get(f)

    totals, bad = currency_totals(txns)
    summary = ", ".join(money(v, k) for k, v in totals.items()) or "none"
    note = f" ({bad} unreadable amount(s) not counted)" if bad else ""
    return "\n\n".join([heading("evidence"),
                        f"{len(txns)} transaction(s); exact totals by currency: "
                        f"{inline(summary)}{note}.",
                        md_table(fields, [[value(t, f) for f in fields] for t in txns])])


def md_reasons(packet: Mapping) -> str:
    alerts = as_list(packet.get("alerts"))
    if not alerts:
        return f"{heading('reasons')}\n\n_No alerts._"
    blocks = [heading("reasons")]
    for a in alerts:
        blocks += [
            f"### {inline(a.get('typology_id'))} — {inline(a.get('title'))} "
            f"({inline(a.get('band'))})",
            inline(a.get("sentence")),
            kv([("Alert", a.get("alert_id")), ("Indicator", a.get("indicator")),
                ("Family", a.get("family")), ("Account", a.get("account_id")),
                ("Window", f"{text(a.get('window_start'))} – {text(a.get('window_end'))}"),
                ("Weight", a.get("weight")), ("FinCEN subtypes", a.get("fincen_subtypes")),
                ("goAML indicators", a.get("goaml_indicators"))]),
            "**Observed**", kv(sorted(as_map(a.get("observed")).items())),
            "**Parameters**", kv(sorted(as_map(a.get("params")).items())),
            "**Evidence**: " + (", ".join(inline(i) for i in as_strings(a.get("evidence_txn_ids")))
                                or "none"),
        ]
    return "\n\n".join(blocks)


def md_narrative(packet: Mapping) -> str:
    body = str(narrative_of(packet).get("text") or "")
    paragraphs = [inline(p) for p in body.split("\n\n") if p.strip()]
    return "\n\n".join([heading("narrative")] + (paragraphs or ["_No narrative._"]))


def md_filing(packet: Mapping) -> str:
    f = as_map(packet.get("filing"))
    return f"{heading('filing')}\n\n" + kv([
        ("Key term", f.get("key_term") or KEY_TERM),
        ("FinCEN subtypes", ", ".join(as_strings(f.get("fincen_subtypes")))),
        ("goAML indicators", ", ".join(as_strings(f.get("goaml_indicators")))),
        ("Total suspicious (USD)", f.get("total_suspicious_usd")),
        ("From", f.get("from_date")), ("To", f.get("to_date")),
        ("Continuing report", bool(f.get("continuing"))),
        ("Prior document number", f.get("prior_document_number"))])


def md_stamp(packet: Mapping) -> str:
    stamp, redaction = as_map(packet.get("stamp")), as_map(packet.get("redaction"))
    inputs = [[i.get("path"), i.get("sha256")] for i in as_list(stamp.get("inputs"))]
    return "\n\n".join([
        heading("stamp"),
        kv([("txflags version", stamp.get("txflags_version")),
            ("Catalogue hash", stamp.get("catalogue_hash")), ("Built at", stamp.get("built_at")),
            ("Packet version", packet.get("packet_version")),
            ("Redaction profile", redaction.get("profile")),
            ("Pseudonymised fields", ", ".join(as_strings(redaction.get("pseudonymised"))))]),
        "**Parameters**", kv(sorted(as_map(stamp.get("parameters")).items())),
        "**Inputs**", md_table(["Path", "sha256"], inputs) if inputs else "_none_",
        "**Runs**", bullets(as_strings(stamp.get("runs")))])


def render_markdown(packet: Mapping) -> str:
    """The whole packet as one Markdown document."""
    case_id = inline(as_map(packet.get("case")).get("case_id")) or "case"
    profile = inline(as_map(packet.get("redaction")).get("profile")) or "unspecified"
    parts = [f"# Case packet {case_id}",
             f"{KEY_TERM} · draft for FIU analysts · redaction profile: {profile}",
             md_summary(packet), md_victim_notice(packet), md_parties(packet),
             md_timeline(packet), md_network(packet), md_map(packet), md_evidence(packet),
             md_reasons(packet), md_narrative(packet), md_filing(packet), md_stamp(packet)]
    return "\n\n".join(p for p in parts if p) + "\n"
