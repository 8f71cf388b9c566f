"""The Markdown packet: sections, tables that cannot be broken by packet text, empty packets."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings

from tests.packets.test_html import SCRIPT, hostile_packets
from txflags.packets.html import SECTIONS
from txflags.packets.markdown import cell, render_markdown
from txflags.packets.model import example_packet


def _tables(md: str) -> list[list[str]]:
    """Blocks of consecutive table lines."""
    blocks, current = [], []
    for line in md.split("\n"):
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _columns(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def assert_tables_intact(md: str) -> None:
    for block in _tables(md):
        width = _columns(block[0])
        assert re.fullmatch(r"\|(---\|)+", block[1]), block[1]
        assert all(_columns(line) == width for line in block), block


def test_sections_in_order():
    md = render_markdown(example_packet())
    ids = re.findall(r'<a id="([^"]+)"></a>', md)
    assert ids == ["summary", "victim-notice", *SECTIONS[1:]]
    assert md.startswith("# Case packet HT-3F9A0C12D4")


def test_victim_notice_and_roles():
    md = render_markdown(example_packet())
    assert "may be victims of human trafficking" in md
    assert "Do not list them as a subject" in md
    assert "possible victim — not a subject" in md


def test_network_and_locations_as_tables():
    md = render_markdown(example_packet())
    assert ("| ACC-C1 (likely_controller) | Josefa Núñez & Hijos \\[CP-MX-0042\\] "
            "(counterparty) | 1 | USD 1,200.00 |") in md
    assert "| Houston | TX | US | 29.76 | -95.37 | packet | 6 |" in md
    assert "<svg" not in md


def test_amounts_exact_with_currency():
    md = render_markdown(example_packet())
    assert "| 380.50 USD |" in md
    assert "exact totals by currency: USD 2,975.99" in md


def test_cells_escape_pipes_newlines_and_html():
    assert cell("a|b\nc") == "a\\|b<br>c"
    assert cell(SCRIPT) == "\\<script\\>alert(1)\\</script\\>"
    assert cell("_x_ money_transfer __") == "\\_x\\_ money_transfer \\_\\_"
    p = example_packet()
    p["parties"][0]["kyc"]["name"] = "Pipe | Name\nSecond line"
    p["transactions"][0]["counterparty_name"] = "x|y|z"
    p["alerts"][0]["observed"] = {"a|b": "c\r\nd"}
    md = render_markdown(p)
    assert_tables_intact(md)
    assert "Pipe \\| Name<br>Second line" in md


def test_empty_packets():
    p = example_packet()
    p.update(transactions=[], locations=[], timeline=[], alerts=[], parties=[],
             network={"nodes": [], "edges": []})
    md = render_markdown(p)
    assert "_No locations recorded._" in md and "_No money flows recorded._" in md
    assert_tables_intact(md)
    for bare in ({}, {"case": None}):
        md = render_markdown(bare)
        assert all(f'<a id="{s}"></a>' in md for s in SECTIONS)


def test_deterministic():
    assert render_markdown(example_packet()) == render_markdown(example_packet())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_packets())
def test_hostile_packets(packet):
    md = render_markdown(packet)
    assert SCRIPT not in md
    assert_tables_intact(md)
    assert all(f'<a id="{s}"></a>' in md for s in SECTIONS)
    assert render_markdown(packet) == md


def test_html_and_markdown_carry_the_same_victim_notice():
    """Both formats render one notice: its headline, every victim note and every name (each
    escaped as its format escapes packet text)."""
    from txflags.packets.html import esc, render_html
    from txflags.packets.markdown import inline
    from txflags.packets.narrative import victim_notice

    packet = example_packet()
    notice = victim_notice(packet)
    assert notice is not None and notice.notes and notice.names
    page, md = render_html(packet), render_markdown(packet)
    for fact in [notice.headline, notice.NOT_SUBJECTS, *notice.notes, *notice.names]:
        assert esc(fact) in page and inline(fact) in md
