"""Risk combination: families beat repeats, high-weight indicators, victim role, settings."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from txflags.errors import InputError
from txflags.risk import RiskConfig, score

AS_OF = date(2026, 3, 31)


def _hits(rows):
    cols = ["account_id", "typology_id", "band", "weight", "role_hint", "window_end"]
    frame = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])
    return frame.with_columns(
        pl.col("typology_id").str.split(".").list.first().alias("family"),
        pl.format("{} fired", "typology_id").alias("sentence"),
        pl.col("weight").cast(pl.Int8),
    )


def test_three_families_outscore_one_family_repeated():
    d = date(2026, 3, 20)
    hits = _hits(
        [
            ("SPREAD", "ad_platform.small_repeated_fees", "medium", 2, "controller", d),
            ("SPREAD", "lodging.city_circuit", "medium", 2, "controller", d),
            ("SPREAD", "funnel.out_of_area_cash", "medium", 2, "controller", d),
            *[("REPEAT", f"cash.t{i}", "medium", 2, "controller", d) for i in range(6)],
        ]
    )
    # the pre-tuning repeat factor and threshold pin the arithmetic below
    old = RiskConfig.from_dict({"repeat_factor": 0.25, "threshold": 12})
    r = score(hits, AS_OF, old).to_dicts()
    by = {x["account_id"]: x for x in r}
    assert by["SPREAD"]["risk_score"] > by["REPEAT"]["risk_score"]
    assert by["SPREAD"]["flagged"] and not by["REPEAT"]["flagged"]
    assert by["SPREAD"]["n_families"] == 3 and "3 families" in by["SPREAD"]["flag_reason"]
    # 2 + 0.25 * 5 * 2 = 4.5 for the repeats; (2+2+2) * (1 + 0.5*2) = 12 for the spread
    assert by["REPEAT"]["risk_score"] == 4.5 and by["SPREAD"]["risk_score"] == 12


def test_high_weight_indicator_flags_alone_and_victim_role():
    d = date(2026, 3, 20)
    hits = _hits(
        [
            ("V", "remittance.sextortion_bursts", "high", 3, "victim", d),
            ("V", "funnel.many_new_p2p_payers", "medium", 2, "controller", d),
            ("W", "remittance.sextortion_bursts", "low", 3, "victim", d),
        ]
    )
    by = {x["account_id"]: x for x in score(hits, AS_OF, RiskConfig()).to_dicts()}
    assert by["V"]["flagged"] and "high-weight" in by["V"]["flag_reason"]
    assert by["V"]["role_hint"] == "possible_victim"  # never "controller" with a victim hit
    assert not by["W"]["flagged"]  # sextortion counts alone only from its medium band


def test_old_hits_fall_out_of_the_window_and_settings_apply():
    hits = _hits(
        [
            ("A", "ad_platform.small_repeated_fees", "high", 3, "controller", date(2026, 1, 1)),
            ("A", "lodging.city_circuit", "high", 3, "controller", date(2026, 3, 30)),
            ("A", "cash.structuring", "high", 3, "controller", None),
        ]
    )
    r = score(hits, AS_OF, RiskConfig.from_dict({"window_days": 60})).row(0, named=True)
    assert r["families"] == ["cash", "lodging"]
    loose = score(hits, AS_OF, RiskConfig.from_dict({"window_days": 120, "families_min": 3}))
    assert loose.row(0, named=True)["flagged"]
    zero = {"window_days": 60, "weights": {"lodging.city_circuit": 0}}
    weighted = score(hits, AS_OF, RiskConfig.from_dict(zero))
    assert weighted.row(0, named=True)["risk_score"] < r["risk_score"]


@pytest.mark.parametrize(
    "bad", [{"nope": 1}, {"threshold": -1}, {"window_days": 0}, {"band_factor": {"huge": 2}}]
)
def test_bad_settings(bad):
    with pytest.raises(InputError):
        RiskConfig.from_dict(bad)


def test_profile_numbers_keep_their_type():
    """`threshold: 9` in a profile behaves and prints exactly like the default 9.0."""
    given = RiskConfig.from_dict({"threshold": 9, "repeat_factor": 1})
    assert isinstance(given.threshold, float) and given.threshold == RiskConfig().threshold
    assert isinstance(given.repeat_factor, float)
