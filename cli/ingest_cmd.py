"""`txflags ingest`: export files -> canonical Parquet + quarantine + summary."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from txflags.cli.output import console, print_json, stages
from txflags.ingest import BUNDLED_MAPPINGS, ingest, write_ingest


def ingest_command(
    inputs: list[str] = typer.Argument(
        ..., help="Export files, globs (quote them) or folders: CSV (also .gz), Parquet, NDJSON."
    ),
    mapping: str = typer.Option(
        ...,
        "--mapping",
        "-m",
        help=f"Mapping YAML file, or a bundled mapping: {', '.join(BUNDLED_MAPPINGS)}.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created if needed)."),
    rates: Path | None = typer.Option(
        None, "--rates", help="CSV of USD rates: currency,usd_per_unit[,date]. Default: bundled."
    ),
    as_of: datetime | None = typer.Option(
        None, "--as-of", help="Treat timestamps after this (+2 days) as impossible. Default: now."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Read exports with a mapping into canonical Parquet; quarantine bad rows with a reason.

    Writes OUT/transactions.parquet (or accounts.parquet), OUT/quarantine.parquet and
    OUT/summary.json atomically. Every input row is either kept or quarantined.
    """
    when = as_of.replace(tzinfo=UTC) if as_of and as_of.tzinfo is None else as_of
    with stages(not json_out) as progress:
        task = progress.add_task("reading and normalising", total=None)
        result = ingest(inputs, mapping, rates=rates, as_of=when)
        progress.update(task, description="writing")
        paths = write_ingest(result, out)
    summary = result.summary
    if json_out:
        print_json({**summary, "outputs": {k: str(v) for k, v in paths.items()}})
        return
    table = Table(title=f"ingest · mapping {summary['mapping']['name']}", show_header=True)
    for col in ("file", "rows in", "kept", "quarantined"):
        table.add_column(col, justify="left" if col == "file" else "right")
    for f in summary["files"]:
        table.add_row(
            f["path"], f"{f['rows_in']:,}", f"{f['rows_kept']:,}", f"{f['rows_quarantined']:,}"
        )
    table.add_row(
        "[bold]total",
        f"[bold]{summary['rows_in']:,}",
        f"[bold]{summary['rows_kept']:,}",
        f"[bold]{summary['rows_quarantined']:,}",
    )
    console.print(table)
    if summary["quarantine_reasons"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in summary["quarantine_reasons"].items())
        console.print(f"quarantined by reason: {reasons}")
    for note, count in summary["notes"].items():
        if count:
            console.print(
                f"[yellow]note:[/] {count:,} value(s) {note.replace('_', ' ')} (kept as null)"
            )
    console.print(f"wrote {', '.join(str(p) for p in paths.values())} in {summary['seconds']} s")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
