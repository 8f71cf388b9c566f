"""Every command has help and is documented in the README (the sqlite-utils rule)."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tests.support import ROOT, run_cli
from txflags.cli.app import _register, app

_register()


def _commands(group, prefix=()):
    for name, cmd in sorted(getattr(group, "commands", {}).items()):
        path = (*prefix, name)
        if getattr(cmd, "commands", None):
            yield from _commands(cmd, path)
        else:
            yield path


COMMANDS = list(_commands(get_command(app)))


def test_there_are_commands():
    assert ("ingest",) in COMMANDS and ("mapping", "check") in COMMANDS and ("synth",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p))
def test_command_has_help_and_readme_entry(path):
    readme = (ROOT / "README.md").read_text()
    assert f"txflags {' '.join(path)}" in readme or (
        len(path) == 2 and f"txflags {path[0]} " in readme and path[1] in readme
    ), f"`txflags {' '.join(path)}` is not documented in README.md"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_console_script_version():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("txflags ")
