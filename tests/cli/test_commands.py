"""The lazy `dgv` group: each command's one-line help, shown without importing it, is its own."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from datagouv_sdk.cli import _COMMANDS, cli


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_listed_help_is_the_command_docstring(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command) and command.name == name
    assert _COMMANDS[name][1] == command.get_short_help_str(limit=200)


def test_help_lists_every_command() -> None:
    shown = CliRunner().invoke(cli, ["--help"]).output
    assert all(f"  {name} " in shown for name in _COMMANDS)
