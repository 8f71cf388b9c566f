"""Schema, truth integrity, prevalence, coverage and realism of generated datasets."""

from __future__ import annotations

import polars as pl
import pytest

from txflags.schema import Accounts, Transactions
from txflags.synthetic import FAMILIES, LOOKALIKE_PREVALENCE, SCHEME_PREVALENCE, TYPOLOGIES
from txflags.synthetic.cities import USD_RATES
from txflags.synthetic.legit import VICTIM_FRIEND
from txflags.synthetic.truth import ROLES


def test_schema_conformance(default_set):
    t, a = default_set["transactions"], default_set["accounts"]
    assert Transactions.validate(t) == []
    assert Accounts.validate(a) == []
    assert t["source_file"].null_count() == t.height
    assert t["txn_id"].is_unique().all()
    assert a["account_id"].is_unique().all()
    assert (t["amount"] > 0).all()


def test_amount_usd_consistent_with_amount(default_set):
    t = default_set["transactions"]
    rate = t["currency"].replace_strict(USD_RATES, return_dtype=pl.Float64)
    expected = t["amount"].cast(pl.Float64) * rate
    assert ((expected - t["amount_usd"]).abs() < 1e-6 * (1 + expected)).all()
    assert set(t["currency"].unique()) <= set(USD_RATES)


def test_sorted_by_ts_within_chunk_and_ids_follow_file_order(default_set):
    t = default_set["transactions"]
    assert t["txn_id"].is_sorted()
    chunk = t["txn_id"].str.slice(1, 5)
    for _, g in t.group_by(chunk):
        assert g["ts"].is_sorted()


def test_truth_references_existing_rows(default_set):
    t, a = default_set["transactions"], default_set["accounts"]
    ta, tt = default_set["truth_accounts"], default_set["truth_transactions"]
    assert ta.height == a.height
    assert set(ta["account_id"]) == set(a["account_id"])
    assert set(tt["txn_id"]) <= set(t["txn_id"])
    assert set(tt["typology_id"]) <= set(TYPOLOGIES)
    assert set(tt["instance_id"]) <= set(ta["instance_id"].drop_nulls())
    pos = ta.filter(pl.col("label") == 1)
    assert set(pos["role"]) <= set(ROLES)
    assert pos["instance_id"].null_count() == 0
    assert (pos["typology_ids"].list.len() > 0).all()
    # lookalikes are benign and name what they resemble
    look = ta.filter(pl.col("lookalike").is_not_null())
    assert (look["label"] == 0).all()
    assert set(look["family"]) <= set(FAMILIES)
    # every transaction-level truth row sits on an account of the same instance
    owners = tt.join(t.select("txn_id", "account_id"), on="txn_id").join(
        ta.select("account_id", pl.col("instance_id").alias("acc_inst")), on="account_id"
    )
    assert (owners["instance_id"] == owners["acc_inst"]).all()


def test_transfers_between_customers_appear_on_both_sides(default_set):
    t = default_set["transactions"]
    ids = set(t["account_id"].unique())
    internal = t.filter(pl.col("counterparty_id").is_in(list(ids)))
    assert internal.height > 0
    key = ["ts"]  # amounts may differ when the two sides book different currencies
    outs = internal.filter(pl.col("direction") == "out").select(
        *key, src="account_id", dst="counterparty_id"
    )
    ins = internal.filter(pl.col("direction") == "in").select(
        *key, dst="account_id", src="counterparty_id"
    )
    assert outs.height == ins.height
    assert outs.sort([*key, "src", "dst"]).equals(
        ins.select(outs.columns).sort([*key, "src", "dst"])
    )
    usd = (
        internal.group_by("ts", "direction")
        .agg(pl.col("amount_usd").sum())
        .pivot("direction", index="ts", values="amount_usd")
    )
    assert ((usd["out"] - usd["in"]).abs() <= 0.01 * usd["out"] + 0.02).all()


def test_every_family_and_lookalike_present(large_set):
    ta, tt = large_set["truth_accounts"], large_set["truth_transactions"]
    pos = ta.filter(pl.col("label") == 1)
    fams = {x.split(".")[0] for typs in pos["typology_ids"].to_list() for x in typs}
    assert fams == set(FAMILIES)
    assert set(pos["family"]) >= set(FAMILIES) - {"kyc"}
    # plus the friends who happen to pay a victim (named in the truth, no prevalence of their own)
    assert set(ta["lookalike"].drop_nulls()) == set(LOOKALIKE_PREVALENCE) | {VICTIM_FRIEND}
    schemes = {i.rsplit("-", 2)[0] for i in pos["instance_id"]}
    assert schemes == set(SCHEME_PREVALENCE)
    assert {"controller", "victim", "buyer", "facilitator"} <= set(pos["role"])
    # a good majority of the catalogue is injected with evidence rows
    assert len(set(tt["typology_id"])) >= 30


def test_prevalence_within_tolerance(large_set):
    ta = large_set["truth_accounts"]
    n = ta.height
    pos_share = (ta["label"] == 1).mean()
    expected = sum(SCHEME_PREVALENCE.values())
    assert expected * 0.6 <= pos_share <= expected * 1.4, pos_share
    planted = pl.col("lookalike").is_not_null() & (pl.col("lookalike") != VICTIM_FRIEND)
    look_share = ta.select(planted.mean()).item()
    expected_l = sum(LOOKALIKE_PREVALENCE.values())
    assert expected_l * 0.75 <= look_share <= expected_l * 1.25, look_share
    per = ta.filter(planted).group_by("lookalike").len()
    for name, count in per.iter_rows():
        exp = LOOKALIKE_PREVALENCE[name] * n
        assert exp * 0.4 <= count <= exp * 1.8 + 4, (name, count, exp)


def test_victims_are_swept_to_their_controller(large_set):
    t, ta = large_set["transactions"], large_set["truth_accounts"]
    tt = large_set["truth_transactions"]
    sweeps = tt.filter(pl.col("typology_id") == "funnel.pass_through_sweep").join(
        t.select("txn_id", "account_id", "counterparty_id", "direction"), on="txn_id"
    )
    assert sweeps.height > 0
    assert (sweeps["direction"] == "out").all()
    roles = ta.select("account_id", "role")
    j = sweeps.join(roles, on="account_id").join(
        roles.rename({"account_id": "counterparty_id", "role": "cp_role"}), on="counterparty_id"
    )
    assert (j["role"] == "victim").all() and (j["cp_role"] == "controller").all()


def _local_hour(t: pl.DataFrame, a: pl.DataFrame) -> pl.DataFrame:
    b = t.join(a.select("account_id", "timezone"), on="account_id")
    parts = [
        g.with_columns(h=pl.col("ts").dt.convert_time_zone(tz).dt.hour())
        for (tz,), g in b.group_by("timezone", maintain_order=True)
    ]
    return pl.concat(parts)


# Documented in README (Synthetic data → Realism): shares of rows of ordinary individuals.
REALISM = {
    "cash": (0.04, 0.12),
    "night": (0.03, 0.12),
    "p2p": (0.05, 0.14),
    "remittance": (0.0005, 0.01),
}


def test_benign_statistics_in_documented_ranges(default_set):
    t, a, ta = default_set["transactions"], default_set["accounts"], default_set["truth_accounts"]
    plain = ta.filter((pl.col("label") == 0) & pl.col("lookalike").is_null()).join(
        a.filter(pl.col("customer_type") == "individual").select("account_id"), on="account_id"
    )
    b = _local_hour(t.join(plain.select("account_id"), on="account_id"), a)
    stats = b.select(
        cash=pl.col("channel").is_in(["cash", "atm"]).mean(),
        night=((pl.col("h") >= 22) | (pl.col("h") < 6)).mean(),
        p2p=(pl.col("channel") == "p2p").mean(),
        remittance=(pl.col("channel") == "money_transfer").mean(),
    ).row(0, named=True)
    for k, (lo, hi) in REALISM.items():
        assert lo <= stats[k] <= hi, (k, stats[k])


@pytest.mark.parametrize("typ", ["lodging.motel_stacking", "funnel.many_new_p2p_payers"])
def test_scheme_signals_exceed_catalogue_thresholds(large_set, typ):
    """Injected evidence meets the TYPOLOGIES.md default on at least most instances."""
    t, tt = large_set["transactions"], large_set["truth_transactions"]
    ev = (
        tt.filter(pl.col("typology_id") == typ)
        .join(
            t.select("txn_id", "account_id", "merchant", "counterparty_id", "direction"),
            on="txn_id",
        )
        .filter(pl.col("direction") == "in" if typ.startswith("funnel") else True)
    )
    per = ev.group_by("account_id").agg(
        n=pl.len(), props=pl.col("merchant").n_unique(), payers=pl.col("counterparty_id").n_unique()
    )
    if typ == "lodging.motel_stacking":  # >= 6 stays at >= 3 properties in 30 days (60-day set)
        ok = (per["n"] >= 6) & (per["props"] >= 3)
    else:  # >= 15 distinct payers in 30 days
        ok = per["payers"] >= 15
    assert per.height > 0 and ok.mean() >= 0.8
