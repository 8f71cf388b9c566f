"""`txflags packets export|filer-template`: case packets for people and regulators."""

from __future__ import annotations

from pathlib import Path

import typer

from txflags.cli.output import console, print_json
from txflags.errors import InputError
from txflags.packets.export import FORMATS, ExportOptions, export
from txflags.packets.filer import FilerConfig
from txflags.packets.redact import PROFILES

app = typer.Typer(help="Case packets: HTML/Markdown/JSON for analysts, FinCEN SAR and goAML "
                  "XML for filing.", no_args_is_help=True)


@app.command("export")
def export_command(
    case_id: str = typer.Argument(None, help="Case id (or use --top N)."),
    store: Path = typer.Option(..., "--store", help="Store folder."),
    fmt: str = typer.Option("html", "--format", "-f",
                            help=f"One of: {', '.join(FORMATS)}."),
    out: Path = typer.Option(..., "--out", "-o",
                             help="File to write (one case) or folder (--top N)."),
    top: int = typer.Option(0, "--top", min=0,
                            help="Export the N most urgent active cases instead of one."),
    redact_profile: str = typer.Option(
        "internal", "--redact",
        help="Redaction profile: " + "; ".join(f"{k}: {v}" for k, v in PROFILES.items())),
    filer: Path = typer.Option(None, "--filer",
                               help="Filer/institution config (YAML) for fincen-sar and goaml."),
    goaml_schema: str = typer.Option(
        "5.0.1", "--goaml-schema",
        help="goAML schema: 5.0.1 (UNODC baseline), 5.0.2-uae, or a path to your FIU's XSD."),
    report_code: str = typer.Option("STR", "--report-code", help="goAML report code: STR, SAR."),
    attachments: bool = typer.Option(False, "--attachments",
                                     help="fincen-sar: a .zip with one evidence CSV per case."),
    json_out: bool = typer.Option(False, "--json", help="Print the files written as JSON."),
) -> None:
    """Export case packets. XML filings are validated against the official schema first;
    a filing that does not validate is not written (exit 1)."""
    from txflags.packets.build import top_case_ids

    if (case_id is None) == (top == 0):
        raise InputError("give one CASE_ID or --top N")
    ids = [case_id] if case_id else top_case_ids(store, top)
    opts = ExportOptions(
        fmt=fmt, redact=redact_profile, filer=FilerConfig.load(filer) if filer else None,
        goaml_schema=goaml_schema, report_code=report_code, attachments=attachments)
    with console.status(f"building {len(ids)} packet(s)"):
        written = export(store, ids, out, opts)
    if json_out:
        print_json({"cases": ids, "files": [str(p) for p in written]})
        return
    for p in written:
        console.print(f"wrote {p}")
    if fmt == "html":
        console.print(f"open {written[0].resolve().as_uri()} in a browser")


@app.command("filer-template")
def filer_template_command() -> None:
    """Print a commented filer config (YAML) to fill in: `... > filer.yaml`."""
    typer.echo(FilerConfig.template_text(), nl=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="packets")
