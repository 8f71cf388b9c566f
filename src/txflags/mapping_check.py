"""``mapping check``: what a mapping makes of a file, before a real run.

For each canonical column: which source column feeds it and how many values parse; which source
columns go unused; which codes the value maps miss; why rows would be quarantined; and a sample
of parsed rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from txflags import parsers
from txflags.ingest import ingest, resolve_mapping
from txflags.mapping import ColumnSpec, Mapping
from txflags.readers import read_source


@dataclass
class ColumnReport:
    """How one canonical column fares."""

    column: str
    required: bool
    source: str  # what feeds it, in words
    parsed: int = 0  # rows with a value after parsing
    failed: int = 0  # rows whose value is present but does not parse
    status: str = "ok"


@dataclass
class MappingReport:
    """Everything ``txflags mapping check`` shows."""

    mapping: str
    rows_checked: int
    columns: list[ColumnReport]
    unused_source_columns: list[str]
    unmapped_codes: dict[str, dict[str, int]]
    quarantine_reasons: dict[str, int]
    quarantine_examples: list[dict[str, Any]]
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status in ("ok", "not mapped") for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping,
            "rows_checked": self.rows_checked,
            "ok": self.ok,
            "columns": [c.__dict__ for c in self.columns],
            "unused_source_columns": self.unused_source_columns,
            "unmapped_codes": self.unmapped_codes,
            "quarantine_reasons": self.quarantine_reasons,
            "quarantine_examples": self.quarantine_examples,
            "sample": self.sample,
        }


def _all_specs(mapping: Mapping) -> dict[str, list[tuple[str, ColumnSpec]]]:
    """Every canonical column's specs, labelled with their side for per-transfer layouts."""
    out: dict[str, list[tuple[str, ColumnSpec]]] = {}
    for target, specs in mapping.columns.items():
        out.setdefault(target, []).extend(("", s) for s in specs)
    for side, columns in mapping.sides.items():
        out.setdefault("direction", []).append((f"{side}: ", ColumnSpec("direction", value=side)))
        for target, specs in columns.items():
            out.setdefault(target, []).extend((f"{side}: ", s) for s in specs)
    return out


def _describe(specs: list[tuple[str, ColumnSpec]]) -> str:
    parts = []
    for label, spec in specs:
        if spec.from_row:
            parts.append(f"{label}<file name>:<row>")
        elif spec.is_constant:
            parts.append(f"{label}constant {spec.value!r}")
        else:
            text = label + " + ".join(spec.columns)
            if spec.map:
                text += f" (map of {len(spec.map)})"
            if spec.optional:
                text += " (optional)"
            parts.append(text)
    return " | ".join(parts)


def check_mapping(
    mapping: str | Path | Mapping, inputs: list[str | Path], rows: int = 10_000, sample: int = 5
) -> MappingReport:
    """Run the mapping over the first ``rows`` rows of each input and report."""
    mapping = resolve_mapping(mapping)
    result = ingest(inputs, mapping, limit=rows)
    raw = read_source(inputs, mapping.source)
    raw_frame = raw.frame.filter(pl.col("__row") <= rows)
    frame_type = mapping.frame_type
    specs_by_target = _all_specs(mapping)
    failed_by_column = (
        dict(result.quarantine.group_by("column").len().drop_nulls().iter_rows())
        if result.quarantine.height
        else {}
    )
    reports = []
    for col in frame_type.columns:
        if col.name in ("source_file", "source_row"):
            continue
        if col.name not in specs_by_target:
            derived = col.name in ("amount_usd", "direction")
            reports.append(
                ColumnReport(
                    col.name,
                    col.required,
                    "derived" if derived else "-",
                    parsed=int(result.kept[col.name].is_not_null().sum()) if derived else 0,
                    status="ok" if derived else "not mapped",
                )
            )
            continue
        parsed = int(result.kept[col.name].is_not_null().sum())
        failed = int(failed_by_column.get(col.name, 0))
        status = "ok" if not failed else f"{failed} row(s) fail"
        if col.required and parsed == 0 and result.kept.height == 0 and failed:
            status = "every row fails"
        reports.append(
            ColumnReport(
                col.name, col.required, _describe(specs_by_target[col.name]), parsed, failed, status
            )
        )
    used = set(mapping.source_columns()) | set(mapping.truth_columns)
    all_source = [c for f in raw.files for c in f.columns]
    unused = list(dict.fromkeys(c for c in all_source if c not in used))
    codes: dict[str, dict[str, int]] = {}
    schema = raw_frame.collect_schema()
    for target, labelled in specs_by_target.items():
        dtype = frame_type.column(target).dtype
        for _, spec in labelled:
            if not isinstance(dtype, pl.Enum) or spec.is_constant:
                continue
            if any(c not in schema for c in spec.columns):
                continue
            value = parsers.text(
                pl.concat_str([pl.col(c).cast(pl.String) for c in spec.columns], separator=" ")
            )
            mapped = parsers.map_codes(value, spec, list(dtype.categories))
            missed = (
                raw_frame.select(value.alias("v"), mapped.alias("m"))
                .filter(pl.col("v").is_not_null() & pl.col("m").is_null())
                .group_by("v")
                .len()
                .sort(["len", "v"], descending=[True, False])
                .head(20)
                .collect()
            )
            if missed.height:
                codes[target] = dict(missed.iter_rows())
    q = result.quarantine
    examples = (
        q.group_by("reason", maintain_order=True)
        .first()
        .select(pl.col("reason").cast(pl.String), "source_file", "source_row", "message")
        .to_dicts()
        if q.height
        else []
    )
    sample_rows = [
        {k: (str(v) if v is not None else None) for k, v in row.items()}
        for row in result.kept.head(sample).to_dicts()
    ]
    return MappingReport(
        mapping=mapping.name,
        rows_checked=result.summary["rows_in"],
        columns=reports,
        unused_source_columns=unused,
        unmapped_codes=codes,
        quarantine_reasons=result.summary["quarantine_reasons"],
        quarantine_examples=examples,
        sample=sample_rows,
    )
