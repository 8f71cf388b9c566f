"""Determinism, per-day output, CSV, config validation and property tests over parameters."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from txflags.errors import InputError
from txflags.schema import Accounts, Transactions
from txflags.synthetic import SynthConfig, generate
from txflags.synthetic.config import parse_settings

FILES = ("transactions", "accounts", "truth_accounts", "truth_transactions")


def _bytes(d: Path) -> dict[str, bytes]:
    return {
        p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
    }


def test_same_seed_byte_identical_other_seed_differs(tmp_path):
    cfg = SynthConfig(customers=700, days=30, seed=11, chunk_customers=300)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    generate(SynthConfig(customers=700, days=30, seed=12, chunk_customers=300), tmp_path / "c")
    a, b, c = _bytes(tmp_path / "a"), _bytes(tmp_path / "b"), _bytes(tmp_path / "c")
    assert sorted(a) == [f"{f}.parquet" for f in sorted(FILES)]
    assert a == b
    assert a["transactions.parquet"] != c["transactions.parquet"]
    assert not list((tmp_path / "a").glob(".*"))  # no temp files left behind


def test_per_day_files_hold_the_same_rows(tmp_path):
    cfg = SynthConfig(customers=400, days=5, seed=2, chunk_customers=200)
    generate(cfg, tmp_path / "one")
    generate(cfg, tmp_path / "days", per_day=True)
    whole = pl.read_parquet(tmp_path / "one" / "transactions.parquet")
    files = sorted((tmp_path / "days" / "days").glob("transactions-*.parquet"))
    assert len(files) >= 5
    parts = []
    for f in files:
        df = pl.read_parquet(f)
        assert Transactions.validate(df) == []
        assert df.select(pl.col("ts").dt.date().unique()).to_series().to_list() == [
            date.fromisoformat(f.stem.removeprefix("transactions-"))
        ]
        assert df.select("ts", "txn_id").equals(df.select("ts", "txn_id").sort("ts", "txn_id"))
        parts.append(df)
    assert pl.concat(parts).sort("txn_id").equals(whole.sort("txn_id"))
    assert (
        _bytes(tmp_path / "one")["accounts.parquet"]
        == _bytes(tmp_path / "days")["accounts.parquet"]
    )


def test_csv_format(tmp_path):
    generate(SynthConfig(customers=200, days=5, seed=1), tmp_path, fmt="csv")
    t = pl.read_csv(tmp_path / "transactions.csv", infer_schema_length=0)
    assert t.columns == Transactions.names and t.height > 0
    ta = pl.read_csv(tmp_path / "truth_accounts.csv")
    assert "typology_ids" in ta.columns


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"customers": 0}, "customers"),
        ({"days": 0}, "days"),
        ({"noise": 1.5}, "noise"),
        ({"partial": -0.1}, "partial"),
        ({"prevalence": {"nope": 0.1}}, "unknown prevalence"),
        ({"prevalence": {"sex_ring": 0.9}}, "prevalence of sex_ring"),
        ({"prevalence_scale": 30.0}, "prevalence_scale"),
    ],
)
def test_config_rejects_bad_values(kw, msg):
    with pytest.raises(InputError, match=msg):
        SynthConfig(**kw)


def test_settings_and_profiles():
    cfg = SynthConfig().with_settings(
        parse_settings(["prevalence.sex_ring=0.01", "days=30", "start=2025-06-01", "noise=0"])
    )
    assert cfg.rates()["sex_ring"] == pytest.approx(0.01)
    assert (cfg.days, cfg.start, cfg.noise) == (30, date(2025, 6, 1), 0.0)
    with pytest.raises(InputError, match="unknown setting"):
        SynthConfig().with_settings({"bogus": 1})
    with pytest.raises(InputError, match="integer"):
        SynthConfig().with_settings({"days": "1.5"})
    with pytest.raises(InputError, match="key=value"):
        parse_settings(["oops"])


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    customers=st.integers(100, 600),
    days=st.integers(1, 40),
    seed=st.integers(0, 2**32),
    scale=st.sampled_from([0.0, 1.0, 5.0]),
    partial=st.floats(0, 1),
    evasion=st.floats(0, 1),
    noise=st.floats(0, 1),
    start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_any_valid_parameters_give_a_valid_dataset(
    tmp_path_factory, customers, days, seed, scale, partial, evasion, noise, start
):
    d = tmp_path_factory.mktemp("h")
    cfg = SynthConfig(
        customers=customers,
        days=days,
        seed=seed,
        prevalence_scale=scale,
        partial=partial,
        evasion=evasion,
        noise=noise,
        start=start,
        chunk_customers=250,
    )
    s = generate(cfg, d)
    t = pl.read_parquet(d / "transactions.parquet")
    a = pl.read_parquet(d / "accounts.parquet")
    ta = pl.read_parquet(d / "truth_accounts.parquet")
    tt = pl.read_parquet(d / "truth_transactions.parquet")
    assert Transactions.validate(t) == [] and Accounts.validate(a) == []
    assert a.height == customers == ta.height and s.rows == t.height
    assert t["txn_id"].is_unique().all()
    assert set(t["account_id"]) <= set(a["account_id"])
    assert set(tt["txn_id"]) <= set(t["txn_id"])
    assert set(ta["account_id"]) == set(a["account_id"])
    if scale == 0:
        assert ta["label"].sum() == 0 and tt.height == 0


@pytest.mark.parametrize("kw", [{}, {"per_day": True}, {"fmt": "csv"}])
def test_parallel_workers_write_the_same_bytes_as_one_process(tmp_path, kw):
    cfg = SynthConfig(customers=700, days=12, seed=5, chunk_customers=200, prevalence_scale=3.0)
    one = generate(dataclasses.replace(cfg, workers=1), tmp_path / "one", **kw)
    two = generate(dataclasses.replace(cfg, workers=2), tmp_path / "two", **kw)
    three = generate(dataclasses.replace(cfg, workers=3), tmp_path / "three", **kw)
    a, b, c = _bytes(tmp_path / "one"), _bytes(tmp_path / "two"), _bytes(tmp_path / "three")
    assert a == b == c and len(a) >= 4
    strip = {"seconds": 0}
    assert one.as_dict() | strip == two.as_dict() | strip == three.as_dict() | strip
    assert not list((tmp_path / "two").glob(".*"))  # no temp files left behind


def test_workers_setting():
    assert SynthConfig().workers == 0
    assert SynthConfig().with_settings({"workers": "2"}).workers == 2
    with pytest.raises(InputError, match="workers"):
        SynthConfig(workers=-1)
