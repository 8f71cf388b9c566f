"""One self-contained, offline HTML5 page for a case packet.

No external URL, script, font or map tile: inline CSS and inline SVG only, so the file can be
opened on an air-gapped analyst machine and printed. Every value from the packet goes through
:func:`esc`. Charts are laid out deterministically (same packet, same bytes).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from txflags.packets.fields import (
    as_list,
    as_map,
    as_strings,
    case_facts,
    finite,
    plain_text,
)
from txflags.packets.geo import locate
from txflags.packets.model import KEY_TERM
from txflags.packets.narrative import (
    clean,
    currency_totals,
    draft_narrative,
    is_victim,
    money,
    victim_notice,
)

#: Section ids in page order (the victim notice sits after the summary when present).
SECTIONS: tuple[str, ...] = ("summary", "parties", "timeline", "network", "map", "evidence",
                             "reasons", "narrative", "filing", "stamp")
TITLES = {"summary": "Summary", "victim-notice": "Possible victims", "parties": "Parties",
          "timeline": "Timeline", "network": "Money flows", "map": "Map",
          "evidence": "Evidence transactions", "reasons": "Reasons (alerts)",
          "narrative": "Draft narrative", "filing": "Filing", "stamp": "Reproducibility"}

KYC_FIELDS: tuple[str, ...] = ("name", "birth_date", "occupation", "business_type",
                               "customer_type", "opened_at", "home_city", "home_region",
                               "home_country", "phone", "email", "address", "id_number")
TXN_FIELDS: tuple[str, ...] = ("txn_id", "ts", "account_id", "direction", "amount", "currency",
                               "amount_usd", "channel", "mcc", "merchant", "counterparty_id",
                               "counterparty_name", "counterparty_country", "country", "city",
                               "region")
CASE_DATES: tuple[tuple[str, str], ...] = (
    ("opened_on", "Opened"), ("first_activity", "First activity"),
    ("last_activity", "Last activity"), ("sar_due", "SAR due (30 days)"),
    ("review_due", "90-day continuing-activity review"),
    ("continuing_sar_due", "120-day continuing SAR due"))

ROLE_COLOURS: dict[str, str] = {
    "likely_controller": "#b03a2e", "likely_victim": "#1f8a70", "buyer": "#d68910",
    "facilitator": "#7d3c98", "unknown": "#5d6d7e", "counterparty": "#aab7c4"}

#: Above this many edges the diagram drops edge labels (the edge table below lists them all).
EDGE_LABELS_MAX = 40

CSS = """
:root{--ink:#1c2833;--muted:#5d6d7e;--line:#d5d8dc;--bg:#fbfcfc;--warn:#fdf2e9;--warnb:#d35400}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);
 background:#fff;margin:0 auto;max-width:1200px;padding:1rem 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:2px solid var(--line);
 padding-bottom:.2rem;margin-top:2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
nav ol{display:flex;flex-wrap:wrap;gap:.3rem 1rem;list-style:none;padding:0;margin:.5rem 0}
nav a{color:#1a5276}
.muted{color:var(--muted)}.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;
 background:#eaecee;font-size:.85em}.band-high{background:#f5b7b1}.band-medium{background:#fad7a0}
.band-low{background:#d5f5e3}
table{border-collapse:collapse;width:100%;margin:.4rem 0;font-size:.86rem}
th,td{border:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top;
 overflow-wrap:anywhere}th{background:#f2f3f4}td.num{text-align:right;white-space:nowrap}
table.kv{width:auto;min-width:18rem}table.kv th{width:12rem}
ul.plain{margin:0;padding-left:1.1rem}
.notice{background:var(--warn);border:2px solid var(--warnb);border-radius:.4rem;padding:.6rem 1rem}
.notice h2{border:0;margin-top:.2rem;color:var(--warnb)}
figure{margin:.5rem 0}
svg{max-width:100%;height:auto;background:var(--bg);border:1px solid var(--line)}
svg text{font:11px system-ui,Arial,sans-serif;fill:var(--ink);paint-order:stroke;
 stroke:var(--bg);stroke-width:3px;stroke-linejoin:round}svg .axis{fill:var(--muted)}
.legend span{display:inline-block;margin-right:1rem}.swatch{display:inline-block;width:.8rem;
 height:.8rem;border-radius:50%;vertical-align:middle;margin-right:.3rem}
.narrative p{max-width:60rem}
@media print{nav{display:none}body{max-width:none;padding:0;font-size:11px}
 section{break-inside:auto}h2{break-after:avoid}tr,figure{break-inside:avoid}
 .notice{border-width:1px}a{color:inherit;text-decoration:none}}
"""


# --- escaping and small builders ----------------------------------------------------------


def esc(value: Any) -> str:
    """HTML-escaped text of any packet value (None -> empty); lone surrogates replaced."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else plain_text(value)
    return html.escape(text.encode("utf-8", "replace").decode("utf-8"), quote=True)






def _f(value: float) -> str:
    """Compact SVG coordinate."""
    return f"{value:.1f}"








def kv_table(rows: Iterable[tuple[str, Any]], css: str = "kv") -> str:
    """A two-column key/value table (keys and values escaped)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css}"><tbody>{body}</tbody></table>' if body else \
        '<p class="muted">none</p>'


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table whose cells are already HTML (callers escape)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bullet_list(items: Iterable[Any]) -> str:
    """An escaped <ul>, or an em dash when empty."""
    lis = "".join(f"<li>{esc(i)}</li>" for i in items)
    return f'<ul class="plain">{lis}</ul>' if lis else "—"


def section(sid: str, body: str, css: str = "") -> str:
    """A <section> with its heading."""
    cls = f' class="{css}"' if css else ""
    return f'<section id="{sid}"{cls}><h2>{esc(TITLES[sid])}</h2>{body}</section>'


def empty(text: str) -> str:
    return f'<p class="muted">{esc(text)}</p>'


# --- summary and victim notice -------------------------------------------------------------


def render_summary(packet: Mapping) -> str:
    """Case id, status, priority and reasons, risk, key dates, families."""
    case = as_map(packet.get("case"))
    facts = case_facts(case)
    dates = [(label, case.get(key)) for key, label in CASE_DATES]
    return section("summary", (
        f"<p>{esc(packet.get('summary'))}</p>"
        f"{kv_table(facts)}"
        f"<h3>Priority reasons</h3>{bullet_list(as_strings(case.get('priority_reasons')))}"
        f"<h3>Key dates</h3>{kv_table(dates)}"
        f"<h3>Typology families</h3>{bullet_list(as_strings(case.get('families')))}"
        f"<h3>Typologies</h3>{bullet_list(as_strings(case.get('typology_ids')))}"
        f"<h3>Detection runs</h3>{bullet_list(as_strings(case.get('runs')))}"))


def render_victim_notice(packet: Mapping) -> str:
    """A prominent notice naming possible victims, with the packet's victim note(s)."""
    notice = victim_notice(packet)
    if notice is None:
        return ""
    body = (f"<p><strong>{esc(notice.headline)}</strong> {esc(notice.NOT_SUBJECTS)}</p>"
            + "".join(f"<p>{esc(n)}</p>" for n in notice.notes)
            + f"<h3>Possible victims</h3>{bullet_list(notice.names)}")
    return section("victim-notice", body, "notice").replace(
        "<section ", '<section role="note" ', 1)


# --- parties ------------------------------------------------------------------------------


def _kyc_cell(kyc: Mapping) -> str:
    keys = [k for k in KYC_FIELDS if kyc.get(k) not in (None, "")]
    keys += sorted(str(k) for k in kyc if k not in KYC_FIELDS and kyc.get(k) not in (None, ""))
    return kv_table([(k, kyc.get(k)) for k in keys]) if keys else "—"


def render_parties(packet: Mapping) -> str:
    """One row per party: account, name, role, subject?, reasons, risk, families, KYC."""
    parties = as_list(packet.get("parties"))
    if not parties:
        return section("parties", empty("No parties in this case."))
    rows = []
    for p in parties:
        kyc = as_map(p.get("kyc"))
        role = str(p.get("role") or "unknown")
        subject = "possible victim — not a subject" if is_victim(p) else \
            ("yes" if p.get("is_subject") else "no")
        rows.append([
            esc(p.get("account_id")) + (f'<br><span class="muted">{esc(p.get("customer_id"))}'
                                        "</span>" if p.get("customer_id") else ""),
            esc(kyc.get("name")), f'<span class="badge">{esc(role.replace("_", " "))}</span>',
            esc(subject), bullet_list(as_strings(p.get("role_reasons"))),
            f'<span class="num">{esc(p.get("risk_score"))}</span>',
            bullet_list(as_strings(p.get("families"))), _kyc_cell(kyc)])
    headers = ["Account", "Name", "Role", "Subject?", "Reasons", "Risk", "Families", "KYC"]
    return section("parties", table(headers, rows))


# --- timeline SVG -------------------------------------------------------------------------


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _timeline_events(packet: Mapping) -> list[Mapping]:
    events = as_list(packet.get("timeline"))
    if events:
        return events
    return [{"date": str(t.get("ts", ""))[:10], "account_id": t.get("account_id"),
             "kind": "transaction", "amount_usd": t.get("amount_usd"),
             "label": f"{t.get('direction', '')} {t.get('amount', '')} {t.get('currency', '')}"}
            for t in as_list(packet.get("transactions"))]


def _lanes(packet: Mapping, events: Sequence[Mapping]) -> list[str]:
    lanes = [str(p.get("account_id")) for p in as_list(packet.get("parties"))]
    for e in events:
        if str(e.get("account_id")) not in lanes:
            lanes.append(str(e.get("account_id")))
    return list(dict.fromkeys(lanes))


def _ticks(start: date, end: date, n: int = 6) -> list[date]:
    span = (end - start).days
    step = max(1, math.ceil(span / n))
    return [date.fromordinal(start.toordinal() + i) for i in range(0, span + 1, step)]


def timeline_svg(packet: Mapping) -> str:
    """Dates on x, one lane per account; dots sized by amount_usd, diamonds for alerts."""
    events = [e for e in _timeline_events(packet) if _day(e.get("date"))]
    if not events:
        return empty("No dated events to plot.")
    days = sorted(_day(e.get("date")) for e in events)
    start, end = days[0], days[-1]
    if start == end:
        start, end = date.fromordinal(start.toordinal() - 1), date.fromordinal(end.toordinal() + 1)
    lanes = _lanes(packet, events)
    left, right, top, lane_h = 170, 60, 20, 34
    width, height = 960, top + lane_h * len(lanes) + 40
    plot_w = width - left - right
    span = (end - start).days

    def x(d: date) -> float:
        return left + plot_w * (d - start).days / span

    max_usd = max((finite(e.get("amount_usd")) for e in events), default=0.0) or 1.0
    out = [f'<svg class="timeline" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="Timeline of events by account">']
    for i, lane in enumerate(lanes):
        y = top + lane_h * i + lane_h / 2
        out.append(f'<line x1="{left}" y1="{_f(y)}" x2="{width - right}" y2="{_f(y)}" '
                   'stroke="#e5e8e8"/>')
        out.append(f'<text x="{left - 8}" y="{_f(y + 4)}" text-anchor="end">'
                   f"{esc(clean(lane, 24))}</text>")
    axis_y = top + lane_h * len(lanes) + 8
    for tick in _ticks(start, end):
        out.append(f'<line x1="{_f(x(tick))}" y1="{top}" x2="{_f(x(tick))}" y2="{axis_y}" '
                   'stroke="#d5d8dc" stroke-dasharray="2,3"/>')
        out.append(f'<text class="axis" x="{_f(x(tick))}" y="{axis_y + 16}" '
                   f'text-anchor="middle">{tick.isoformat()}</text>')
    for e in sorted(events, key=lambda e: (e.get("kind") == "alert", str(e.get("date")))):
        out.append(_timeline_mark(e, x(_day(e.get("date"))),
                                  top + lane_h * lanes.index(str(e.get("account_id")))
                                  + lane_h / 2, max_usd))
    out.append("</svg>")
    legend = ('<p class="legend"><span><span class="swatch" style="background:#2e86c1"></span>'
              'transaction (size = USD amount)</span><span><span class="swatch" '
              'style="background:#c0392b;border-radius:0"></span>alert</span></p>')
    return f"<figure>{''.join(out)}{legend}</figure>"


def _timeline_mark(event: Mapping, cx: float, cy: float, max_usd: float) -> str:
    title = f"<title>{esc(event.get('date'))} {esc(event.get('label'))}</title>"
    if event.get("kind") == "alert":
        d = 7
        points = f"{_f(cx)},{_f(cy - d)} {_f(cx + d)},{_f(cy)} {_f(cx)},{_f(cy + d)} " \
                 f"{_f(cx - d)},{_f(cy)}"
        return f'<polygon class="alert" points="{points}" fill="#c0392b">{title}</polygon>'
    r = 3 + 9 * math.sqrt(max(finite(event.get("amount_usd")), 0.0) / max_usd)
    return (f'<circle class="txn" cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(r)}" fill="#2e86c1" '
            f'fill-opacity="0.6" stroke="#1b4f72">{title}</circle>')


# --- network SVG --------------------------------------------------------------------------


def network_nodes(packet: Mapping) -> list[dict[str, Any]]:
    """Nodes of the packet's network, plus any edge endpoint the node list misses."""
    network = as_map(packet.get("network"))
    nodes: dict[str, dict[str, Any]] = {}
    for n in as_list(network.get("nodes")):
        nodes.setdefault(str(n.get("id")), {"id": str(n.get("id")),
                                            "label": str(n.get("label") or n.get("id")),
                                            "role": str(n.get("role") or "unknown"),
                                            "is_party": bool(n.get("is_party"))})
    for e in as_list(network.get("edges")):
        for end in (str(e.get("source")), str(e.get("target"))):
            nodes.setdefault(end, {"id": end, "label": end, "role": "counterparty",
                                   "is_party": False})
    return list(nodes.values())


def _ring(ids: Sequence[str], radius: float, cx: float, cy: float,
          phase: float) -> dict[str, tuple[float, float]]:
    if len(ids) == 1 and radius == 0:
        return {ids[0]: (cx, cy)}
    step = 2 * math.pi / max(len(ids), 1)
    return {i: (cx + radius * math.cos(phase + k * step), cy + radius * math.sin(phase + k * step))
            for k, i in enumerate(ids)}


def _preferred_angles(others: Sequence[str], edges: Sequence[Mapping],
                      pos: Mapping[str, tuple[float, float]], c: float) -> dict[str, float]:
    """Each counterparty's angle towards the mean position of the parties it deals with."""
    links: dict[str, list[tuple[float, float]]] = {o: [] for o in others}
    for e in edges:
        s, t = str(e.get("source")), str(e.get("target"))
        for a, b in ((s, t), (t, s)):
            if a in links and b in pos:
                links[a].append(pos[b])
    angles = {}
    for o, points in links.items():
        if points:
            mx = sum(p[0] for p in points) / len(points) - c
            my = sum(p[1] for p in points) / len(points) - c
            angles[o] = math.atan2(my, mx) if (mx or my) else -math.pi / 2
        else:
            angles[o] = math.pi
    return angles


def network_layout(nodes: Sequence[Mapping], edges: Sequence[Mapping] = ()
                   ) -> tuple[dict[str, tuple[float, float]], float]:
    """Parties on an inner circle, counterparties on an outer one next to the parties they
    deal with; returns (positions, size)."""
    parties = sorted(str(n["id"]) for n in nodes if n["is_party"])
    others = [str(n["id"]) for n in nodes if not n["is_party"]]
    inner = 0.0 if len(parties) <= 1 else max(110.0, 26 * len(parties) / math.pi)
    outer = max(inner + 130.0, 34 * len(others) / math.pi)
    size = 2 * (outer + 90) if others else 2 * (inner + 90)
    c = size / 2
    pos = _ring(parties, inner, c, c, -math.pi / 2)
    preferred = _preferred_angles(others, edges, pos, c)
    others.sort(key=lambda o: (preferred[o], o))
    step = 2 * math.pi / max(len(others), 1)
    # the phase that best matches the preferred angles (circular mean of the offsets)
    sx = sum(math.cos(preferred[o] - k * step) for k, o in enumerate(others))
    sy = sum(math.sin(preferred[o] - k * step) for k, o in enumerate(others))
    phase = math.atan2(sy, sx) if (sx or sy) else -math.pi / 2
    pos.update(_ring(others, outer, c, c, phase))
    return pos, size


def _edge_path(p1: tuple[float, float], p2: tuple[float, float], r1: float,
               r2: float) -> tuple[str, tuple[float, float]]:
    """A slightly curved path from p1 to p2 trimmed by the node radii, and its midpoint."""
    (x1, y1), (x2, y2) = p1, p2
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    nx, ny = -uy, ux  # left normal: A->B and B->A curve to opposite sides
    bend = min(40.0, length * 0.15)
    cx, cy = (x1 + x2) / 2 + nx * bend, (y1 + y2) / 2 + ny * bend
    sx, sy = x1 + ux * r1, y1 + uy * r1
    ex, ey = x2 - ux * (r2 + 4), y2 - uy * (r2 + 4)
    mid = (0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey)
    return f"M{_f(sx)},{_f(sy)} Q{_f(cx)},{_f(cy)} {_f(ex)},{_f(ey)}", mid


def network_svg(packet: Mapping) -> str:
    """Parties and counterparties coloured by role, directed edges sized by USD."""
    nodes = network_nodes(packet)
    if not nodes:
        return empty("No money flows recorded.")
    edges = as_list(as_map(packet.get("network")).get("edges"))
    pos, size = network_layout(nodes, edges)
    max_usd = max((finite(e.get("total_usd")) for e in edges), default=0.0) or 1.0
    radius = {n["id"]: (13.0 if n["is_party"] else 9.0) for n in nodes}
    out = [f'<svg class="network" viewBox="0 0 {_f(size)} {_f(size)}" width="{_f(size)}" '
           f'height="{_f(size)}" role="img" aria-label="Money-flow diagram">',
           '<defs><marker id="net-arrow" viewBox="0 0 10 10" refX="8" refY="5" '
           'markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#566573"/></marker></defs>']
    ordered = sorted(edges, key=lambda e: (str(e.get("source")), str(e.get("target"))))
    labelled = len(ordered) <= EDGE_LABELS_MAX
    for e in ordered:
        out.append(_edge_svg(e, pos, radius, max_usd, labelled))
    for n in sorted(nodes, key=lambda n: (not n["is_party"], n["id"])):
        out.append(_node_svg(n, pos[n["id"]], radius[n["id"]]))
    out.append("</svg>")
    return f"<figure>{''.join(out)}{_role_legend(nodes)}</figure>{_edge_table(ordered)}"


def _edge_svg(edge: Mapping, pos: Mapping[str, tuple[float, float]],
              radius: Mapping[str, float], max_usd: float, labelled: bool) -> str:
    s, t = str(edge.get("source")), str(edge.get("target"))
    total = finite(edge.get("total_usd"))
    width = 1 + 7 * math.sqrt(max(total, 0.0) / max_usd)
    if s == t:  # a self-loop: a small circle above the node
        x, y = pos[s]
        return (f'<circle class="edge" cx="{_f(x)}" cy="{_f(y - radius[s] - 8)}" r="8" '
                f'fill="none" stroke="#566573" stroke-width="{_f(width)}"/>')
    path, (mx, my) = _edge_path(pos[s], pos[t], radius[s], radius[t])
    label = f"USD {total:,.2f} ({int(finite(edge.get('n')))}×)"
    title = f"<title>{esc(s)} → {esc(t)}: {esc(label)}</title>"
    text = (f'<text class="edge-label" x="{_f(mx)}" y="{_f(my)}" text-anchor="middle">'
            f"{esc(label)}</text>") if labelled else ""
    return (f'<path class="edge" d="{path}" fill="none" stroke="#566573" stroke-opacity="0.7" '
            f'stroke-width="{_f(width)}" marker-end="url(#net-arrow)">{title}</path>{text}')


def _node_svg(node: Mapping, xy: tuple[float, float], r: float) -> str:
    colour = ROLE_COLOURS.get(str(node["role"]), ROLE_COLOURS["unknown"])
    x, y = xy
    title = f"<title>{esc(node['label'])} ({esc(node['id'])}, {esc(node['role'])})</title>"
    return (f'<circle class="node" data-role="{esc(node["role"])}" cx="{_f(x)}" cy="{_f(y)}" '
            f'r="{_f(r)}" fill="{colour}" stroke="#17202a">{title}</circle>'
            f'<text x="{_f(x)}" y="{_f(y + r + 13)}" text-anchor="middle">'
            f"{esc(clean(node['label'], 26))}</text>")


def _role_legend(nodes: Sequence[Mapping]) -> str:
    roles = sorted({str(n["role"]) for n in nodes},
                   key=lambda r: (list(ROLE_COLOURS).index(r) if r in ROLE_COLOURS else 99, r))
    spans = "".join(
        f'<span><span class="swatch" style="background:'
        f'{ROLE_COLOURS.get(r, ROLE_COLOURS["unknown"])}"></span>{esc(r.replace("_", " "))}</span>'
        for r in roles)
    return f'<p class="legend">{spans}<span>arrow width = USD total</span></p>'


def _edge_table(edges: Sequence[Mapping]) -> str:
    if not edges:
        return empty("No edges.")
    rows = [[esc(e.get("source")), esc(e.get("target")), f'<span class="num">{esc(e.get("n"))}'
             "</span>", f'<span class="num">USD {finite(e.get("total_usd")):,.2f}</span>']
            for e in edges]
    return table(["From", "To", "Payments", "Total (USD)"], rows)


# --- map SVG ------------------------------------------------------------------------------


def map_points(packet: Mapping) -> tuple[list[dict[str, Any]], list[Mapping]]:
    """Locations with coordinates (from the packet or the gazetteer) and those without."""
    placed, missing = [], []
    for loc in as_list(packet.get("locations")):
        lat, lon, approx = loc.get("lat"), loc.get("lon"), loc.get("approximate") is True
        if not _valid_latlon(lat, lon):
            found = locate(_s(loc.get("city")), _s(loc.get("region")), _s(loc.get("country")))
            if found is None:
                missing.append(loc)
                continue
            lat, lon, approx = found[0], found[1], True
        placed.append({"loc": loc, "lat": float(lat), "lon": float(lon), "approx": approx})
    return placed, missing


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _valid_latlon(lat: Any, lon: Any) -> bool:
    if isinstance(lat, bool) or isinstance(lon, bool):
        return False
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def _bbox(points: Sequence[Mapping]) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) around the points with a margin, at least 4° wide."""
    lons, lats = [p["lon"] for p in points], [p["lat"] for p in points]
    pad_lon = max((max(lons) - min(lons)) * 0.15, 2.0)
    pad_lat = max((max(lats) - min(lats)) * 0.15, 2.0)
    return (max(min(lons) - pad_lon, -180.0), min(max(lons) + pad_lon, 180.0),
            max(min(lats) - pad_lat, -90.0), min(max(lats) + pad_lat, 90.0))


def _grid_step(span: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 15, 30, 45, 60):
        if span / step <= 8:
            return float(step)
    return 90.0


def _deg(value: float, pos: str, neg: str) -> str:
    hemi = pos if value > 0 else neg if value < 0 else ""
    return f"{abs(value):g}°{hemi}"


def map_svg(packet: Mapping) -> str:
    """Equirectangular plot of the locations, zoomed to the points, with a lat/lon grid."""
    placed, missing = map_points(packet)
    if not placed and not missing:
        return empty("No locations recorded.")
    parts = [_map_plot(placed) if placed else empty("No location could be placed on the map.")]
    approx = [p["loc"] for p in placed if p["approx"]]
    if approx:
        parts.append("<h3>Placed approximately (country centroid or gazetteer)</h3>"
                     + _location_table(approx))
    if missing:
        parts.append("<h3>Locations without coordinates</h3>" + _location_table(missing))
    parts.append("<h3>All locations</h3>" + _location_table([p["loc"] for p in placed]
                                                           + list(missing)))
    return "".join(parts)


def _map_plot(placed: Sequence[Mapping]) -> str:
    lon0, lon1, lat0, lat1 = _bbox(placed)
    scale = min(900 / (lon1 - lon0), 520 / (lat1 - lat0))
    width, height = (lon1 - lon0) * scale, (lat1 - lat0) * scale

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * scale, (lat1 - lat) * scale

    out = [f'<svg class="map" viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" '
           f'height="{_f(height)}" role="img" aria-label="Map of locations">']
    out += _grid(lon0, lon1, lat0, lat1, xy, width, height)
    max_n = max((finite(p["loc"].get("n")) for p in placed), default=0.0) or 1.0
    for p in sorted(placed, key=lambda p: (-finite(p["loc"].get("n")), p["lat"], p["lon"])):
        x, y = xy(p["lat"], p["lon"])
        r = 4 + 12 * math.sqrt(max(finite(p["loc"].get("n")), 0.0) / max_n)
        name = ", ".join(str(v) for v in (p["loc"].get("city"), p["loc"].get("region"),
                                           p["loc"].get("country")) if v)
        dash = ' stroke-dasharray="3,2"' if p["approx"] else ""
        out.append(f'<circle class="place" cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" '
                   f'fill="#cb4335" fill-opacity="0.55" stroke="#78281f"{dash}>'
                   f"<title>{esc(name)}: {esc(p['loc'].get('n'))} transactions, USD "
                   f"{finite(p['loc'].get('total_usd')):,.2f}</title></circle>"
                   f'<text x="{_f(x + r + 3)}" y="{_f(y + 4)}">{esc(clean(name, 30))}</text>')
    out.append("</svg>")
    return f"<figure>{''.join(out)}</figure>"


def _grid(lon0: float, lon1: float, lat0: float, lat1: float, xy: Any, width: float,
          height: float) -> list[str]:
    out = []
    step = _grid_step(max(lon1 - lon0, lat1 - lat0))
    lon = math.ceil(lon0 / step) * step
    while lon <= lon1:
        x, _ = xy(lat0, lon)
        out.append(f'<line x1="{_f(x)}" y1="0" x2="{_f(x)}" y2="{_f(height)}" stroke="#e5e8e8"/>'
                   f'<text class="axis" x="{_f(x + 2)}" y="{_f(height - 4)}">'
                   f"{_deg(round(lon, 2), 'E', 'W')}</text>")
        lon += step
    lat = math.ceil(lat0 / step) * step
    while lat <= lat1:
        _, y = xy(lat, lon0)
        out.append(f'<line x1="0" y1="{_f(y)}" x2="{_f(width)}" y2="{_f(y)}" stroke="#e5e8e8"/>'
                   f'<text class="axis" x="2" y="{_f(y - 2)}">{_deg(round(lat, 2), "N", "S")}'
                   "</text>")
        lat += step
    return out


def _location_table(locations: Sequence[Mapping]) -> str:
    rows = [[esc(loc.get("city")), esc(loc.get("region")), esc(loc.get("country")),
             esc(loc.get("lat")), esc(loc.get("lon")), f'<span class="num">{esc(loc.get("n"))}'
             "</span>", f'<span class="num">USD {finite(loc.get("total_usd")):,.2f}</span>']
            for loc in locations]
    return table(["City", "Region", "Country", "Lat", "Lon", "Transactions", "Total (USD)"], rows)


# --- evidence, reasons, narrative, filing, stamp ------------------------------------------


def render_evidence(packet: Mapping) -> str:
    """Every transaction field; amounts exactly as booked, with their currency."""
    txns = as_list(packet.get("transactions"))
    if not txns:
        return section("evidence", empty("No evidence transactions."))
    extra = sorted({str(k) for t in txns for k in t if k not in TXN_FIELDS})
    fields = list(TXN_FIELDS) + extra
    rows = [[_txn_cell(t, f) for f in fields] for t in txns]
    totals, bad = currency_totals(txns)
    summary = ", ".join(money(v, k) for k, v in totals.items()) or "none"
    note = f" ({bad} unreadable amount(s) not counted)" if bad else ""
    return section("evidence", f"<p>{len(txns)} transaction(s); exact totals by currency: "
                               f"{esc(summary)}{esc(note)}.</p>" + table(fields, rows))


def _txn_cell(txn: Mapping, field: str) -> str:
    value = txn.get(field)
    if field == "amount":
        return f'<span class="num">{esc(value)} {esc(txn.get("currency"))}</span>'
    if field == "amount_usd":
        return f'<span class="num">{finite(value):,.2f}</span>'
    return esc(value)


def render_reasons(packet: Mapping) -> str:
    """Each alert: typology and title, band, sentence, observed/params tables, evidence ids."""
    alerts = as_list(packet.get("alerts"))
    if not alerts:
        return section("reasons", empty("No alerts."))
    blocks = []
    for a in alerts:
        band = clean(a.get("band"), 20).lower()
        blocks.append(
            f'<article class="alert"><h3>{esc(a.get("typology_id"))} — {esc(a.get("title"))} '
            f'<span class="badge band-{esc(band)}">{esc(band)}</span></h3>'
            f'<p>{esc(a.get("sentence"))}</p>'
            + kv_table([("Alert", a.get("alert_id")), ("Indicator", a.get("indicator")),
                        ("Family", a.get("family")), ("Account", a.get("account_id")),
                        ("Window", f"{a.get('window_start') or ''} – {a.get('window_end') or ''}"),
                        ("Weight", a.get("weight")), ("FinCEN subtypes", a.get("fincen_subtypes")),
                        ("goAML indicators", a.get("goaml_indicators"))])
            + "<h4>Observed</h4>" + kv_table(sorted(as_map(a.get("observed")).items()))
            + "<h4>Parameters</h4>" + kv_table(sorted(as_map(a.get("params")).items()))
            + f"<h4>Evidence</h4>{bullet_list(as_strings(a.get('evidence_txn_ids')))}</article>")
    return section("reasons", "".join(blocks))


def narrative_of(packet: Mapping) -> Mapping:
    """The packet's narrative when it has text, else a fresh draft."""
    given = as_map(packet.get("narrative"))
    return given if str(given.get("text") or "").strip() else draft_narrative(packet)


def render_narrative(packet: Mapping) -> str:
    """The draft narrative, one <p> per paragraph."""
    text = str(narrative_of(packet).get("text") or "")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    body = "".join(f"<p>{esc(p)}</p>" for p in paragraphs) or empty("No narrative.")
    return section("narrative", f'<div class="narrative">{body}</div>'
                   f'<p class="muted">{len(text):,} characters (FinCEN limit 17,000).</p>')


def render_filing(packet: Mapping) -> str:
    """Key term, FinCEN subtypes, goAML indicators, totals, dates."""
    f = as_map(packet.get("filing"))
    rows = [("Key term", f.get("key_term") or KEY_TERM),
            ("FinCEN subtypes", ", ".join(as_strings(f.get("fincen_subtypes")))),
            ("goAML indicators", ", ".join(as_strings(f.get("goaml_indicators")))),
            ("Total suspicious (USD)", f.get("total_suspicious_usd")),
            ("From", f.get("from_date")), ("To", f.get("to_date")),
            ("Continuing report", bool(f.get("continuing"))),
            ("Prior document number", f.get("prior_document_number"))]
    return section("filing", kv_table(rows))


def render_stamp(packet: Mapping) -> str:
    """Version, catalogue hash, parameters, inputs with sha256, runs, built_at, redaction."""
    stamp, redaction = as_map(packet.get("stamp")), as_map(packet.get("redaction"))
    rows = [("txflags version", stamp.get("txflags_version")),
            ("Catalogue hash", stamp.get("catalogue_hash")), ("Built at", stamp.get("built_at")),
            ("Packet version", packet.get("packet_version")),
            ("Redaction profile", redaction.get("profile")),
            ("Pseudonymised fields", ", ".join(as_strings(redaction.get("pseudonymised"))))]
    inputs = [[esc(i.get("path")), f"<code>{esc(i.get('sha256'))}</code>"]
              for i in as_list(stamp.get("inputs"))]
    params = sorted(as_map(stamp.get("parameters")).items())
    return section("stamp", kv_table(rows)
                   + "<h3>Parameters</h3>" + kv_table(params)
                   + "<h3>Inputs</h3>" + (table(["Path", "sha256"], inputs) if inputs
                                          else empty("No inputs recorded."))
                   + f"<h3>Runs</h3>{bullet_list(as_strings(stamp.get('runs')))}")


# --- the page -----------------------------------------------------------------------------


def _nav(has_notice: bool) -> str:
    ids = ["summary"] + (["victim-notice"] if has_notice else []) + list(SECTIONS[1:])
    items = "".join(f'<li><a href="#{i}">{esc(TITLES[i])}</a></li>' for i in ids)
    return f'<nav aria-label="Sections"><ol>{items}</ol></nav>'


def render_html(packet: Mapping) -> str:
    """The whole packet as one offline HTML5 document."""
    case = as_map(packet.get("case"))
    case_id = clean(case.get("case_id"), 80) or "case"
    profile = clean(as_map(packet.get("redaction")).get("profile"), 40) or "unspecified"
    notice = render_victim_notice(packet)
    body = [
        render_summary(packet), notice, render_parties(packet),
        section("timeline", timeline_svg(packet)), section("network", network_svg(packet)),
        section("map", map_svg(packet)), render_evidence(packet), render_reasons(packet),
        render_narrative(packet), render_filing(packet), render_stamp(packet),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Case packet {esc(case_id)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Case packet {esc(case_id)}</h1>"
        f'<p class="muted">{esc(KEY_TERM)} · draft for FIU analysts · redaction profile: '
        f"{esc(profile)}</p></header>{_nav(bool(notice))}<main>{''.join(body)}</main>"
        "</body></html>\n"
    )
