"""Engine: determinism, referential integrity, overrides, streaming equality, skipping."""

import json
import random

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from txflags.catalogue import load_catalogue
from txflags.engine import detect
from txflags.fixtures import build_frames, read_yaml
from txflags.schema import Hits

CAT = load_catalogue()


def all_fixture_frames():
    ts, acs = [], []
    for t in CAT:
        tx, ac = build_frames(read_yaml(t.fixture_path))
        prefix = t.id.replace(".", "_") + "_"
        ren = [pl.col(c).map_elements(lambda v, p=prefix: None if v is None else p + v,
                                      return_dtype=pl.String).alias(c)
               for c in ("account_id", "customer_id", "counterparty_id")]
        ts.append(tx.with_columns(*ren, (pl.lit(prefix) + pl.col("txn_id")).alias("txn_id")))
        acs.append(ac.with_columns(*ren[:2]))
    return pl.concat(ts, how="vertical_relaxed"), pl.concat(acs, how="vertical_relaxed")


TX, AC = all_fixture_frames()
BASE = detect(TX, AC, CAT)


def test_hits_schema_and_explanations():
    assert Hits.validate(BASE.hits) == []
    assert BASE.hits.height > 30
    for row in BASE.hits.iter_rows(named=True):
        assert row["sentence"] and "?" not in row["sentence"]
        assert json.loads(row["observed"]) and isinstance(json.loads(row["params"]), dict)


def test_hits_reference_existing_accounts_and_transactions():
    accts = set(AC["account_id"])
    ids = set(TX["txn_id"])
    assert set(BASE.hits["account_id"]) <= accts
    for ev, acct in zip(BASE.hits["evidence_txn_ids"], BASE.hits["account_id"], strict=True):
        assert set(ev) <= ids
        owners = set(TX.filter(pl.col("txn_id").is_in(ev.to_list()))["account_id"])
        assert owners <= {acct}


def test_streaming_equals_in_memory():
    a = detect(TX, AC, CAT, engine="in-memory").hits
    b = detect(TX, AC, CAT, engine="streaming").hits
    assert a.equals(b)
    assert a.equals(BASE.hits)


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rnd: random.Random):
    order = list(range(TX.height))
    rnd.shuffle(order)
    aorder = list(range(AC.height))
    rnd.shuffle(aorder)
    res = detect(TX[order], AC[aorder], CAT)
    assert res.hits.equals(BASE.hits)


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=2, max_value=200))
def test_override_changes_only_that_typology(senders_min):
    tid = "remittance.many_senders_small"
    cat = CAT.with_overrides({tid: {"senders_min": senders_min}})
    res = detect(TX, AC, cat).hits
    other = pl.col("typology_id") != tid
    assert res.filter(other).equals(BASE.hits.filter(other))
    mine = res.filter(~other)
    assert all(json.loads(p)["senders_min"] == senders_min for p in mine["params"])
    assert all(json.loads(o)["n_senders"] >= senders_min for o in mine["observed"])


def test_missing_optional_column_skips_not_fails():
    res = detect(TX.with_columns(pl.lit(None, pl.String).alias("memo")), AC, CAT)
    assert "remittance.cover_description" in res.skipped
    assert "memo" in res.skipped["remittance.cover_description"]
    assert "remittance.cover_description" not in set(res.hits["typology_id"])
