"""Ingestion: export files + mapping -> canonical frame, quarantine and a reconciled summary.

This is the first stage of every run (``txflags ingest`` and ``txflags scan``). It reads lazily,
plans normalisation, and collects the outputs together once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from txflags import __version__
from txflags.atomic import commit_all, json_writer, parquet_writer
from txflags.currency import load_rates
from txflags.errors import InputError
from txflags.mapping import Mapping, load_mapping
from txflags.normalize import Normalized, normalize
from txflags.readers import RawBatch, read_source

BUNDLED_MAPPINGS = (
    "canonical",
    "canonical-accounts",
    "synthetic-bank-export",
    "synthetic-bank-accounts",
    "amlworld",
    "amlsim",
    "paysim",
    "saml-d",
    "camt053",
)


@dataclass
class IngestResult:
    """The canonical rows, the quarantined rows and the run's summary."""

    kept: pl.DataFrame
    quarantine: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    truth: pl.DataFrame | None = None  # label columns routed away from detection, by key

    @property
    def reconciled(self) -> bool:
        s = self.summary
        return s["rows_in"] == s["rows_kept"] + s["rows_quarantined"]


def resolve_mapping(name_or_path: str | Path | Mapping) -> Mapping:
    """A mapping from a file path or the name of a bundled mapping (see ``BUNDLED_MAPPINGS``)."""
    if isinstance(name_or_path, Mapping):
        return name_or_path
    path = Path(name_or_path)
    if path.exists():
        return load_mapping(path)
    if str(name_or_path) in BUNDLED_MAPPINGS:
        with_suffix = f"data/mappings/{name_or_path}.yaml"
        return load_mapping(Path(str(files("txflags").joinpath(with_suffix))))
    raise InputError(
        f"mapping {str(name_or_path)!r} is neither a file nor a bundled mapping "
        f"({', '.join(BUNDLED_MAPPINGS)})"
    )


def _timezone_values(raw: RawBatch, mapping: Mapping) -> list[str] | None:
    cols = {s.timezone_column for specs in mapping.columns.values() for s in specs}
    cols.discard(None)
    if not cols:
        return None
    values = (
        pl.concat(
            [raw.frame.select(pl.col(c).cast(pl.String).str.strip_chars().alias("z")) for c in cols]
        )
        .unique()
        .drop_nulls()
        .collect()["z"]
        .to_list()
    )
    valid = []
    for zone in sorted(values):
        try:
            ZoneInfo(zone)
            valid.append(zone)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # rows naming it fail to parse and are quarantined as bad_timestamp
    return valid


def ingest(
    inputs: list[str | Path],
    mapping: str | Path | Mapping,
    *,
    rates: str | Path | pl.DataFrame | None = None,
    as_of: datetime | None = None,
    limit: int | None = None,
    engine: str = "auto",
) -> IngestResult:
    """Read ``inputs`` with ``mapping`` into canonical rows and quarantine; never drops a row.

    ``rates``: a rate table path or frame (default: the bundled reference rates). ``limit``: read
    only the first rows of each input (for ``mapping check``). ``engine``: Polars engine.
    """
    started = time.perf_counter()
    mapping = resolve_mapping(mapping)
    raw = read_source(inputs, mapping.source)
    for f in raw.files:
        mapping.check_source(list(f.columns), f.path)
    if limit is not None:
        raw = RawBatch(raw.frame.filter(pl.col("__row") <= limit), raw.files)
    rate_table = None
    if mapping.kind == "transactions":
        rate_table = rates if isinstance(rates, pl.DataFrame) else load_rates(rates)
    zones = _timezone_values(raw, mapping)
    try:
        if mapping.sides:
            result = _normalize_sides(raw, mapping, rate_table, as_of, zones, engine)
        else:
            result = normalize(raw, mapping, rate_table, as_of=as_of, zones=zones, engine=engine)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"could not read the input: {exc}") from None
    kept, quarantine = result.kept, result.quarantine
    summary = _summarise(raw, mapping, kept, quarantine, result, rates)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    result = IngestResult(kept, quarantine, summary, result.truth)
    if not result.reconciled:  # a bug, never a user error: refuse to hand out lost rows
        raise RuntimeError(f"row conservation violated: {summary}")
    return result


def _normalize_sides(
    raw: RawBatch,
    mapping: Mapping,
    rates: pl.DataFrame | None,
    as_of: datetime | None,
    zones: list[str] | None,
    engine: str,
) -> Normalized:
    """Per-transfer layouts: each source row becomes one canonical row per side. Ids get the
    side as a suffix (``T1:out``, ``T1:in``); rows are counted per side."""
    parts = []
    for side in mapping.sides:
        part = normalize(
            raw, mapping.for_side(side), rates, as_of=as_of, zones=zones, engine=engine
        )
        suffix = pl.col("txn_id") + f":{side}"
        parts.append(
            Normalized(
                part.kept.with_columns(suffix),
                part.quarantine.with_columns(pl.format(f"[{side} side] {{}}", "message")),
                part.notes,
                part.rows_per_file,
                None if part.truth is None else part.truth.with_columns(suffix),
            )
        )
    notes: dict[str, int] = {}
    rows: dict[int, int] = {}
    for part in parts:
        for k, v in part.notes.items():
            notes[k] = notes.get(k, 0) + v
        for k, v in part.rows_per_file.items():
            rows[k] = rows.get(k, 0) + v
    truths = [p.truth for p in parts if p.truth is not None]
    return Normalized(
        pl.concat([p.kept for p in parts]),
        pl.concat([p.quarantine for p in parts]),
        notes,
        rows,
        pl.concat(truths) if truths else None,
    )


def _summarise(
    raw: RawBatch,
    mapping: Mapping,
    kept: pl.DataFrame,
    quarantine: pl.DataFrame,
    result: Normalized,
    rates: object,
) -> dict[str, Any]:
    rows_in = {raw.files[i].path: n for i, n in result.rows_per_file.items()}
    quar_by = dict(quarantine.group_by("source_file").len().iter_rows())
    kept_by = {path: n - quar_by.get(path, 0) for path, n in rows_in.items()}
    reasons = (
        dict(quarantine.group_by(pl.col("reason").cast(pl.String)).len().sort("reason").iter_rows())
        if quarantine.height
        else {}
    )
    if isinstance(rates, pl.DataFrame):
        rate_source = "given table"
    else:
        rate_source = "bundled reference rates" if rates is None else str(rates)
    return {
        "txflags_version": __version__,
        "kind": mapping.kind,
        "layout": "per_transfer" if mapping.sides else "per_side",
        "sides": sorted(mapping.sides) if mapping.sides else None,
        "mapping": {"name": mapping.name, "digest": mapping.digest},
        "rates": rate_source,
        "rows_in": int(sum(rows_in.values())),
        "rows_kept": kept.height,
        "rows_quarantined": quarantine.height,
        "quarantine_reasons": reasons,
        "files": [
            {
                "path": f.path,
                "format": f.format,
                "rows_in": int(rows_in.get(f.path, 0)),
                "rows_kept": int(kept_by.get(f.path, 0)),
                "rows_quarantined": int(quar_by.get(f.path, 0)),
            }
            for f in raw.files
        ],
        "notes": result.notes,
    }


def write_ingest(result: IngestResult, out_dir: str | Path) -> dict[str, Path]:
    """Write canonical Parquet, quarantine Parquet and summary.json atomically into ``out_dir``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a directory")
    name = "transactions" if result.summary.get("kind") == "transactions" else "accounts"
    paths = {
        name: out / f"{name}.parquet",
        "quarantine": out / "quarantine.parquet",
        "summary": out / "summary.json",
    }
    writers = {
        paths[name]: parquet_writer(result.kept),
        paths["quarantine"]: parquet_writer(result.quarantine),
    }
    if result.truth is not None:
        paths["truth"] = out / "truth.parquet"
        writers[paths["truth"]] = parquet_writer(result.truth)
    writers[paths["summary"]] = json_writer(result.summary)  # last: it marks the set complete
    commit_all(writers)
    return paths
