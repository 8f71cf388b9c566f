"""Helpers shared by test modules: where the project is, and running the CLI as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `txflags ARGS` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-c", "from txflags.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
