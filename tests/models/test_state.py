"""State across nights: stamps, atomic files, mismatches are errors, suites resume exactly."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from txflags.errors import InputError
from txflags.models import EWBaseline, HSTDetector, IForestDetector, ModelSuite
from txflags.models.state import load_state, save_state, stamp, stamp_path


def _small():
    return [EWBaseline(min_days=3), HSTDetector(window_size=100, max_learn=300),
            IForestDetector(n_estimators=20, max_learn=300)]


def test_save_load_round_trip_with_stamp(tmp_path, check_data):
    m = EWBaseline(min_days=3).learn_many(check_data.learn)
    path = save_state(m, tmp_path / "baseline.pkl")
    st = json.loads(stamp_path(path).read_text())
    assert st == stamp(m) and st["params"]["half_life_days"] == 30.0
    back = load_state(path, expected=EWBaseline(min_days=3))
    assert np.array_equal(back.score_many(check_data.score), m.score_many(check_data.score))
    assert not list(tmp_path.glob(".*tmp*"))


def test_mismatched_stamp_is_a_clear_error(tmp_path, check_data):
    path = save_state(EWBaseline().learn_many(check_data.learn), tmp_path / "baseline.pkl")
    with pytest.raises(InputError, match=r"half_life_days.*models reset"):
        load_state(path, expected=EWBaseline(half_life_days=7))
    st = json.loads(stamp_path(path).read_text())
    st["feature_version"] = "0"
    stamp_path(path).write_text(json.dumps(st))
    with pytest.raises(InputError, match="feature_version"):
        load_state(path, expected=EWBaseline())
    stamp_path(path).unlink()
    with pytest.raises(InputError, match="no version stamp"):
        load_state(path, expected=EWBaseline())


def test_suite_resumes_exactly_and_is_idempotent(tmp_path, daily):
    nights = daily.partition_by("day", maintain_order=True)[:12]
    straight = ModelSuite(_small())
    for n in nights:
        straight.update_and_score(n)
    resumed = ModelSuite(_small())
    for n in nights[:8]:
        resumed.update_and_score(n)
    resumed.save(tmp_path / "models")
    resumed = ModelSuite.load(tmp_path / "models", _small())
    assert resumed.nights_ == 8
    for n in nights[8:]:
        resumed.update_and_score(n)
    last = nights[-1]
    a = straight.update_and_score(last, learn=False)
    b = resumed.update_and_score(last, learn=False)
    assert a.equals(b)
    again = resumed.update_and_score(last)  # a re-run of the last night learns nothing new
    assert resumed.nights_ == 12 and again.equals(b)


def test_suite_load_checks_configuration(tmp_path, daily):
    suite = ModelSuite(_small())
    suite.update_and_score(daily.partition_by("day")[0])
    suite.save(tmp_path)
    with pytest.raises(InputError, match="configured"):
        ModelSuite.load(tmp_path, [EWBaseline(min_days=3)])
    with pytest.raises(InputError, match="min_days"):
        ModelSuite.load(tmp_path, [EWBaseline(min_days=4), *_small()[1:]])
    assert ModelSuite.load(tmp_path / "absent").nights_ == 0


def test_scores_frame_shape(daily):
    suite = ModelSuite(_small(), explain_min=0.0)
    nights = daily.partition_by("day", maintain_order=True)
    for n in nights[:10]:
        suite.update_and_score(n)
    out = suite.update_and_score(nights[10])
    assert out.columns == ["account_id", "day", "model", "score", "top_features", "reasons"]
    assert out.height == 3 * nights[10].height
    base = out.filter((pl.col("model") == "baseline") & (pl.col("score") >= 0.2))
    assert base.height and base["reasons"].list.len().min() >= 1
    assert out["score"].is_between(0, 1).all()
