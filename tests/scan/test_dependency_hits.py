"""Hits of the typologies others depend on, kept from earlier nights: a nightly scan computes
only tonight's windows of a dependency and reads the rest from the store; the alerts are those
of computing every window from rows. Gaps and other configurations fall back to the rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from txflags import scan as scan_mod
from txflags.catalogue import load_catalogue
from txflags.partials import hits_key
from txflags.scan import scan
from txflags.store import Store

CAT = load_catalogue()
DEPENDENCIES = {d for t in CAT for d in t.depends_on}
WINDOWED = {d for d in DEPENDENCIES if hits_key(CAT.get(d)) is not None}


def _night(path: Path, small: Path, store: Path, out: Path, **kw):
    return scan([path], small / "accounts.parquet", store=store, out=out, models=False, **kw)


def _tables(store: Path) -> tuple[list, list]:
    db = sqlite3.connect(store / "txflags.sqlite")
    try:
        return (db.execute("SELECT * FROM dependency_days ORDER BY 1, 2").fetchall(),
                db.execute("SELECT * FROM dependency_hits ORDER BY 1, 2, 3").fetchall())
    finally:
        db.close()


def _alerts(result) -> pl.DataFrame:
    return result.alerts.drop("run_id")


def test_second_night_reads_earlier_hits_and_finds_the_same_alerts(
    small, two_nights, tmp_path, monkeypatch
):
    _night(two_nights[0], small, tmp_path / "a", tmp_path / "a1")
    stored = _night(two_nights[1], small, tmp_path / "a", tmp_path / "a2")
    info = stored.summary["dependency_hits"]
    assert set(info["from_store"]) == WINDOWED and info["days_evaluated"] > 0
    assert set(info["from_rows"]) == DEPENDENCIES - WINDOWED  # account scope: no windows

    # the same nights, the second computing every dependency window from rows
    _night(two_nights[0], small, tmp_path / "b", tmp_path / "b1")
    monkeypatch.setattr(Store, "dependency_hits", lambda self, key, start, end: None)
    rows = _night(two_nights[1], small, tmp_path / "b", tmp_path / "b2")
    assert rows.summary["dependency_hits"]["from_store"] == []
    assert _alerts(stored).equals(_alerts(rows))
    second = {t.id for t in CAT if t.depends_on}
    assert stored.alerts.filter(pl.col("typology_id").is_in(list(second))).height > 0

    # and the stored hits matter: forgetting them loses second-stage alerts
    _night(two_nights[0], small, tmp_path / "c", tmp_path / "c1")
    nobody = pl.DataFrame(schema={"account_id": pl.String})
    monkeypatch.setattr(Store, "dependency_hits", lambda self, key, start, end: nobody)
    empty = _night(two_nights[1], small, tmp_path / "c", tmp_path / "c2")
    assert empty.alerts.height < stored.alerts.height


def test_other_parameters_or_a_missing_day_fall_back_to_rows(small, two_nights, tmp_path):
    # night 1 ran motel stacking with other parameters: no hits of tonight's configuration
    _night(two_nights[0], small, tmp_path / "s", tmp_path / "o1",
           overrides={"lodging.motel_stacking": {"n_min": 5}})
    night2 = _night(two_nights[1], small, tmp_path / "s", tmp_path / "o2")
    info = night2.summary["dependency_hits"]
    assert "lodging.motel_stacking" in info["from_rows"]
    assert "lodging.motel_stacking" not in info["from_store"] and info["from_store"]

    # a day of the span never evaluated (deleted here) is a gap too
    _night(two_nights[0], small, tmp_path / "t", tmp_path / "p1")
    key = hits_key(CAT.get("cash.night_atm_deposits"))
    db = sqlite3.connect(tmp_path / "t" / "txflags.sqlite")
    with db:
        days = [r[0] for r in db.execute(
            "SELECT day FROM dependency_days WHERE hit_key = ? ORDER BY day", (key,))]
        day = days[-10]  # well inside the 30-day window read tonight
        db.execute("DELETE FROM dependency_days WHERE hit_key = ? AND day = ?", (key, day))
    db.close()
    gap = _night(two_nights[1], small, tmp_path / "t", tmp_path / "p2")
    assert "cash.night_atm_deposits" in gap.summary["dependency_hits"]["from_rows"]


def test_dependency_hits_commit_with_the_run_and_a_rerun_adds_nothing(
    small, two_nights, tmp_path, monkeypatch
):
    store = tmp_path / "s"
    _night(two_nights[0], small, store, tmp_path / "o1")
    before = _tables(store)
    assert before[0] and before[1]

    def boom(*a, **k):
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(scan_mod, "json_writer", boom)
        with pytest.raises(RuntimeError):
            _night(two_nights[1], small, store, tmp_path / "o2")
    assert _tables(store) == before
    _night(two_nights[1], small, store, tmp_path / "o2")
    after = _tables(store)
    assert len(after[0]) > len(before[0])
    _night(two_nights[1], small, store, tmp_path / "o3")
    assert _tables(store) == after
