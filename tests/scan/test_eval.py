"""eval on a hand-made truth/alerts pair, numbers computed by hand."""

from __future__ import annotations

import json

import polars as pl
import pytest

from txflags.errors import InputError
from txflags.evaluate import evaluate


@pytest.fixture
def pair(tmp_path):
    truth = tmp_path / "truth"
    out = tmp_path / "out"
    truth.mkdir()
    out.mkdir()
    ids = [f"A{i}" for i in range(1, 11)]
    fam = {"A1": "remittance", "A2": "lodging", "A3": "remittance"}
    typ = {
        "A1": ["remittance.many_senders_small"],
        "A2": ["lodging.motel_stacking"],
        "A3": ["remittance.many_senders_small", "cash.structuring"],
    }
    pl.DataFrame(
        {
            "account_id": ids,
            "label": [1 if a in fam else 0 for a in ids],
            "family": [fam.get(a) for a in ids],
            "typology_ids": [typ.get(a, []) for a in ids],
        },
        schema_overrides={"label": pl.Int8, "typology_ids": pl.List(pl.String)},
    ).write_parquet(truth / "truth_accounts.parquet")
    pl.DataFrame(
        {
            "txn_id": ["t1", "t2", "t3"],
            "typology_id": ["remittance.many_senders_small"] * 2 + ["cash.structuring"],
        }
    ).write_parquet(truth / "truth_transactions.parquet")
    pl.DataFrame(
        {
            "typology_id": [
                "remittance.many_senders_small",
                "remittance.many_senders_small",
                "lodging.motel_stacking",
                "cash.structuring",
            ],
            "family": ["remittance", "remittance", "lodging", "cash"],
            "account_id": ["A1", "A4", "A5", "A3"],
            "evidence_txn_ids": [["t1", "t9"], ["t8"], ["t7"], ["t3"]],
        }
    ).write_parquet(out / "alerts.parquet")
    pl.DataFrame(
        {"account_id": ["A1", "A3", "A5", "A4"], "flagged": [True, True, True, False]}
    ).write_parquet(out / "risk.parquet")
    return truth, out


def _row(rows, key):
    return next(r for r in rows if r["key"] == key)


def test_account_level_numbers(pair):
    r = evaluate(*pair)
    assert r["accounts"] == 10 and r["positives"] == 3
    m = _row(r["by_typology"], "remittance.many_senders_small")
    assert (m["tp"], m["fp"], m["fn"]) == (1, 1, 1)
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["alerts_per_1k"] == 200
    m = _row(r["by_typology"], "lodging.motel_stacking")
    assert (m["tp"], m["fp"], m["fn"], m["precision"], m["recall"]) == (0, 1, 1, 0, 0)
    m = _row(r["by_typology"], "cash.structuring")
    assert (m["tp"], m["fp"], m["fn"], m["precision"], m["recall"]) == (1, 0, 0, 1, 1)
    # a typology in the catalogue that neither fired nor has positives: no precision, no recall
    m = _row(r["by_typology"], "crypto.large_stablecoin")
    assert m["precision"] is None and m["recall"] is None
    # family cash has a positive through A3's typology ids though A3's family is remittance
    cash = _row(r["by_family"], "cash")
    assert (cash["n_pos"], cash["tp"], cash["precision"], cash["recall"]) == (1, 1, 1, 1)
    rem = _row(r["by_family"], "remittance")
    assert (rem["tp"], rem["fp"], rem["fn"]) == (1, 1, 1)


def test_flagged_numbers(pair):
    r = evaluate(*pair)
    f = r["flagged"]
    assert (f["tp"], f["fp"], f["fn"]) == (2, 1, 1)
    assert f["precision"] == pytest.approx(2 / 3) and f["recall"] == pytest.approx(2 / 3)
    by = {x["key"]: x for x in r["flagged_by_family"]}
    assert by["remittance"]["recall"] == 1 and by["remittance"]["precision"] == 1
    assert by["lodging"]["recall"] == 0 and by["lodging"]["precision"] == 0
    assert by["cash"]["recall"] == 1 and by["cash"]["precision"] == 1


def test_transaction_level(pair):
    r = evaluate(*pair)
    m = _row(r["transactions_by_typology"], "remittance.many_senders_small")
    assert (m["tp"], m["fp"], m["fn"]) == (1, 2, 1)  # evidence {t1, t9, t8} vs truth {t1, t2}
    m = _row(r["transactions_by_typology"], "lodging.motel_stacking")
    assert (m["tp"], m["fp"], m["fn"]) == (0, 1, 0)


def test_files_or_folders_and_bad_paths(pair, tmp_path):
    truth, out = pair
    a = evaluate(truth, out)
    b = evaluate(truth / "truth_accounts.parquet", out / "alerts.parquet")
    assert a["by_typology"] == b["by_typology"]
    with pytest.raises(InputError):
        evaluate(tmp_path / "nope", out)


def test_eval_cli(pair, cli):
    truth, out = pair
    r = cli("eval", "--truth", str(truth), "--alerts", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["flagged"]["tp"] == 2
    r = cli("eval", "--truth", str(truth), "--alerts", str(out))
    assert r.returncode == 0 and "flagged" in r.stderr
    r = cli("eval", "--truth", str(truth / "missing"), "--alerts", str(out))
    assert r.returncode == 2 and "Traceback" not in r.stderr
