"""The HTML packet: sections, escaping, offline-only, charts, empty packets, hostile text."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from txflags.packets.html import SECTIONS, render_html
from txflags.packets.model import VICTIM_NOTE, example_packet

SCRIPT = "<script>alert(1)</script>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}

hostile_text = st.one_of(
    st.sampled_from([SCRIPT, "a|b|c", "Josefa Núñez & Hijos", "\"'&<>", "https://evil.test/x",
                     "line\nbreak\r\n", "李 小红", "محمد", "", " ", "x" * 300, "]]>--><!--"]),
    st.text(max_size=40),
)


@st.composite
def hostile_packets(draw: Any) -> dict[str, Any]:
    """The example packet with hostile strings everywhere text comes from the data."""
    p = copy.deepcopy(example_packet())
    p["narrative"] = {}
    for party in p["parties"]:
        party["kyc"]["name"] = draw(hostile_text)
        party["role_reasons"] = [draw(hostile_text)]
    for txn in p["transactions"]:
        txn["counterparty_name"] = draw(hostile_text)
        txn["city"] = draw(hostile_text)
        txn["amount"] = draw(st.sampled_from(["0.10", "0.20", "1e5", "NaN", "12.345", "-3.00"]))
        txn["currency"] = draw(st.sampled_from(["USD", "EUR", "MXN", "<b>"]))
    for alert in p["alerts"]:
        alert["sentence"] = draw(hostile_text)
        alert["title"] = draw(hostile_text)
        alert["observed"] = {draw(hostile_text): draw(hostile_text)}
    for node in p["network"]["nodes"]:
        node["label"] = draw(hostile_text)
    for loc in p["locations"]:
        loc["city"] = draw(hostile_text)
        if draw(st.booleans()):
            loc["lat"] = loc["lon"] = None
    p["summary"] = draw(hostile_text)
    p["case"]["case_id"] = draw(hostile_text)
    if draw(st.booleans()):
        p["transactions"] = p["transactions"][: draw(st.integers(0, 2))]
        p["locations"], p["timeline"] = [], []
        p["network"] = {"nodes": [], "edges": []}
    return p


class TagChecker(HTMLParser):
    """Records start tags, attributes and nesting errors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()


def parse(page: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    return checker


def assert_well_formed(page: str) -> TagChecker:
    checker = parse(page)
    assert checker.errors == []
    assert checker.stack == []
    return checker


def assert_offline(checker: TagChecker) -> None:
    tags = [t for t, _ in checker.starts]
    assert "script" not in tags and "link" not in tags and "img" not in tags
    for _, attrs in checker.starts:
        for key in ("src", "href", "xlink:href", "action"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (key, value)
        assert "url(http" not in (attrs.get("style") or "")


def test_every_section_in_order_with_victim_notice_after_summary():
    page = render_html(example_packet())
    ids = re.findall(r'<section[^>]* id="([^"]+)"', page)
    assert ids == ["summary", "victim-notice", *SECTIONS[1:]]
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page


def test_victim_notice_carries_the_note_and_never_calls_victims_suspects():
    page = render_html(example_packet())
    notice = re.search(r'<section[^>]*id="victim-notice".*?</section>', page, re.S).group(0)
    assert "Do not list them as a subject" in notice
    assert "may be victims of human trafficking" in notice
    assert "suspect" not in notice.lower()
    assert "punish" not in page.lower()


def test_no_victim_notice_without_victims():
    p = example_packet()
    p["parties"] = [p["parties"][0]]
    assert 'id="victim-notice"' not in render_html(p)


def test_well_formed_and_offline():
    checker = assert_well_formed(render_html(example_packet()))
    assert_offline(checker)
    tags = [t for t, _ in checker.starts]
    assert tags.count("section") == len(SECTIONS) + 1
    assert tags.count("svg") == 3


def test_script_in_names_appears_only_escaped():
    p = example_packet()
    p["parties"][0]["kyc"]["name"] = SCRIPT
    p["network"]["nodes"][0]["label"] = SCRIPT
    p["transactions"][0]["counterparty_name"] = SCRIPT
    p["alerts"][0]["sentence"] = SCRIPT
    p["locations"][0]["city"] = SCRIPT
    page = render_html(p)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    checker = assert_well_formed(page)
    assert_offline(checker)


def test_no_external_url_except_escaped_packet_text():
    p = example_packet()
    p["parties"][0]["kyc"]["email"] = "https://evil.test/a.js"
    page = render_html(p)
    stripped = page.replace("https://evil.test/a.js", "")
    assert "http://" not in stripped and "https://" not in stripped
    assert_offline(parse(page))


def test_amounts_shown_exactly_as_booked():
    p = example_packet()
    p["transactions"][0]["amount"] = "12345678.12345678"
    page = render_html(p)
    assert "12345678.12345678 USD" in page
    assert "380.50 USD" in page


def test_network_has_one_circle_per_node_and_arrowheads():
    p = example_packet()
    page = render_html(p)
    assert page.count('<circle class="node"') == len(p["network"]["nodes"])
    assert page.count('marker-end="url(#net-arrow)"') == len(p["network"]["edges"])
    p["network"]["edges"].append({"source": "ACC-C1", "target": "CP-NEW", "n": 1,
                                  "total_usd": 5.0})
    assert render_html(p).count('<circle class="node"') == len(p["network"]["nodes"]) + 1


def _svg(page: str, css: str) -> str:
    return re.search(rf'<svg class="{css}".*?</svg>', page, re.S).group(0)


def test_map_points_inside_the_viewbox():
    p = example_packet()
    p["locations"].append({"city": "Tijuana", "region": "BCN", "country": "MX", "lat": None,
                           "lon": None, "n": 2, "total_usd": 10.0})
    p["locations"].append({"city": "Nowhere", "region": None, "country": "ZZ", "lat": None,
                           "lon": None, "n": 1, "total_usd": 1.0})
    page = render_html(p)
    svg = _svg(page, "map")
    _, _, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg)
                           .group(1).split())
    points = [(float(x), float(y)) for x, y in
              re.findall(r'<circle class="place" cx="([-\d.]+)" cy="([-\d.]+)"', svg)]
    assert len(points) == 3  # Houston, Dallas, Tijuana from the gazetteer
    for x, y in points:
        assert 0 <= x <= width and 0 <= y <= height
    assert "Locations without coordinates" in page and "Nowhere" in page


def test_approximate_locations_are_dashed_and_listed():
    p = example_packet()
    p["locations"][1]["approximate"] = True  # as build_packet marks a country centroid
    page = render_html(p)
    assert _svg(page, "map").count('stroke-dasharray="3,2"') == 1
    assert "Placed approximately" in page


def test_timeline_has_lanes_dots_and_alert_markers():
    p = example_packet()
    svg = _svg(render_html(p), "timeline")
    assert svg.count('<circle class="txn"') == len(p["transactions"])
    assert svg.count('<polygon class="alert"') == 1
    assert "2026-03-10" in svg


def test_empty_packet_variants_render():
    p = example_packet()
    p.update(transactions=[], locations=[], timeline=[], alerts=[], parties=[],
             network={"nodes": [], "edges": []})
    page = render_html(p)
    assert_well_formed(page)
    assert "No locations recorded" in page and "No money flows recorded" in page
    for bare in ({}, {"case": {}}, {"network": None, "locations": None}):
        page = render_html(bare)
        assert_well_formed(page)
        assert all(f'id="{s}"' in page for s in SECTIONS)


def test_single_date_and_single_point():
    p = example_packet()
    p["timeline"] = p["timeline"][:1]
    p["locations"] = p["locations"][:1]
    page = render_html(p)
    assert_well_formed(page)
    assert '<circle class="place"' in page and '<circle class="txn"' in page


def test_deterministic():
    assert render_html(example_packet()) == render_html(example_packet())


def test_uses_packet_narrative_when_present_else_drafts():
    p = example_packet()
    assert "Who: ..." in render_html(p)
    p["narrative"] = {}
    page = render_html(p)
    assert "HUMAN TRAFFICKING FIN-2020-A008." in page and "Marco Rossi" in page


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_packets())
def test_hostile_packets_render_well_formed_and_offline(packet):
    page = render_html(packet)
    checker = assert_well_formed(page)
    assert_offline(checker)
    assert SCRIPT not in page
    assert all(f'id="{s}"' in page for s in SECTIONS)
    assert render_html(packet) == page
    if any(p.get("victim_note") == VICTIM_NOTE for p in packet["parties"]):
        assert 'id="victim-notice"' in page
