"""Issue 6 done-when, end to end: scan -> cases list -> packets export in every format, with
stable case ids across re-runs, continuing activity, redaction and validated filings."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import date
from pathlib import Path

import pytest

from tests.support import run_cli
from txflags.cases.book import list_cases, set_disposition, show_case
from txflags.packets.build import build_packet
from txflags.packets.filer import EXAMPLE_PATH
from txflags.packets.validate import validate_fincen, validate_goaml
from txflags.scan import scan
from txflags.synthetic import SynthConfig, generate

DAYS = [f"2026-01-{d:02d}" for d in range(1, 29)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """28 generated days: days 1-24 scanned as one batch, then 25 and 26 night by night."""
    root = tmp_path_factory.mktemp("cases")
    generate(SynthConfig(customers=700, days=28, seed=11, prevalence_scale=3.0), root / "synth",
             per_day=True)
    day = root / "synth" / "days"
    acc = root / "synth" / "accounts.parquet"
    store = root / "store"
    first = [day / f"transactions-{d}.parquet" for d in DAYS[:24]]
    scan(first, acc, store=store, out=root / "out1", models=False)
    cases_1 = list_cases(store, ["open", "reviewing", "filed", "closed-false-positive",
                                 "closed-no-filing"])
    tables_1 = _tables(store)
    scan(first, acc, store=store, out=root / "out1b", models=False)  # the same batch again
    tables_rerun = _tables(store)
    filed = cases_1[0]["case_id"]  # the analyst files the most urgent case on day 24
    set_disposition(store, filed, "filed", on=date(2026, 1, 24),
                    document_number="31000000000042", note="SAR filed")
    for d in DAYS[24:27]:
        scan([day / f"transactions-{d}.parquet"], acc, store=store, out=root / f"out-{d}",
             models=False)
    return {"root": root, "store": store, "cases_1": cases_1, "tables_1": tables_1,
            "tables_rerun": tables_rerun, "filed": filed}


def _tables(store: Path) -> dict[str, list]:
    db = sqlite3.connect(store / "txflags.sqlite")
    try:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                for t in ("cases", "case_parties", "case_alerts", "case_links", "case_activity")}
    finally:
        db.close()


def test_scan_opens_cases_and_a_rerun_changes_nothing(world):
    assert len(world["cases_1"]) >= 3
    assert world["tables_rerun"] == world["tables_1"]
    ids = [c["case_id"] for c in world["cases_1"]]
    assert len(ids) == len(set(ids))


def test_later_nights_append_to_the_same_cases(world):
    after = {c["case_id"] for c in list_cases(world["store"])}
    assert {c["case_id"] for c in world["cases_1"]} <= after
    db = sqlite3.connect(world["store"] / "txflags.sqlite")
    kinds = {k for (k,) in db.execute("SELECT kind FROM case_activity")}
    accounts = db.execute("SELECT account_id, count(DISTINCT case_id) FROM case_parties "
                          "GROUP BY 1 HAVING count(DISTINCT case_id) > 1").fetchall()
    assert "continuing" in kinds
    assert accounts == []  # an account belongs to one case: no duplicates across nights


def test_likely_victims_are_never_subjects(world):
    for c in list_cases(world["store"]):
        for p in show_case(world["store"], c["case_id"])["parties"]:
            if p["role"] == "likely_victim":
                assert not p["is_subject"]


def test_cli_list_show_and_disposition(world):
    store = str(world["store"])
    listed = json.loads(run_cli("cases", "list", "--store", store, "--json").stdout)
    assert [c["priority"] for c in listed] == list(range(1, len(listed) + 1))
    top = listed[0]["case_id"]
    shown = json.loads(run_cli("cases", "show", top, "--store", store, "--json").stdout)
    assert shown["case_id"] == top and shown["parties"]
    # a person's screen shows ids and reasons, never names, phones or addresses (no PII in logs)
    screen = run_cli("cases", "show", top, "--store", store)
    pii = {str(p["kyc"].get(k)) for p in shown["parties"]
           for k in ("name", "phone", "address", "email", "id_number") if p["kyc"].get(k)}
    assert pii and not [v for v in pii if v in screen.stdout + screen.stderr]
    proc = run_cli("cases", "disposition", listed[-1]["case_id"], "closed-false-positive",
                   "--store", store, "--note", "known tanda", "--on", "2026-01-27", "--json")
    assert proc.returncode == 0, proc.stderr
    closed = json.loads(proc.stdout)
    assert closed["suppressed_until"] == "2026-04-27" and closed["events"][-1]["note"] == \
        "known tanda"
    assert run_cli("cases", "show", "HT-NOPE", "--store", store).returncode == 2
    assert run_cli("cases", "disposition", top, "maybe", "--store", store).returncode == 2


def test_packets_export_every_format(world, tmp_path: Path):
    store = str(world["store"])
    top = list_cases(world["store"])[0]["case_id"]
    for fmt, name in (("json", "p.json"), ("html", "p.html"), ("md", "p.md")):
        proc = run_cli("packets", "export", top, "--store", store, "-f", fmt,
                       "-o", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
    packet = json.loads((tmp_path / "p.json").read_text())
    assert packet["case"]["case_id"] == top and packet["transactions"]
    assert "HUMAN TRAFFICKING FIN-2020-A008" in packet["narrative"]["text"]
    html = (tmp_path / "p.html").read_text()
    for section in ("summary", "parties", "timeline", "network", "map", "evidence", "reasons",
                    "narrative", "filing", "stamp"):
        assert f'id="{section}"' in html
    proc = run_cli("packets", "export", "--top", "3", "--store", store, "-f", "fincen-sar",
                   "--filer", str(EXAMPLE_PATH), "-o", str(tmp_path / "sar.xml"))
    assert proc.returncode == 0, proc.stderr
    xml = (tmp_path / "sar.xml").read_bytes()
    assert validate_fincen(xml) == [] and xml.count(b"<fc2:Activity ") == 3
    proc = run_cli("packets", "export", "--top", "2", "--store", store, "-f", "goaml",
                   "--filer", str(EXAMPLE_PATH), "-o", str(tmp_path / "goaml"))
    assert proc.returncode == 0, proc.stderr
    files = sorted((tmp_path / "goaml").glob("*.xml"))
    assert len(files) == 2 and all(validate_goaml(f.read_bytes()) == [] for f in files)
    proc = run_cli("packets", "export", top, "--store", store, "-f", "fincen-sar",
                   "--filer", str(EXAMPLE_PATH), "--attachments", "-o", str(tmp_path / "a.xml"))
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert sorted(n.rsplit(".", 1)[1] for n in zf.namelist()) == ["csv", "xml"]


def test_filings_need_a_filer_config(world, tmp_path: Path):
    top = list_cases(world["store"])[0]["case_id"]
    proc = run_cli("packets", "export", top, "--store", str(world["store"]), "-f", "goaml",
                   "-o", str(tmp_path / "x.xml"))
    assert proc.returncode == 2 and "filer-template" in proc.stderr
    assert not (tmp_path / "x.xml").exists()
    several = run_cli("packets", "export", "--top", "2", "--store", str(world["store"]), "-f",
                      "html", "-o", str(tmp_path / "two.html"))
    assert several.returncode == 2 and "folder" in several.stderr
    template = run_cli("packets", "filer-template")
    assert template.returncode == 0 and "legal_name" in template.stdout


def _identifiers(packet: dict) -> set[str]:
    out = set()
    for p in packet["parties"]:
        out |= {p["account_id"], p["customer_id"] or ""}
        out |= {str(v) for k, v in p["kyc"].items()
                if k in ("name", "phone", "email", "address", "id_number") and v}
    out |= {t["counterparty_id"] for t in packet["transactions"] if t["counterparty_id"]}
    return {x for x in out if x}


def test_redacted_packet_holds_none_of_the_source_identifiers(world, tmp_path: Path):
    store = world["store"]
    top = list_cases(store)[0]["case_id"]
    original = build_packet(store, top)
    ids = _identifiers(original)
    assert ids
    proc = run_cli("packets", "export", top, "--store", str(store), "-f", "json", "--redact",
                   "external", "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "r.json").read_text()
    assert [i for i in ids if i in text] == []
    for fmt in ("html", "md"):
        run_cli("packets", "export", top, "--store", str(store), "-f", fmt, "--redact",
                "external", "-o", str(tmp_path / f"r.{fmt}"))
        body = (tmp_path / f"r.{fmt}").read_text()
        assert [i for i in ids if i in body] == []
    # the store's key gives the same pseudonyms every time: exports stay comparable
    run_cli("packets", "export", top, "--store", str(store), "-f", "json", "--redact",
            "external", "-o", str(tmp_path / "r2.json"))
    first, second = json.loads(text), json.loads((tmp_path / "r2.json").read_text())
    assert [p["account_id"] for p in first["parties"]] == [
        p["account_id"] for p in second["parties"]]
    run_cli("packets", "export", top, "--store", str(store), "-f", "json", "--redact", "fiu",
            "-o", str(tmp_path / "f.json"))
    fiu = json.loads((tmp_path / "f.json").read_text())
    subjects = [p["account_id"] for p in original["parties"] if p["is_subject"]]
    assert all(s in {p["account_id"] for p in fiu["parties"]} for s in subjects)


def test_packet_build_is_deterministic(world):
    from datetime import UTC, datetime

    top = list_cases(world["store"])[0]["case_id"]
    at = datetime(2026, 2, 1, tzinfo=UTC)
    assert build_packet(world["store"], top, built_at=at) == build_packet(
        world["store"], top, built_at=at)


def test_activity_after_a_filing_makes_a_continuing_sar(world, tmp_path: Path):
    case = show_case(world["store"], world["filed"])
    assert case["status"] == "filed" and case["filed_on"] == "2026-01-24"
    assert case["review_due"] == "2026-04-24" and case["continuing_sar_due"] == "2026-05-24"
    assert [a["kind"] for a in case["activity"]][0] == "opened"
    assert "continuing" in [a["kind"] for a in case["activity"]]
    packet = build_packet(world["store"], world["filed"])
    assert packet["filing"]["continuing"]
    assert packet["filing"]["prior_document_number"] == "31000000000042"
    proc = run_cli("packets", "export", world["filed"], "--store", str(world["store"]), "-f",
                   "fincen-sar", "--filer", str(EXAMPLE_PATH), "-o", str(tmp_path / "c.xml"))
    assert proc.returncode == 0, proc.stderr
    xml = (tmp_path / "c.xml").read_bytes()
    assert b"ContinuingActivityReportIndicator" in xml and b"31000000000042" in xml
    assert b"InitialReportIndicator" not in xml
