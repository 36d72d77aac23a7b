"""`dgv specs`: `diff` is the installed package's; `check` and `update` are maintainer commands of a
source checkout (tools/specpipeline) and say so, instead of crashing on a plain install."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from datagouv_sdk.cli import cli


def test_help_lists_diff_only() -> None:
    run = CliRunner().invoke(cli, ["specs", "--help"])
    assert run.exit_code == 0
    commands = run.output.split("Commands:")[1].split()
    assert commands[0] == "diff" and "check" not in commands and "update" not in commands


@pytest.mark.parametrize(
    ("command", "target"), [("check", "make check-specs"), ("update", "make update-specs")]
)
def test_maintainer_commands_point_to_the_checkout(command: str, target: str) -> None:
    run = CliRunner().invoke(cli, ["specs", command, "--mirror", "x"])
    assert run.exit_code == 2  # click's usage error
    assert f"`dgv specs {command}` is a maintainer command of a datagouv-sdk source checkout" in run.output
    assert f"run `{target} (python -m tools.specpipeline {command})` there" in run.output


def test_an_unknown_subcommand_is_still_clicks_error() -> None:
    run = CliRunner().invoke(cli, ["specs", "nope"])
    assert run.exit_code == 2 and "No such command 'nope'" in run.output
