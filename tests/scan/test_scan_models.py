"""The anomaly models inside `txflags scan` (issue 5, done-when): state carried from night to
night, anomaly scores with reasons in risk.parquet, no double learning, stamp mismatch -> exit 2,
and the model state committed atomically with the run."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.support import run_cli
from txflags import scan as scan_mod
from txflags.scan import scan
from txflags.store import Store
from txflags.synthetic import SynthConfig, generate


@pytest.fixture(scope="module")
def perday(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`txflags synth --per-day`: 300 customers, 5 days -> days/transactions-YYYY-MM-DD."""
    d = tmp_path_factory.mktemp("perday")
    generate(SynthConfig(customers=300, days=5, seed=7, prevalence_scale=3.0), d, per_day=True)
    return d


def _night(perday: Path, day: str) -> Path:
    return perday / "days" / f"transactions-2026-01-{day}.parquet"


def _cli_scan(perday: Path, day: str, store: Path, out: Path, *extra: str):
    return run_cli("scan", str(_night(perday, day)), "--accounts",
                   str(perday / "accounts.parquet"), "--store", str(store), "--out", str(out),
                   "--json", *extra)


def _scan(perday: Path, day: str, store: Path, out: Path, **kw):
    return scan([_night(perday, day)], perday / "accounts.parquet", store=store, out=out, **kw)


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_nights(perday: Path, tmp_path_factory: pytest.TempPathFactory):
    """Nights 2026-01-02 and 2026-01-03 scanned through the CLI into one store."""
    root = tmp_path_factory.mktemp("two")
    store = root / "store"
    runs = []
    for day in ("02", "03"):
        proc = _cli_scan(perday, day, store, root / f"out{day}")
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout))
    return store, root, runs


def test_second_night_loads_the_state_the_first_saved(two_nights):
    store, root, (s1, s2) = two_nights
    m1, m2 = s1["models"], s2["models"]
    assert m1["enabled"] and m1["state_loaded"] is None and m1["nights_learned"] == 1
    assert m1["state_saved"] and m2["state_loaded"] == m1["state_saved"]
    assert m2["nights_learned_before"] == 1 and m2["nights_learned"] == 2
    assert m2["used"] == ["baseline", "hst", "iforest"]
    assert m2["state_version"]["feature_version"] == "1" and m2["accounts_scored"] > 0
    assert "models" in s2["seconds"]
    shown = json.loads(run_cli("models", "show", "--store", str(store), "--json").stdout)
    assert shown["nights_learned"] == 2 and shown["run_id"] == s2["run_id"]
    assert set(shown["stamps"]) == {"baseline", "hst", "iforest"}
    assert all(st["run_id"] == s2["run_id"] for st in shown["stamps"].values())
    assert Store(store).models_dir().name == m2["state_saved"]  # type: ignore[union-attr]


def test_risk_carries_anomaly_scores_with_reasons(two_nights):
    store, root, (_, s2) = two_nights
    risk = pl.read_parquet(root / "out03" / "risk.parquet")
    assert {"rule_score", "anomaly_score", "anomaly_reasons", "risk_score", "flagged"} <= set(
        risk.columns)
    assert risk.height == s2["counts"]["accounts_with_signal"] > 0
    assert risk["anomaly_score"].is_between(0, 1).all()
    explained = risk.filter(pl.col("anomaly_reasons").list.len() > 0)
    assert explained.height > 0
    line = explained["anomaly_reasons"][0][0]
    assert line[:10].startswith("2026-01-0") and ":" in line  # "YYYY-MM-DD model: sentence"
    # every account there has a rule signal or an anomaly at/above the report threshold
    report_min = s2["models"]["config"]["report_min"]
    assert risk.filter((risk["rule_score"] == 0) & (risk["anomaly_score"] < report_min)).height == 0


def test_rerunning_a_night_does_not_learn_it_twice(perday, tmp_path):
    store = tmp_path / "store"
    _scan(perday, "02", store, tmp_path / "o1")
    first = _scan(perday, "03", store, tmp_path / "o2")
    state = _tree(store / "models")
    again = _scan(perday, "03", store, tmp_path / "o3")  # the batch the state learned last
    m = again.summary["models"]
    assert m["replayed_last_batch"] and m["state_saved"] is None and m["nights_learned"] == 2
    assert again.risk.equals(first.risk)  # replayed from the parent state: same scores
    older = _scan(perday, "02", store, tmp_path / "o4")  # an older batch: scored, not learned
    assert not older.summary["models"]["learned"] and older.summary["models"]["nights_learned"] == 2
    assert _tree(store / "models") == state


def test_no_models_flag_skips_them(perday, tmp_path):
    proc = _cli_scan(perday, "02", tmp_path / "s", tmp_path / "o", "--no-models")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["models"] == {"enabled": False}
    assert "anomaly_score" not in pl.read_parquet(tmp_path / "o" / "risk.parquet").columns
    assert Store(tmp_path / "s").models_dir() is None


def test_mismatched_stamp_exits_2_with_the_reset_hint(perday, tmp_path):
    store = tmp_path / "store"
    assert _cli_scan(perday, "02", store, tmp_path / "o1").returncode == 0
    stamp = Store(store).models_dir() / "baseline.stamp.json"  # type: ignore[operator]
    data = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({**data, "txflags_version": "0.0.1"}))
    proc = _cli_scan(perday, "03", store, tmp_path / "o2")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "txflags_version" in proc.stderr
    assert f"txflags models reset --store {store}" in " ".join(proc.stderr.split())
    profile = tmp_path / "p.yaml"
    profile.write_text("models:\n  use: [baseline, iforest]\n")
    proc = _cli_scan(perday, "03", store, tmp_path / "o2", "--profile", str(profile))
    assert proc.returncode == 2 and "txflags models reset" in proc.stderr
    assert run_cli("models", "reset", "--store", str(store)).returncode == 0
    proc = _cli_scan(perday, "03", store, tmp_path / "o2", "--profile", str(profile))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["models"]["used"] == ["baseline", "iforest"]


def test_failure_during_commit_leaves_the_previous_state(perday, tmp_path, monkeypatch):
    store = tmp_path / "store"
    _scan(perday, "02", store, tmp_path / "o1")
    before = _tree(store / "models")
    current = Store(store).models_dir()

    def failing_publisher(staged):
        def publish():
            assert any(p.name.startswith("state-") for p in (store / "models").iterdir())
            raise OSError("disk gone while publishing")

        return publish, []

    monkeypatch.setattr(scan_mod, "_publisher", failing_publisher)
    with pytest.raises(OSError):
        _scan(perday, "03", store, tmp_path / "o2")
    monkeypatch.undo()
    assert Store(store).models_dir() == current
    assert _tree(store / "models") == before
    ok = _scan(perday, "03", store, tmp_path / "o2")  # and the night goes through afterwards
    assert ok.summary["models"]["state_loaded"] == current.name  # type: ignore[union-attr]
    assert ok.summary["models"]["nights_learned"] == 2


def test_models_profile_section(perday, tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("models:\n  anomaly_weight: 2\n  cascade: {top_n: 10}\n"
                       "risk:\n  threshold: 7\n")
    proc = _cli_scan(perday, "02", tmp_path / "s", tmp_path / "o", "--profile", str(profile))
    assert proc.returncode == 0, proc.stderr
    cfg = json.loads(proc.stdout)["models"]["config"]
    assert cfg["anomaly_weight"] == 2 and cfg["cascade"]["top_n"] == 10
    assert cfg["threshold"] == 7  # follows risk.threshold unless models.threshold is set
    profile.write_text("models:\n  cascade: {top: 3}\n")
    proc = _cli_scan(perday, "02", tmp_path / "s", tmp_path / "o", "--profile", str(profile))
    assert proc.returncode == 2 and "cascade" in proc.stderr
