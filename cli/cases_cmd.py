"""`txflags cases list|show|disposition`: the cases a scan keeps in the store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from txflags.cases.book import list_cases, set_disposition, show_case
from txflags.cases.records import STATUSES
from txflags.cli.output import console, print_json

app = typer.Typer(help="Cases: list them by priority, show one, record an analyst's decision.",
                  no_args_is_help=True)

STORE = typer.Option(..., "--store", help="Store folder (the one `txflags scan` wrote).")
STATUS_HELP = (f"Statuses to list (repeatable): {', '.join(STATUSES)}. "
               "Default: the active ones (open, reviewing, filed).")


@app.command("list")
def list_command(
    store: Path = STORE,
    status: list[str] = typer.Option(None, "--status", help=STATUS_HELP),
    all_: bool = typer.Option(False, "--all", help="Every status, closed ones too."),
    limit: int = typer.Option(0, "--limit", "-n", min=0, help="Show the top N only (0: all)."),
    json_out: bool = typer.Option(False, "--json", help="Print the cases as JSON."),
) -> None:
    """Cases ranked by priority (1 = most urgent), with the reasons for the rank."""
    cases = list_cases(store, list(STATUSES) if all_ else (status or None), limit or None)
    if json_out:
        print_json(cases)
        return
    if not cases:
        console.print("no cases (a scan opens one when it flags an account)")
        return
    table = Table(title=f"cases in {store}")
    table.add_column("#", justify="right")
    table.add_column("case", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("parties (subjects)", justify="right")
    table.add_column("alerts", justify="right")
    table.add_column("fam.", justify="right")
    table.add_column("SAR due", no_wrap=True)
    table.add_column("main reason", overflow="fold")
    for c in cases:
        table.add_row(str(c["priority"]), c["case_id"], c["status"], f"{c['priority_score']:.0f}",
                      f"{c['n_parties']} ({c['n_subjects']})", str(c["n_alerts"]),
                      str(len(c["families"])), c["sar_due"],
                      (c["priority_reasons"][1:2] or c["priority_reasons"][:1] or [""])[0])
    console.print(table)


@app.command("show")
def show_command(
    case_id: str = typer.Argument(..., help="Case id, e.g. HT-7080E14738."),
    store: Path = STORE,
    json_out: bool = typer.Option(False, "--json", help="Print the case as JSON."),
) -> None:
    """One case: dates, parties with roles and reasons, activity across nights, decisions."""
    c = show_case(store, case_id)
    if json_out:
        print_json(c)
        return
    console.print(f"[bold]{c['case_id']}[/] · {c['status']} · priority {c['priority'] or '-'} "
                  f"· score {c['priority_score']:.1f}")
    console.print(f"opened {c['opened_on']} · activity {c['first_activity']} to "
                  f"{c['last_activity']} · SAR due {c['sar_due']} · review {c['review_due']} · "
                  f"continuing SAR {c['continuing_sar_due']}")
    for reason in c["priority_reasons"]:
        console.print(f"  why: {reason}")
    table = Table(title="parties")
    for col in ("account", "role", "subject", "risk", "families", "reasons"):
        table.add_column(col, overflow="fold")
    for p in c["parties"]:
        table.add_row(p["account_id"], p["role"], "yes" if p["is_subject"] else "no",
                      f"{p['risk_score']:.1f}", ", ".join(p["families"]),
                      "; ".join(p["role_reasons"]))
    console.print(table)
    if any(p["role"] == "likely_victim" for p in c["parties"]):
        console.print("[yellow]Likely victims are never SAR subjects: treat them as possible "
                      "victims of trafficking, not as suspects.[/]")
    for a in c["activity"]:
        console.print(f"  {a['as_of']} {a['kind']}: +{a['new_alerts']} alerts, "
                      f"+{a['new_parties']} parties ({a['note']})")
    for e in c["events"]:
        console.print(f"  {e['at']} → {e['status']}: {e['note']}")


@app.command("disposition")
def disposition_command(
    case_id: str = typer.Argument(..., help="Case id."),
    status: str = typer.Argument(..., help=f"New status: {', '.join(STATUSES)}."),
    store: Path = STORE,
    note: str = typer.Option("", "--note", help="Why (kept in the case's history)."),
    on: datetime = typer.Option(None, "--on", formats=["%Y-%m-%d"],
                                help="Day of the decision (default: today)."),
    suppress_days: int = typer.Option(
        None, "--suppress-days", min=0,
        help="For closed-*: stay quiet this many days unless the pattern escalates "
        "(default 90, or `cases.suppress_days` of a profile)."),
    document_number: str = typer.Option(
        None, "--document-number", help="For filed: the 14-digit BSA id FinCEN returned."),
    json_out: bool = typer.Option(False, "--json", help="Print the updated case as JSON."),
) -> None:
    """Record an analyst's decision: filed (starts the 90/120-day clock), closed-* (suppresses
    the same pattern unless it escalates), open or reviewing."""
    c = set_disposition(store, case_id, status, note=note, on=on.date() if on else None,
                        suppress_days=suppress_days, document_number=document_number)
    if json_out:
        print_json(c)
        return
    extra = f", suppressed until {c['suppressed_until']}" if c.get("suppressed_until") else ""
    console.print(f"{case_id}: {c['status']}{extra}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="cases")
