"""`txflags synth`: generate a synthetic dataset with trafficking schemes and ground truth."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from txflags.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)


def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (created if absent)."),
    customers: int = typer.Option(
        2000, "--customers", "-n", help="Number of customers (one account each)."
    ),
    days: int = typer.Option(90, "--days", "-d", help="Length of the period in days."),
    seed: int = typer.Option(
        0, "--seed", "-s", help="Master seed: same seed and options give byte-identical files."
    ),
    start: str = typer.Option(
        "2026-01-01",
        "--start",
        help="First day of the period (YYYY-MM-DD, local time of each city).",
    ),
    per_day: bool = typer.Option(
        False,
        "--per-day",
        help="Write days/transactions-YYYY-MM-DD "
        "files (by UTC date) instead of one transactions file.",
    ),
    fmt: str = typer.Option("parquet", "--format", "-f", help="parquet (default) or csv."),
    prevalence_scale: float = typer.Option(
        1.0, "--prevalence-scale", help="Multiply every scheme and lookalike prevalence by X."
    ),
    noise: float = typer.Option(
        0.1,
        "--noise",
        help="Share (0..1) of ordinary customers given one random off-pattern event.",
    ),
    partial: float = typer.Option(
        0.2,
        "--partial",
        help="Probability (0..1) that an optional indicator is left out of a scheme instance.",
    ),
    evasion: float = typer.Option(
        0.0,
        "--evasion",
        help="0..1: amounts further under thresholds, activity spread over more days.",
    ),
    chunk: int = typer.Option(
        5000, "--chunk", help="Customers generated (and held in memory) at a time."
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        help="Worker processes generating chunks (0: one per core from 3 chunks up; 1: none). "
        "Output is byte-identical whatever the number.",
    ),
    settings: list[str] = typer.Option(
        [], "--set", help="Any SynthConfig field or prevalence.NAME as key=value; repeatable."
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="YAML file of settings (e.g. prevalence: {sex_ring: 0.01})."
    ),
    bank_export: bool = typer.Option(
        False,
        "--bank-export",
        help="Also render OUT/bank_export/: a messy core-banking CSV (own column names, "
        "DD/MM/YYYY local times, DR/CR, thousands separators, junk rows) with the mappings "
        "that ingest it.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary."),
) -> None:
    """Generate synthetic transactions, accounts and ground truth (schemes and lookalikes)."""
    from txflags.synthetic import SynthConfig, generate
    from txflags.synthetic.config import load_profile, parse_settings

    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        raise InputError(f"--start must be a date like 2026-01-01 (got {start!r})") from None
    cfg = SynthConfig(
        customers=customers,
        days=days,
        seed=seed,
        start=start_date,
        chunk_customers=chunk,
        workers=workers,
        prevalence_scale=prevalence_scale,
        noise=noise,
        partial=partial,
        evasion=evasion,
    )
    if profile is not None:
        cfg = cfg.with_settings(load_profile(profile))
    if settings:
        cfg = cfg.with_settings(parse_settings(settings))
    if as_json:
        summary = generate(cfg, out, fmt=fmt, per_day=per_day)
        result = summary.as_dict()
        if bank_export:
            result["bank_export"] = _bank_export(out, seed)
        typer.echo(json.dumps(result, indent=2))
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate(cfg, out, fmt=fmt, per_day=per_day, progress=tick)
    s = summary.as_dict()
    typer.echo(
        f"wrote {s['rows']:,} transactions for {s['accounts']:,} accounts to {out} "
        f"in {s['seconds']:.1f}s"
    )
    typer.echo(f"positives: {s['positives']:,} accounts; lookalikes: {s['lookalikes']:,}")
    fams = ", ".join(f"{k} {v}" for k, v in s["positives_by_family"].items())
    typer.echo(f"positives by family: {fams}")
    if bank_export:
        info = _bank_export(out, seed)
        typer.echo(
            f"bank export: {info['transactions']} ({info['junk_rows']} junk rows to quarantine), "
            f"ingest with: txflags ingest {info['transactions']} -m {info['transactions_mapping']}"
        )


def _bank_export(out: Path, seed: int) -> dict[str, str | int]:
    from txflags.synthetic.bank_export import export_dataset

    export = export_dataset(out, seed)
    return {k: (v if isinstance(v, int) else str(v)) for k, v in export.__dict__.items()}
