"""The `dgv` command. Command groups live in their own modules and are imported only when used,
so `dgv --help` and every command start fast (see benchmarks/)."""

from __future__ import annotations

import importlib
from typing import Any

import click

from datagouv_sdk._version import __version__

# command name -> ("module:attribute" of a click command or group, its one-line help). Each workflow
# adds its line here; the help is shown by `dgv --help` without importing the module.
_COMMANDS: dict[str, tuple[str, str]] = {
    "api": (
        "datagouv_sdk.cli.api:api",
        "Call any operation of the four APIs, by operation id or METHOD PATH (JSON out).",
    ),
    "auth": (
        "datagouv_sdk.cli.auth:auth",
        "Log in with an API key, check it, log out; list, create and revoke your API tokens.",
    ),
    "catalog": (
        "datagouv_sdk.cli.catalog_store:catalog",
        "The whole catalog as tables: daily exports synced into DuckDB, queried with SQL.",
    ),
    "datasets": ("datagouv_sdk.cli.catalog:datasets", "List, show and search datasets."),
    "discussions": (
        "datagouv_sdk.cli.collections:discussions",
        "List, show and search discussions on datasets, reuses and dataservices.",
    ),
    "organizations": ("datagouv_sdk.cli.catalog:organizations", "List, show and search organizations."),
    "posts": ("datagouv_sdk.cli.collections:posts", "List, show and search the portal's news posts."),
    "reuses": (
        "datagouv_sdk.cli.collections:reuses",
        "List, show and search reuses (applications, visualisations… built on the data).",
    ),
    "topics": (
        "datagouv_sdk.cli.collections:topics",
        "List, show and search topics (curated sets of datasets, reuses, dataservices).",
    ),
    "users": ("datagouv_sdk.cli.collections:users", "List (sysadmins) and show users."),
    "dataservices": (
        "datagouv_sdk.cli.dataservices:dataservices",
        "Find third-party APIs in the catalog, read their OpenAPI document, call them.",
    ),
    "resources": ("datagouv_sdk.cli.catalog:resources", "Upload and replace resource files."),
    "metrics": (
        "datagouv_sdk.cli.metrics:metrics",
        "Monthly visits and downloads (Metrics API): query and export.",
    ),
    "tabular": (
        "datagouv_sdk.cli.tabular:tabular",
        "Rows of CSV resources (Tabular API): profile, query, export, SQL, manifests.",
    ),
    "specs": (
        "datagouv_sdk.cli.specs:specs",
        "Upstream spec drift: the semantic diff of two spec documents.",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attribute = entry[0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module.
        rows = [(name, _COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dgv")
@click.option("--api-key", envvar="DATAGOUV_API_KEY", help="API key (X-API-KEY); or DATAGOUV_API_KEY.")
@click.option("--base-url", envvar="DATAGOUV_BASE_URL", help="Main API base URL, or a preset: prod, demo.")
@click.option("--metrics-url", envvar="DATAGOUV_METRICS_URL", help="Metrics API base URL.")
@click.option("--tabular-url", envvar="DATAGOUV_TABULAR_URL", help="Tabular API base URL.")
@click.option("--timeout", type=float, default=None, help="Read timeout in seconds.")
@click.option("--json", "as_json", is_flag=True, help="JSON output (JSON Lines for lists).")
@click.option("-v", "--verbose", count=True, help="Debug logging; tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Command-line client for the data.gouv.fr APIs."""
    ctx.obj = options


def main() -> None:
    cli()
