"""The command group: every command is found by name, and only the one that runs is loaded."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from pipeline.cli.main import COMMANDS, cli


def test_every_command_loads_under_its_name() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1].split()
    assert set(COMMANDS) <= set(listed)


def test_the_zoning_command_does_not_load_the_map_and_dossier_libraries() -> None:
    """``geopark zones`` after each field campaign starts without matplotlib, the maps, the
    dossiers or SQLAlchemy (only publishing and PostGIS edits need it)."""
    code = (
        "import sys, click\n"
        "from pipeline.cli.main import cli\n"
        "cli.get_command(click.Context(cli), 'zones')\n"
        "print(sorted(m for m in ('matplotlib', 'pipeline.dossiers', 'pipeline.maps', 'sqlalchemy')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
