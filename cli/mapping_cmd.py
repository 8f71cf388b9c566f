"""`txflags mapping check`: see what a mapping makes of a file before a real run."""

from __future__ import annotations

import typer
from rich.table import Table

from txflags.cli.output import console, print_json
from txflags.mapping_check import check_mapping

mapping_app = typer.Typer(help="Write and check mapping files.", no_args_is_help=True)


@mapping_app.command("check")
def check_command(
    mapping: str = typer.Argument(..., help="Mapping YAML file (or a bundled mapping name)."),
    inputs: list[str] = typer.Argument(..., help="One or more export files to try it on."),
    rows: int = typer.Option(10_000, "--rows", help="Check the first ROWS rows of each file."),
    sample: int = typer.Option(5, "--sample", help="Show this many parsed rows."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Show what maps and what does not: per column, unused source columns, codes the value
    maps miss, why rows would be quarantined, and a sample of parsed rows."""
    report = check_mapping(mapping, inputs, rows=rows, sample=sample)
    if json_out:
        print_json(report.to_dict())
        return
    table = Table(title=f"mapping {report.mapping} · {report.rows_checked:,} rows checked")
    for col in ("canonical column", "required", "from", "parsed", "failed", "status"):
        table.add_column(col)
    for c in report.columns:
        style = "green" if c.status == "ok" else ("dim" if c.status == "not mapped" else "red")
        table.add_row(
            c.column,
            "yes" if c.required else "",
            c.source,
            f"{c.parsed:,}",
            f"{c.failed:,}" if c.failed else "",
            f"[{style}]{c.status}[/]",
        )
    console.print(table)
    if report.unused_source_columns:
        console.print("source columns not used: " + ", ".join(report.unused_source_columns))
    for column, codes in report.unmapped_codes.items():
        shown = ", ".join(f"{k!r} ×{v}" for k, v in codes.items())
        console.print(f"[red]{column}[/]: codes not in the map: {shown}")
    for ex in report.quarantine_examples:
        count = report.quarantine_reasons.get(ex["reason"], 0)
        console.print(
            f"[yellow]{ex['reason']}[/] ×{count:,} e.g. {ex['source_file']} row "
            f"{ex['source_row']}: {ex['message']}"
        )
    if report.sample:
        sample_table = Table(title="sample of parsed rows")
        sample_table.add_column("column")
        for i in range(len(report.sample)):
            sample_table.add_column(f"row {i + 1}", overflow="fold")
        for key in report.sample[0]:
            values = [row[key] for row in report.sample]
            if any(v is not None for v in values):
                sample_table.add_row(key, *[v or "" for v in values])
        console.print(sample_table)
    if not report.ok:
        console.print("[red]some columns fail:[/] fix the mapping (or the export) and check again")


def register(app: typer.Typer) -> None:
    app.add_typer(mapping_app, name="mapping")
