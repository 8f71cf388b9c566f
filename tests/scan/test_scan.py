"""End-to-end scan: outputs, idempotence, history across nights, atomicity, overrides."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from txflags import scan as scan_mod
from txflags.catalogue import load_catalogue
from txflags.engine import detect
from txflags.errors import InputError
from txflags.scan import scan
from txflags.schema import Accounts
from txflags.store import Store

from .conftest import txn_frame

LOOK_AHEAD = {"remittance.shared_beneficiary", "network.shared_device", "cash.prepaid_loading"}
OUTPUTS = ("alerts.parquet", "risk.parquet", "quarantine.parquet", "summary.json")


def _run(data: Path, store: Path, out: Path, **kw):
    return scan(
        [data / "transactions.parquet" if data.is_dir() else data],
        (data if data.is_dir() else data.parent) / "accounts.parquet"
        if "accounts" not in kw
        else kw.pop("accounts"),
        store=store,
        out=out,
        **kw,
    )


def _snapshot(*dirs: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(d)): p.read_bytes()
        for d in dirs
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


def test_end_to_end_matches_detect(small, tmp_path):
    r = _run(small, tmp_path / "store", tmp_path / "out")
    for name in OUTPUTS:
        assert (tmp_path / "out" / name).is_file()
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    c = s["counts"]
    assert c["rows_in"] == c["rows_kept"] + c["rows_quarantined"] and s["reconciled"]
    assert c["history_rows_appended"] == c["rows_kept"] and c["history_rows_skipped"] == 0
    assert all(why.startswith("needs column") for why in s["typologies_skipped"].values())
    assert len(s["typologies_run"]) + len(s["typologies_skipped"]) == len(load_catalogue())
    # one night over the whole period reports exactly what a direct detect finds
    direct = detect(
        pl.scan_parquet(small / "transactions.parquet"),
        pl.scan_parquet(small / "accounts.parquet"),
        load_catalogue(),
    ).hits
    assert r.alerts.height == direct.height == c["alerts"] > 0
    assert r.alerts["alert_id"].n_unique() == r.alerts.height
    assert set(r.alerts.columns) >= {"alert_id", "run_id", "typology_id", "evidence_txn_ids"}
    # risk: one row per account with a signal; victim-side accounts are never called suspects
    assert r.risk["account_id"].n_unique() == r.risk.height
    ruled = r.risk.filter(pl.col("n_alerts") > 0)  # the rest: anomaly >= report_min, no rule hit
    assert ruled.height == r.alerts["account_id"].n_unique()
    assert (r.risk.filter(pl.col("n_alerts") == 0)["anomaly_score"] >= 0.9).all()
    assert r.risk["flagged"].sum() == c["accounts_flagged"] > 0
    victims = r.alerts.filter(pl.col("role_hint") == "victim")["account_id"].unique()
    roles = r.risk.filter(pl.col("account_id").is_in(victims.implode()))["role_hint"]
    assert roles.len() and (roles == "possible_victim").all()
    assert Store(tmp_path / "store").counts()["history_rows"] == c["rows_kept"]


def test_rerun_same_batch_is_a_noop(small, tmp_path):
    store, out = tmp_path / "store", tmp_path / "out"
    first = _run(small, store, out)
    hist = _snapshot(store / "history")
    counts = Store(store).counts()
    second = _run(small, store, out)
    assert second.summary["batch_already_appended"]
    assert second.summary["counts"]["history_rows_appended"] == 0
    assert _snapshot(store / "history") == hist
    after = Store(store).counts()
    assert after["alerts"] == counts["alerts"] and after["history_rows"] == counts["history_rows"]
    assert after["runs"] == counts["runs"] + 1
    assert first.alerts.drop("run_id").equals(second.alerts.drop("run_id"))
    assert first.risk.equals(second.risk)
    drop = ("run_id", "seconds", "batch_already_appended", "batch_first_run_id", "models",
            "cases", "daily_aggregates")  # daily_aggregates: how the run computed, a re-run
    # reads what the first stored
    s1 = {k: v for k, v in first.summary.items() if k not in drop}
    s2 = {k: v for k, v in second.summary.items() if k not in drop}
    # the models replay the batch from the state it was learned from, and save nothing new
    m1, m2 = dict(first.summary["models"]), dict(second.summary["models"])
    assert m1.pop("state_saved") and m2.pop("state_saved") is None
    assert not m1.pop("replayed_last_batch") and m2.pop("replayed_last_batch")
    assert m1 == m2
    # the first run opened the cases; the re-run opens, appends and touches none
    assert first.summary["cases"]["cases_touched"] > 0
    assert second.summary["cases"] == {"by_kind": {}, "cases_touched": 0}
    s1["counts"] = {k: v for k, v in s1["counts"].items() if not k.startswith("history")}
    s2["counts"] = {k: v for k, v in s2["counts"].items() if not k.startswith("history")}
    assert s1 == s2


def test_same_rows_in_a_new_file_are_skipped_by_txn_id(small, tmp_path):
    store = tmp_path / "store"
    _run(small, store, tmp_path / "o1")
    copy = tmp_path / "copy.parquet"
    pl.read_parquet(small / "transactions.parquet").reverse().write_parquet(copy)
    r = _run(copy, store, tmp_path / "o2", accounts=small / "accounts.parquet")
    assert not r.summary["batch_already_appended"]  # a different file: a new batch hash
    assert r.summary["counts"]["history_rows_appended"] == 0
    assert r.summary["counts"]["history_rows_skipped"] == r.summary["counts"]["rows_kept"]


def test_two_nights_report_only_the_new_night(small, nights, tmp_path):
    store = tmp_path / "store"
    acc = small / "accounts.parquet"
    n1 = _run(nights[0], store, tmp_path / "o1", accounts=acc)
    n2 = _run(nights[1], store, tmp_path / "o2", accounts=acc)
    assert n2.summary["counts"]["history_rows_appended"] == pl.read_parquet(nights[1]).height
    first_day = n2.summary["report_from"]
    assert (n2.alerts["window_end"].drop_nulls() >= first_day).all()
    # windowed alerts of night 1 are not raised again on night 2
    old = n1.alerts.filter(pl.col("window_end").is_not_null())["alert_id"]
    assert not n2.alerts.filter(pl.col("alert_id").is_in(old.implode()))["is_new"].any()
    # the two nights find every (typology, account) that the whole period finds at once, except
    # where a feature looks ahead: key_degree counts a beneficiary's customers over all the data,
    # so an account whose payment was on night 1 qualifies only once others pay on night 2, in a
    # window that ends on night 1 (known gap, see README "Scanning")
    full = _run(small, tmp_path / "s2", tmp_path / "o3")
    both = pl.concat([n1.alerts, n2.alerts]).select("typology_id", "account_id").unique()
    missed = full.alerts.select("typology_id", "account_id").join(
        both, on=["typology_id", "account_id"], how="anti"
    )
    assert set(missed["typology_id"]) <= LOOK_AHEAD


def _accounts(path: Path, ids: list[str]) -> Path:
    Accounts.conform(
        pl.DataFrame(
            {"account_id": ids, "customer_id": ids, "customer_type": ["individual"] * len(ids)}
        )
    ).collect().write_parquet(path)
    return path


def test_window_spanning_two_nights_needs_history(tmp_path):
    acc = _accounts(tmp_path / "accounts.parquet", ["A1", "A2"])
    n1 = tmp_path / "n1.parquet"
    n2 = tmp_path / "n2.parquet"
    txn_frame(
        [
            {"txn_id": "t1", "ts": "2026-03-01 15:00", "account_id": "A1", "amount_usd": 9500},
            {"txn_id": "t2", "ts": "2026-03-02 15:00", "account_id": "A1", "amount_usd": 9600},
            {"txn_id": "t3", "ts": "2026-03-02 16:00", "account_id": "A2", "amount_usd": 50},
        ]
    ).write_parquet(n1)
    txn_frame(
        [{"txn_id": "t4", "ts": "2026-03-04 15:00", "account_id": "A1", "amount_usd": 9700}]
    ).write_parquet(n2)
    over = {"cash.structuring": {"n_min": 3}}
    r1 = scan([n1], acc, store=tmp_path / "s", out=tmp_path / "o1", overrides=over)
    r2 = scan([n2], acc, store=tmp_path / "s", out=tmp_path / "o2", overrides=over)
    alone = scan([n2], acc, store=tmp_path / "fresh", out=tmp_path / "o3", overrides=over)
    pick = pl.col("typology_id") == "cash.structuring"
    assert r1.alerts.filter(pick).height == 0
    hit = r2.alerts.filter(pick)
    assert hit.height == 1 and hit["evidence_txn_ids"][0].to_list() == ["t1", "t2", "t4"]
    assert json.loads(hit["params"][0])["n_min"] == 3
    assert alone.alerts.filter(pick).height == 0


def test_failure_mid_write_leaves_store_and_out_unchanged(small, nights, tmp_path, monkeypatch):
    store, out = tmp_path / "store", tmp_path / "out"
    acc = small / "accounts.parquet"
    _run(nights[0], store, out, accounts=acc)
    before = _snapshot(store, out)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 5:  # some history parts renamed, others not; outputs untouched
            raise OSError("disk gone")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError):
        _run(nights[1], store, out, accounts=acc)
    monkeypatch.setattr(os, "replace", real)
    assert _snapshot(store, out) == before

    def bad_writer(frame):
        def write(p):
            raise RuntimeError("writer crashed")

        return write

    monkeypatch.setattr(scan_mod, "json_writer", bad_writer)
    with pytest.raises(RuntimeError):
        _run(nights[1], store, out, accounts=acc)
    monkeypatch.undo()
    assert _snapshot(store, out) == before
    # and the store still works: the same night now goes through
    r = _run(nights[1], store, out, accounts=acc)
    assert r.summary["counts"]["history_rows_appended"] > 0


def test_failure_while_publishing_outputs_restores_them(small, nights, tmp_path, monkeypatch):
    store, out = tmp_path / "store", tmp_path / "out"
    acc = small / "accounts.parquet"
    _run(nights[0], store, out, accounts=acc)
    before = _snapshot(store, out)
    n_parts = len(set(pl.read_parquet(nights[1])["ts"].dt.date().to_list()))
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == n_parts + 5:  # all parts, alerts backed up and replaced, risk backed up
            raise OSError("disk gone")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError):
        _run(nights[1], store, out, accounts=acc)
    monkeypatch.undo()
    assert _snapshot(store, out) == before


def test_set_changes_only_that_typology_and_is_recorded(small, tmp_path):
    base = _run(small, tmp_path / "s1", tmp_path / "o1")
    tuned = _run(
        small, tmp_path / "s2", tmp_path / "o2",
        overrides={"cash.structuring": {"n_min": 3}},
    )
    pick = pl.col("typology_id") == "cash.structuring"
    assert tuned.alerts.filter(pick).height < base.alerts.filter(pick).height
    params = tuned.alerts.filter(pick)["params"].map_elements(
        lambda s: json.loads(s)["n_min"], return_dtype=pl.Int64
    )
    assert (params == 3).all()
    keep = ["typology_id", "account_id", "window_start", "window_end", "observed", "params"]
    assert base.alerts.filter(~pick).select(keep).equals(tuned.alerts.filter(~pick).select(keep))
    run = Store(tmp_path / "s2").runs()[-1]
    assert json.loads(run["overrides"]) == {"cash.structuring": {"n_min": 3}}


def test_profile_file_sets_parameters_and_risk(small, tmp_path, cli):
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "parameters:\n  remittance.shared_beneficiary: {senders_min: 4}\n"
        "risk:\n  threshold: 1\n  families_min: 9\n"
    )
    r = cli(
        "scan", str(small / "transactions.parquet"), "--accounts", str(small / "accounts.parquet"),
        "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--profile", str(profile),
        "--set", "remittance.shared_beneficiary.senders_min=5", "--json",
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    alerts = pl.read_parquet(tmp_path / "o" / "alerts.parquet")
    risk = pl.read_parquet(tmp_path / "o" / "risk.parquet")
    sb = alerts.filter(pl.col("typology_id") == "remittance.shared_beneficiary")
    assert sb.height == 0 or all(json.loads(p)["senders_min"] == 5 for p in sb["params"])
    # threshold 1: every account with a signal scores >= 1 -> all flagged
    assert risk.height and risk["flagged"].all()
    assert summary["counts"]["accounts_flagged"] == risk.height
    run = Store(tmp_path / "s").runs()[-1]
    assert json.loads(run["risk_config"])["threshold"] == 1


def test_cli_exit_codes(small, tmp_path, cli):
    ok = cli(
        "scan", str(small / "transactions.parquet"), "--accounts", str(small / "accounts.parquet"),
        "--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"),
    )
    assert ok.returncode == 0, ok.stderr
    common = ["--accounts", str(small / "accounts.parquet"), "--store", str(tmp_path / "s"),
              "--out", str(tmp_path / "o")]
    bad_cases = [
        [str(tmp_path / "missing.csv"), *common],
        [str(small / "transactions.parquet"), *common, "--set", "cash.structuring.nope=1"],
        [str(small / "transactions.parquet"), *common, "--set", "cash.structuring.n_min=999"],
        [str(small / "transactions.parquet"), *common, "--set", "garbage"],
        [str(small / "transactions.parquet"), *common, "--mapping", "canonical-accounts"],
        [str(small / "transactions.parquet"), *common, "--profile", str(tmp_path / "none.yaml")],
    ]
    for args in bad_cases:
        r = cli("scan", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr and "error" in r.stderr.lower()


def test_bad_risk_profile_is_input_error(tmp_path):
    from txflags.scan import load_profile

    p = tmp_path / "p.yaml"
    p.write_text("risk: {threshhold: 3}\n")
    with pytest.raises(InputError, match="threshhold"):
        load_profile(p)


def test_bank_export_csv_through_a_mapping(small, tmp_path):
    from txflags.ingest import resolve_mapping
    from txflags.render import write_export

    mapping = resolve_mapping("synthetic-bank-export")
    csv = tmp_path / "export.csv"
    write_export(pl.read_parquet(small / "transactions.parquet"), mapping, csv)
    via_csv = scan(
        [csv], small / "accounts.parquet", store=tmp_path / "s1", out=tmp_path / "o1",
        mapping="synthetic-bank-export",
    )
    direct = _run(small, tmp_path / "s2", tmp_path / "o2")
    assert via_csv.summary["counts"]["rows_kept"] == direct.summary["counts"]["rows_kept"]
    keep = ["typology_id", "account_id", "window_end"]
    assert via_csv.alerts.select(keep).equals(direct.alerts.select(keep))
