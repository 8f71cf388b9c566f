"""Shared fixtures."""

from __future__ import annotations

import pytest

from tests.support import run_cli


@pytest.fixture
def cli():
    """Run `txflags ARGS` in a subprocess: ``cli("ingest", ...)``."""
    return run_cli
