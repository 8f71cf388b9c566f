"""Benign baseline (issue 4, item 8): every hit on a scheme-free population is a known FP."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import polars as pl
import pytest
import yaml

from txflags.scan import scan
from txflags.synthetic import SCHEME_PREVALENCE, SynthConfig, generate

KFP = Path(str(files("txflags.typologies"))) / "known_false_positives.yaml"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    spec = yaml.safe_load(KFP.read_text())
    b = spec["baseline"]
    d = tmp_path_factory.mktemp("benign")
    cfg = SynthConfig(
        customers=b["customers"],
        days=b["days"],
        seed=b["seed"],
        prevalence={k: 0.0 for k in SCHEME_PREVALENCE},
    )
    generate(cfg, d)
    r = scan(
        [d / "transactions.parquet"], d / "accounts.parquet", store=d / "store", out=d / "out"
    )
    truth = pl.read_parquet(d / "truth_accounts.parquet")
    return spec, r, truth


def test_population_is_benign(baseline):
    _, _, truth = baseline
    assert truth["label"].sum() == 0 and truth["lookalike"].null_count() < truth.height


def test_every_benign_hit_is_explained(baseline):
    spec, r, truth = baseline
    entries = spec["entries"]
    hits = (
        r.alerts.join(truth.select("account_id", "lookalike"), on="account_id", how="left")
        .with_columns(pl.col("lookalike").fill_null("ordinary").alias("population"))
        .group_by("typology_id", "population")
        .agg(pl.col("account_id").n_unique().alias("n"))
    )
    per_1k = 1000 / truth.height
    problems = []
    for tid, pop, n in hits.sort("typology_id", "population").iter_rows():
        listed = entries.get(tid) or []
        match = [e for e in listed if e["population"] in (pop, "any")]
        if not match:
            problems.append(f"{tid}: {n} hit(s) on benign population {pop!r} not explained")
        elif n * per_1k > match[0]["max_per_1k"]:
            problems.append(
                f"{tid}: {n * per_1k:.1f} benign {pop!r} accounts per 1,000 exceeds the "
                f"max_per_1k {match[0]['max_per_1k']} in known_false_positives.yaml"
            )
    assert not problems, "\n".join(problems)


def test_entries_are_well_formed_and_nobody_is_flagged(baseline):
    spec, r, _ = baseline
    for tid, listed in spec["entries"].items():
        assert "." in tid and listed, tid
        for e in listed:
            assert {"population", "reason", "max_per_1k"} <= set(e), tid
            assert len(e["reason"]) > 40, f"{tid}: give a reason a reviewer can check"
    assert r.risk.height > 0 and not r.risk["flagged"].any()
