"""Atomic file writes: write beside the target, then rename over it.

A reader never sees a half-written file, and a crash leaves the previous file in place.
``commit_all`` stages several files and renames them together at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl


def _temp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _stage(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_for(path)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def parquet_writer(frame: pl.DataFrame) -> Callable[[Path], None]:
    """Deterministic Parquet: zstd, statistics, one row group per 1M rows."""
    return lambda p: frame.write_parquet(p, compression="zstd", row_group_size=1_000_000)


def json_writer(obj: Any) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_text(
            json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
        )

    return write


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write one file atomically with ``write(temp_path)``."""
    target = Path(path)
    os.replace(_stage(target, write), target)
    return target


def commit_all(files: dict[str | Path, Callable[[Path], None]]) -> list[Path]:
    """Stage every file first, then rename them all (in the given order; put summaries last)."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, write in files.items():
            target = Path(path)
            staged.append((_stage(target, write), target))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return [t for _, t in staged]
