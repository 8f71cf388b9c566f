"""``detect`` finishes a stage's typologies in two passes (strongest windows first, then their
evidence from the hit accounts' rows, cut from the row context once): the hits, evidence
included, are those of one plan per typology."""

from __future__ import annotations

import json
from datetime import timedelta

import polars as pl

from txflags import engine
from txflags.catalogue import load_catalogue
from txflags.engine import detect, plan
from txflags.schema import Hits

CAT = load_catalogue()


def test_two_pass_finish_equals_one_plan_per_typology(small):
    tx = pl.read_parquet(small / "transactions.parquet")
    acc = pl.read_parquet(small / "accounts.parquet")
    plans, _, _ = plan(tx, acc, CAT)
    one = pl.concat([Hits.empty(), *(p.collect() for p in plans.values())])
    two = detect(tx, acc, CAT).hits
    assert two.height > 0 and two["evidence_txn_ids"].list.len().sum() > 0
    assert two.equals(one.sort("typology_id", "account_id"))


def test_evidence_from_the_cut_rows_equals_the_full_rows(small, monkeypatch):
    """A nightly run (each typology reads from its own first day) cuts the hit accounts' rows
    out once; not cutting (the hit accounts are most accounts) gives the same evidence."""
    tx = pl.read_parquet(small / "transactions.parquet")
    acc = pl.read_parquet(small / "accounts.parquet")
    report_from = tx["ts"].max().date() - timedelta(days=3)  # type: ignore[union-attr]
    cut = detect(tx, acc, CAT, report_from=report_from).hits
    monkeypatch.setattr(engine, "FOCUS_MAX_SHARE", 0.0)  # never cut
    full = detect(tx, acc, CAT, report_from=report_from).hits
    assert cut["evidence_txn_ids"].list.len().sum() > 0
    assert cut.equals(full)


def test_reported_measures_are_those_of_the_strongest_window(small):
    """Measures that decide nothing (not in ``where``, a band or the ranking) are computed for
    the strongest window only, from the rows that are its evidence."""
    from txflags.partials import window_measures

    basket = CAT.get("lifestyle.upkeep_basket")
    assert "n_merchants" not in window_measures(basket)
    assert "n_txn" in window_measures(basket)
    tx = pl.read_parquet(small / "transactions.parquet")
    acc = pl.read_parquet(small / "accounts.parquet")
    hits = detect(tx, acc, CAT).hits
    reports_total = {t.id for t in CAT if "total_usd" in t.detection["measures"]
                     and "total_usd" not in window_measures(t)}
    checked = 0
    amounts = dict(zip(tx["txn_id"], tx["amount_usd"], strict=True))
    for tid, observed, evidence in hits.filter(pl.col("typology_id").is_in(reports_total)).select(
            "typology_id", "observed", "evidence_txn_ids").iter_rows():
        total = pl.Series([amounts[i] for i in evidence], dtype=pl.Float64).sum()
        assert abs(json.loads(observed)["total_usd"] - total) < 1e-4, tid
        checked += 1
    assert checked >= 10
