"""Per-account daily aggregates in the store: same hits as the rows, atomic, idempotent."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from txflags import scan as scan_mod
from txflags import spans
from txflags.catalogue import load_catalogue
from txflags.engine import detect
from txflags.partials import partial_key
from txflags.scan import scan

CAT = load_catalogue()


def test_partial_keys_cover_the_summable_typologies():
    keys = {t.id: partial_key(t) for t in CAT}
    assert keys["cash.structuring"] and keys["lodging.travel_to_offend"]
    # features that read other days or accounts, and medians, need the rows
    for tid in ("funnel.pass_through_sweep", "remittance.shared_beneficiary",
                "remittance.many_senders_small", "kyc.staff_observed"):
        assert keys[tid] is None
    # a parameter override is another configuration: its own aggregates
    other = CAT.with_overrides({"cash.structuring": {"n_min": 3}}).get("cash.structuring")
    assert partial_key(other) != keys["cash.structuring"]


def test_windows_from_daily_parts_equal_rows(small):
    tx = pl.read_parquet(small / "transactions.parquet")
    acc = pl.read_parquet(small / "accounts.parquet")
    report_from = tx["ts"].max().date() - timedelta(days=1)  # type: ignore[union-attr]
    rows = detect(tx, acc, CAT, report_from=report_from).hits
    first = detect(tx, acc, CAT, report_from=report_from, partials={})
    assert first.hits.equals(rows) and first.partials
    stored = {
        k: (frame.filter(pl.col("day") < report_from).lazy(),
            {d for d in days if d < report_from})
        for k, (frame, days) in first.partials.items()
    }
    again = detect(tx, acc, CAT, report_from=report_from, partials=stored)
    assert again.hits.equals(rows)


def _night(path: Path, small: Path, store: Path, out: Path):
    return scan([path], small / "accounts.parquet", store=store, out=out, models=False)


def _agg_rows(store: Path) -> list[tuple]:
    db = sqlite3.connect(store / "txflags.sqlite")
    try:
        return db.execute("SELECT * FROM aggregates ORDER BY agg_key, day").fetchall()
    finally:
        db.close()


def test_nightly_scan_reads_stored_aggregates_same_alerts(small, two_nights, tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    _night(two_nights[0], small, a, tmp_path / "a1")
    n2 = _night(two_nights[1], small, a, tmp_path / "a2")
    info = n2.summary["daily_aggregates"]
    assert info["typologies"] > 10 and info["days_read"] > 0 and info["days_saved"] > 0
    # the same nights, the second one computing every day from the rows
    _night(two_nights[0], small, b, tmp_path / "b1")
    monkeypatch.setattr(scan_mod, "_stored_partials", lambda *a, **k: {})
    rows = _night(two_nights[1], small, b, tmp_path / "b2")
    assert n2.alerts.height > 0
    assert n2.alerts.drop("run_id").equals(rows.alerts.drop("run_id"))


def test_aggregates_commit_with_the_batch_and_rerun_adds_nothing(small, two_nights, tmp_path):
    store = tmp_path / "s"
    _night(two_nights[0], small, store, tmp_path / "o1")
    _night(two_nights[1], small, store, tmp_path / "o2")
    before = _agg_rows(store)
    files = sorted(p.relative_to(store) for p in (store / "aggregates").rglob("*.parquet"))
    named = sorted({Path(r[2]) for r in before if r[2] is not None})
    assert before and files == named  # every file is named by a row, no leftovers
    keys_days = [(r[0], r[1]) for r in before]
    assert len(keys_days) == len(set(keys_days))  # one holder per (key, day)
    again = _night(two_nights[1], small, store, tmp_path / "o3")
    assert again.summary["batch_already_appended"]
    assert again.summary["daily_aggregates"]["days_saved"] == 0
    assert _agg_rows(store) == before


def test_failed_scan_leaves_no_aggregates(small, two_nights, tmp_path, monkeypatch):
    store = tmp_path / "s"
    _night(two_nights[0], small, store, tmp_path / "o1")
    before = _agg_rows(store)
    files = sorted((store / "aggregates").rglob("*"))

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scan_mod, "json_writer", boom)
    with pytest.raises(RuntimeError):
        _night(two_nights[1], small, store, tmp_path / "o2")
    assert _agg_rows(store) == before
    assert sorted((store / "aggregates").rglob("*")) == files


def test_windows_ending_tonight_use_parts_only_for_short_batches(small, monkeypatch):
    tx = pl.read_parquet(small / "transactions.parquet")
    acc = pl.read_parquet(small / "accounts.parquet")
    report_from = tx["ts"].max().date() - timedelta(days=20)  # type: ignore[union-attr]
    # a long batch rolls over the rows but still saves every day's parts
    res = detect(tx, acc, CAT, report_from=report_from, partials={})
    assert res.hits.equals(detect(tx, acc, CAT, report_from=report_from).hits)
    frame, days = res.partials[partial_key(CAT.get("cash.structuring"))]  # type: ignore[index]
    assert min(days) == report_from - timedelta(days=spans.window_of(
        CAT.get("cash.structuring")) - 1)  # type: ignore[operator]


def test_late_rows_replace_the_days_they_touch(small, tmp_path, monkeypatch):
    """A batch with late rows for days already aggregated recomputes (and replaces) the complete
    days it touches, never a day it sees only part of; the next night reads the parts and finds
    what the rows find."""
    tx = pl.read_parquet(small / "transactions.parquet")
    last = tx["ts"].max().date()  # type: ignore[union-attr]
    day = pl.col("ts").dt.date()
    late = tx.filter(day == last - timedelta(days=4)).head(40)
    rest = tx.join(late.select("txn_id"), on="txn_id", how="anti")
    batches = [rest.filter(day < last - timedelta(days=5)),
               rest.filter((day >= last - timedelta(days=5)) & (day < last)), late,
               rest.filter(day == last)]
    paths = []
    for i, frame in enumerate(batches, start=1):
        p = tmp_path / f"b{i}.parquet"
        frame.write_parquet(p)
        paths.append(p)
    store = tmp_path / "s"
    for i, p in enumerate(paths[:2]):
        _night(p, small, store, tmp_path / f"o{i}")
    before = {(r[0], r[1]): r[3] for r in _agg_rows(store)}
    third = _night(paths[2], small, store, tmp_path / "o3")
    after = {(r[0], r[1]): r[3] for r in _agg_rows(store)}
    touched = {k for k in after if after[k] == third.summary["batch_hash"]}
    assert touched and all(k in before for k in touched)  # replaced, not added beside
    assert all(d < (last - timedelta(days=4)).isoformat() for _, d in touched)  # complete days
    named = sorted({Path(r[2]) for r in _agg_rows(store) if r[2] is not None})
    files = sorted(p.relative_to(store) for p in (store / "aggregates").rglob("*.parquet"))
    assert files == named  # superseded parts no row names any more are gone
    fourth = _night(paths[3], small, store, tmp_path / "o4")
    assert fourth.summary["daily_aggregates"]["days_read"] > 0
    # the same nights, the last one from the rows
    other = tmp_path / "t"
    for i, p in enumerate(paths[:3]):
        _night(p, small, other, tmp_path / f"p{i}")
    monkeypatch.setattr(scan_mod, "_stored_partials", lambda *a, **k: {})
    rows = _night(paths[3], small, other, tmp_path / "p4")
    assert fourth.alerts.height > 0
    assert fourth.alerts.drop("run_id").equals(rows.alerts.drop("run_id"))
