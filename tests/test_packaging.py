"""The distribution: one wheel with the library, CLI, generator, catalogue and bundled data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import ROOT


def test_wheel_ships_every_part(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(Path(tmp_path).glob("txflags-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "txflags/schema.py",
        "txflags/cli/app.py",
        "txflags/synthetic/generate.py",
        "txflags/typologies/remittance/many_senders_small.yaml",
        "txflags/typologies/remittance/many_senders_small.fixture.yaml",
        "txflags/data/rates.csv",
        "txflags/data/currencies.txt",
        "txflags/data/mappings/canonical.yaml",
    ):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "txflags = txflags.cli.app:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
