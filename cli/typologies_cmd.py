"""`txflags typologies`: validate, list, show and test the typology catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from txflags import features
from txflags.catalogue import default_root, load_catalogue, typology_files
from txflags.errors import CheckFailed, InputError
from txflags.fixtures import fixture_summary, run_fixtures

sub = typer.Typer(help="The typology catalogue: validate, list, show, test.", no_args_is_help=True)
CAT = typer.Option(None, "--catalogue", help="Catalogue folder (default: the shipped one).")
JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _out(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@sub.command("validate")
def validate_cmd(
    paths: list[Path] = typer.Argument(None, help="Typology files or folders (default: all)."),
    catalogue: Path = CAT,
    as_json: bool = JSON,
) -> None:
    """Check typology files; exit 2 with what to fix if any is invalid."""
    from txflags.typology_check import validate_files

    files: list[Path] = []
    for p in paths or [catalogue or default_root()]:
        files.extend(typology_files(p) if p.is_dir() else [p])
    problems = validate_files(files)
    if as_json:
        _out({"files": len(files), "problems": {str(k): v for k, v in problems.items()}})
    else:
        for path, msgs in problems.items():
            for m in msgs:
                typer.echo(f"{path}: {m}")
        if not problems:
            typer.echo(f"{len(files)} typology file(s) valid")
    if problems:
        raise InputError(f"{len(problems)} invalid typology file(s)")


@sub.command("list")
def list_cmd(
    family: str = typer.Option(None, "--family", help="Only this family."),
    catalogue: Path = CAT,
    as_json: bool = JSON,
) -> None:
    """List the typologies."""
    cat = load_catalogue(root=catalogue)
    rows = [
        {"id": t.id, "indicator": t.indicator, "family": t.family, "weight": t.weight,
         "version": t.version, "status": t.doc["status"], "roles": t.roles,
         "requires": t.requires, "depends_on": t.depends_on, "title": t.title}
        for t in sorted(cat, key=lambda t: t.id)
        if family is None or t.family == family
    ]
    if as_json:
        _out(rows)
        return
    table = Table(title=f"{len(rows)} typologies")
    for col in ("id", "indicator", "weight", "roles", "requires", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["indicator"], str(r["weight"]), ",".join(r["roles"]),
                      ",".join(r["requires"]), r["title"])
    Console().print(table)


@sub.command("show")
def show_cmd(typology_id: str, catalogue: Path = CAT, as_json: bool = JSON) -> None:
    """Show one typology: header, parameters with ranges, detection, bands, fixture."""
    t = load_catalogue(root=catalogue).get(typology_id)
    det = t.detection
    feats = sorted({s["feature"] for s in {**det.get("derive", {}), **det["measures"]}.values()})
    data = {
        **{k: v for k, v in t.doc.items() if k not in ("detection",)},
        "detection": det,
        "features": {f: features.get(f).summary for f in feats},
        "fixture": fixture_summary(t.fixture_path) if t.fixture_path else None,
        "path": str(t.path),
    }
    if as_json:
        _out(data)
        return
    con = Console()
    con.print(f"[bold]{t.id}[/] v{t.version} ({t.indicator}) - {t.title}")
    con.print(f"family {t.family}, weight {t.weight}, roles {', '.join(t.roles)}, "
              f"status {t.doc['status']}, references {', '.join(t.doc['references'])}")
    if t.requires:
        con.print(f"requires: {', '.join(t.requires)}")
    if t.depends_on:
        con.print(f"depends on: {', '.join(t.depends_on)}")
    table = Table(title="parameters")
    for col in ("name", "default", "min", "max", "description"):
        table.add_column(col)
    for name, spec in t.doc["parameters"].items():
        table.add_row(name, str(spec["default"]), str(spec.get("min", "")),
                      str(spec.get("max", "")), spec.get("description", ""))
    con.print(table)
    con.print("[bold]detection[/]")
    con.print_json(json.dumps(det))
    for name, doc in data["features"].items():
        con.print(f"  feature {name}: {doc}")
    for b in t.doc["bands"]:
        con.print(f"band {b['band']}: {b['reason']}")
    con.print(f"sentence: {t.doc['sentence']}")
    con.print(f"fixture: {data['fixture']}")


@sub.command("test")
def test_cmd(
    ids: list[str] = typer.Argument(None, help="Typology ids (default: all)."),
    catalogue: Path = CAT,
    as_json: bool = JSON,
) -> None:
    """Run the fixtures; exit 1 with a diff of expected vs got if any fails."""
    results = run_fixtures(load_catalogue(root=catalogue), ids or None)
    failed = [r for r in results if not r.passed]
    if as_json:
        _out([{"typology_id": r.typology_id, "passed": r.passed, "error": r.error,
               "diff": r.diff} for r in results])
    else:
        table = Table(title=f"{len(results) - len(failed)}/{len(results)} fixtures pass")
        for col in ("typology", "result", "diff (account: expected -> got)"):
            table.add_column(col)
        for r in results:
            diff = r.error or "; ".join(f"{d['account']}: {d['expected']} -> {d['got']}"
                                        for d in r.diff)
            table.add_row(r.typology_id, "pass" if r.passed else "[red]FAIL[/]", diff)
        Console().print(table)
    if failed:
        raise CheckFailed(f"{len(failed)} fixture(s) failed: "
                          + ", ".join(r.typology_id for r in failed))


def register(app: typer.Typer) -> None:
    """Attach `typologies` to the main app."""
    app.add_typer(sub, name="typologies")
