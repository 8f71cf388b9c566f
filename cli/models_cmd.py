"""`txflags models show|reset`: the anomaly models' saved state in a store (STORE/models/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from txflags.cli.output import console, print_json
from txflags.errors import InputError
from txflags.models.suite import read_info
from txflags.store import MODELS, Store, current_models_dir

MODELS_DIR = MODELS

app = typer.Typer(help="Anomaly models: show or reset the state a scan saves in the store.",
                  no_args_is_help=True)


def state_dir(store: Path) -> Path:
    """Where the current nightly model state lives in a store (``STORE/models/state-<run>``,
    named in the store's database; ``STORE/models`` when there is none yet)."""
    return current_models_dir(store) or Path(store) / MODELS_DIR


@app.command("show")
def show_command(
    store: Path = typer.Option(..., "--store", help="Store folder."),
    json_out: bool = typer.Option(False, "--json", help="Print the state summary as JSON."),
) -> None:
    """Show the saved models: version stamps, accounts tracked and nights learned."""
    if not store.is_dir():
        raise InputError(f"--store {store} is not a folder")
    info = read_info(state_dir(store))
    if json_out:
        print_json(info or {"models": [], "nights_learned": 0})
        return
    if info is None:
        console.print(f"no model state in {state_dir(store)} (the next scan starts baselines)")
        return
    console.print(
        f"{info['nights_learned']} night(s) learned, {info['days_learned']} day(s) "
        f"({info['first_day']} to {info['last_day']}), "
        f"{info['accounts_tracked']:,} accounts tracked, features v{info['feature_version']}"
    )
    for name, st in info["stamps"].items():
        params = ", ".join(f"{k}={v}" for k, v in st["params"].items())
        console.print(f"  {name}: txflags {st['txflags_version']}, {st['class']}({params})")


@app.command("reset")
def reset_command(
    store: Path = typer.Option(..., "--store", help="Store folder."),
    json_out: bool = typer.Option(False, "--json", help="Print what was removed as JSON."),
) -> None:
    """Delete the saved model state; the next scan starts every baseline afresh."""
    if not store.is_dir():
        raise InputError(f"--store {store} is not a folder")
    d = Path(store) / MODELS_DIR
    if (store / "txflags.sqlite").is_file():
        existed = Store(store).reset_models()
    else:  # a folder saved by ModelSuite.save, outside a scan store
        existed = d.is_dir()
        shutil.rmtree(d, ignore_errors=True)
    if json_out:
        print_json({"removed": existed, "path": str(d)})
    else:
        console.print(f"removed {d}" if existed else f"no model state in {d}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="models")
