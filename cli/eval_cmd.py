"""`txflags eval`: precision and recall of a scan against generated ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from txflags.cli.output import console, print_json
from txflags.evaluate import evaluate


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}"
    return f"{v:,}"


def _table(title: str, rows: list[dict[str, Any]], key: str) -> Table:
    table = Table(title=title)
    table.add_column(key, no_wrap=True, min_width=20)
    cols = ["n_pos", "n_pred", "tp", "fp", "fn", "precision", "recall", "alerts_per_1k"]
    present = [c for c in cols if rows and c in rows[0]]
    for c in present:
        table.add_column(c.replace("_", " "), justify="right")
    for r in rows:
        table.add_row(r["key"], *[_fmt(r[c]) for c in present])
    return table


def eval_command(
    truth: Path = typer.Option(
        ..., "--truth", help="Synth output folder, or its truth_accounts.parquet."
    ),
    alerts: Path = typer.Option(
        ..., "--alerts", help="Scan output folder, or its alerts.parquet (risk.parquet beside it)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print every table as JSON on stdout."),
) -> None:
    """Account-level (and transaction-level) precision and recall per typology and family."""
    result = evaluate(truth, alerts)
    if json_out:
        print_json(result)
        return
    console.print(
        f"{result['accounts']:,} accounts, {result['positives']:,} in a scheme (label 1)"
    )
    if "flagged" in result:
        console.print(_table("flagged (risk.parquet)", [result["flagged"]], "overall"))
        console.print(_table("flagged, by family", result["flagged_by_family"], "family"))
    console.print(_table("alerts by family", result["by_family"], "family"))
    console.print(_table("alerts by typology", result["by_typology"], "typology"))
    if "transactions_by_typology" in result:
        console.print(
            _table("evidence transactions by typology", result["transactions_by_typology"],
                   "typology")
        )


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
