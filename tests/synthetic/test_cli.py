"""`txflags synth` through the Typer app and the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from txflags.cli import app as app_module

app_module._register()
runner = CliRunner()
TXFLAGS = Path(sys.executable).parent / "txflags"


def test_synth_json_summary(tmp_path):
    r = runner.invoke(
        app_module.app,
        [
            "synth",
            "--out",
            str(tmp_path),
            "--customers",
            "300",
            "--days",
            "10",
            "--seed",
            "4",
            "--json",
            "--set",
            "prevalence.sex_ring=0.02",
        ],
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["accounts"] == 300
    assert s["rows"] == pl.read_parquet(tmp_path / "transactions.parquet").height
    assert s["instances_by_scheme"].get("sex_ring", 0) >= 1


def test_synth_human_summary_and_help(tmp_path):
    r = runner.invoke(app_module.app, ["synth", "-o", str(tmp_path), "-n", "200", "-d", "5"])
    assert r.exit_code == 0, r.output
    assert "transactions for 200 accounts" in r.output and "positives by family" in r.output
    h = runner.invoke(app_module.app, ["synth", "--help"])
    assert h.exit_code == 0 and "--prevalence-scale" in h.output and "--per-day" in h.output


def test_bad_options_exit_2(tmp_path):
    for args in (
        ["--customers", "0"],
        ["--start", "yesterday"],
        ["--format", "xml"],
        ["--set", "prevalence.nope=1"],
    ):
        p = subprocess.run(
            [str(TXFLAGS), "synth", "--out", str(tmp_path / "x"), *args],
            capture_output=True,
            text=True,
        )
        assert p.returncode == 2, (args, p.stderr)
        assert "error:" in p.stderr


def test_profile_yaml(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text("days: 7\nprevalence:\n  sextortion: 0.02\n")
    r = runner.invoke(
        app_module.app,
        ["synth", "-o", str(tmp_path / "o"), "-n", "300", "--profile", str(prof), "--json"],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["instances_by_scheme"].get("sextortion", 0) >= 3
