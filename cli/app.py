"""The `txflags` command: a thin Typer shell over the public Python API."""

from __future__ import annotations

import sys

import typer

from txflags import __version__
from txflags.errors import CheckFailed, InputError

app = typer.Typer(
    name="txflags",
    help="Find the financial footprints of human trafficking in transaction exports.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"txflags {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Find the financial footprints of human trafficking in transaction exports."""


_registered = False


def _register() -> None:
    """Attach every command module once. Each module exposes `register(app)`."""
    global _registered
    if _registered:
        return
    from txflags.cli import commands

    for module in commands.MODULES:
        module.register(app)
    _registered = True


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become a message and exit 2, never a traceback.

    Typer's standalone mode handles --help (exit 0) and usage errors (exit 2); txflags' own
    errors propagate out of it and are turned into exit codes here.
    """
    _register()
    try:
        app(args=argv)
    except InputError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except CheckFailed as exc:
        typer.secho(f"check failed: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)
