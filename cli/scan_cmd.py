"""`txflags scan`: one night's batch -> history, alerts, account risk, summary."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from txflags.cli.output import console, print_json, stages
from txflags.ingest import BUNDLED_MAPPINGS
from txflags.scan import (
    STAGES,
    load_cases_profile,
    load_models_profile,
    load_profile,
    merge_overrides,
    parse_sets,
    scan,
)


def scan_command(
    inputs: list[str] = typer.Argument(
        ..., help="Transaction export files, globs (quote them) or folders of one night's batch."
    ),
    accounts: list[str] = typer.Option(
        ..., "--accounts", "-a", help="Accounts export (repeatable)."
    ),
    store: Path = typer.Option(..., "--store", help="Store folder (created if needed)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created if needed)."),
    mapping: str = typer.Option(
        "canonical",
        "--mapping",
        "-m",
        help=f"Transactions mapping file or bundled name ({', '.join(BUNDLED_MAPPINGS)}).",
    ),
    accounts_mapping: str = typer.Option(
        "canonical-accounts", "--accounts-mapping", help="Accounts mapping file or bundled name."
    ),
    sets: list[str] = typer.Option(
        [], "--set", help="Override a parameter: TYPOLOGY.param=value (repeatable)."
    ),
    profile: Path | None = typer.Option(
        None, "--profile",
        help="YAML: parameters: {typology: {param: value}}, risk: {...}, models: {...}.",
    ),
    no_models: bool = typer.Option(
        False, "--no-models", help="Skip the anomaly models (rules only; model state untouched)."
    ),
    as_of: datetime | None = typer.Option(
        None,
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Evaluate as of this day (default: the batch's last day).",
    ),
    catalogue: Path | None = typer.Option(
        None, "--catalogue", help="Typology folder (default: the shipped catalogue)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
) -> None:
    """Scan one batch: ingest, append to the store's history, detect, score accounts.

    Writes OUT/alerts.parquet (one row per hit), OUT/risk.parquet (one row per account with a
    signal), OUT/quarantine.parquet and OUT/summary.json atomically, and records the run in the
    store. Re-running the same batch changes nothing. Alerts are results: exit 0. Unless
    --no-models, the anomaly models score the batch's accounts (risk.parquet gains
    anomaly_score and anomaly_reasons) and learn the night; their state lives in STORE/models.
    Flagged accounts and the accounts tied to them become cases in the store (`txflags cases`).
    """
    params, risk_cfg = load_profile(profile)
    models_cfg = load_models_profile(profile)
    cases_cfg = load_cases_profile(profile)
    overrides = merge_overrides(params, parse_sets(sets))
    with stages(not json_out) as progress:
        task = progress.add_task("starting", total=len(STAGES))

        def on_stage(name: str) -> None:
            progress.update(task, description=name, completed=STAGES.index(name))

        result = scan(
            inputs,
            list(accounts),
            store=store,
            out=out,
            mapping=mapping,
            accounts_mapping=accounts_mapping,
            overrides=overrides,
            risk_config=risk_cfg,
            as_of=as_of.date() if as_of else None,
            catalogue_root=catalogue,
            on_stage=on_stage,
            models=not no_models,
            models_config=models_cfg,
            case_config=cases_cfg,
        )
    s = result.summary
    if json_out:
        print_json({**s, "outputs": {k: str(v) for k, v in result.paths.items()}})
        return
    c = s["counts"]
    table = Table(title=f"scan · run {s['run_id']}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("rows in / kept / quarantined",
         f"{c['rows_in']:,} / {c['rows_kept']:,} / {c['rows_quarantined']:,}"),
        ("history rows appended / already there",
         f"{c['history_rows_appended']:,} / {c['history_rows_skipped']:,}"),
        ("typologies run / skipped",
         f"{len(s['typologies_run'])} / {len(s['typologies_skipped'])}"),
        ("alerts (new)", f"{c['alerts']:,} ({c['alerts_new']:,})"),
        ("accounts with a signal / flagged",
         f"{c['accounts_with_signal']:,} / {c['accounts_flagged']:,}"),
    ]
    m = s.get("models", {})
    if m.get("enabled"):
        rows.append(("model accounts scored / nights learned",
                     f"{m.get('accounts_scored', 0):,} / {m['nights_learned']}"))
    kinds = s.get("cases", {}).get("by_kind", {})
    rows.append(("cases opened / continuing / reopened / suppressed",
                 " / ".join(f"{kinds.get(k, 0):,}" for k in
                            ("opened", "continuing", "reopened", "suppressed"))))
    for what, n in rows:
        table.add_row(what, n)
    console.print(table)
    if s["batch_already_appended"]:
        console.print("[yellow]note:[/] this batch was already appended; history unchanged")
    for tid, why in s["typologies_skipped"].items():
        console.print(f"[dim]skipped {tid}: {why}[/]")
    console.print(f"wrote {', '.join(str(p) for p in result.paths.values())}")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
