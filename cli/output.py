"""Shared CLI output: a stderr console for people, stdout JSON for machines, progress spinners."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


@contextmanager
def stages(enabled: bool = True) -> Iterator[Progress]:
    """A progress display for a run made of named stages (hidden with --json or when piped)."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled or not console.is_terminal,
    )
    with progress:
        yield progress
