"""`txflags models show|reset`, the evaluation on small data, and the modules' doctests."""

from __future__ import annotations

import doctest
import importlib
import json

import pytest

from tests.support import run_cli
from txflags.models import EWBaseline, HSTDetector, IForestDetector, ModelSuite
from txflags.models.evaluation import evaluate


def test_models_show_and_reset(tmp_path, daily):
    store = tmp_path / "store"
    proc = run_cli("models", "show", "--store", str(store))
    assert proc.returncode == 2 and "not a folder" in proc.stderr
    suite = ModelSuite([EWBaseline(), HSTDetector(window_size=100)])
    for night in daily.partition_by("day", maintain_order=True)[:3]:
        suite.update_and_score(night)
    suite.save(store / "models")
    proc = run_cli("models", "show", "--store", str(store), "--json")
    info = json.loads(proc.stdout)
    assert proc.returncode == 0 and info["nights_learned"] == 3 and info["accounts_tracked"] > 0
    assert info["stamps"]["hst"]["params"]["window_size"] == 100
    proc = run_cli("models", "show", "--store", str(store))
    assert "3 night(s) learned" in proc.stderr and "hst: txflags" in proc.stderr
    proc = run_cli("models", "reset", "--store", str(store), "--json")
    assert json.loads(proc.stdout)["removed"] is True and not (store / "models").exists()
    assert json.loads(run_cli("models", "show", "--store", str(store), "--json").stdout)[
        "nights_learned"] == 0


def test_evaluation_small(synth_dir):
    models = [EWBaseline(), HSTDetector(window_size=100, max_learn=400),
              IForestDetector(n_estimators=50, max_learn=400)]
    r = evaluate(synth_dir, warmup_days=10, models=models)
    assert r["scored_days"] > 10 and r["positives"] > 0
    for table in [r["overall"], *r["by_family"].values()]:
        for name, m in table.items():
            if name == "positives" or m["roc_auc"] is None:
                continue
            assert 0 <= m["roc_auc"] <= 1 and 0 <= m["pr_auc"] <= 1
    assert r["overall"]["anomaly"]["roc_auc"] >= 0.5


@pytest.mark.parametrize("name", ["daily", "baseline", "hst", "iforest", "suite"])
def test_docstring_examples_run(name):
    mod = importlib.import_module(f"txflags.models.{name}")
    res = doctest.testmod(mod)
    assert res.failed == 0 and res.attempted > 0
