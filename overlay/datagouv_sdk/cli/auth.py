"""`dgv auth`: keep an API key for a portal, check it, forget it (and revoke it); manage tokens.

    dgv auth login                       # asks for the key (hidden), checks it with the server, stores it
    dgv auth login --with-token < key    # from standard input (scripts)
    dgv auth status                      # which key is used (flag, env var or stored) and whose it is
    dgv auth logout --revoke             # revoke the stored key on the server, then forget it
    dgv auth token list | create NAME [--expires 2027-01-31] | revoke ID-OR-KEY

Keys are stored per portal (`--base-url`) in the user's config directory, mode 0600
(`datagouv_sdk.credentials`). `--api-key` and `DATAGOUV_API_KEY` still win over a stored key. A key
that cannot be one (whitespace, a URL, no `udata_` prefix on data.gouv.fr) is refused before any
request, and the key is only ever sent to the portal's own API host.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from datagouv_sdk.cli.output import client_from_ctx, handle_errors, json_mode, print_item, print_items

if TYPE_CHECKING:
    from datagouv_sdk.client import DataGouv
    from datagouv_sdk.config import Config

TOKEN_COLUMNS = [
    ("id", "id"),
    ("name", "name"),
    ("token", "token_prefix"),
    ("created_at", "created_at"),
    ("last_used_at", "last_used_at"),
    ("expires_at", "expires_at"),
]


def _key_source(ctx: click.Context) -> str | None:
    """Where the global --api-key value came from: "--api-key", "DATAGOUV_API_KEY", or None."""
    root = ctx.find_root()
    if root.params.get("api_key") is None:
        return None
    source = root.get_parameter_source("api_key")
    return "DATAGOUV_API_KEY" if source == click.core.ParameterSource.ENVIRONMENT else "--api-key"


def _portal(ctx: click.Context) -> Config:
    """The configured portal, without any key (a key is checked against it separately)."""
    from datagouv_sdk.config import Config

    options = ctx.find_root().params
    given = {
        name: options.get(name)
        for name in ("base_url", "metrics_url", "tabular_url", "timeout")
        if options.get(name) is not None
    }
    return Config.from_env(use_stored_key=False, api_key=None, environ={}, **given)


def _client(config: Config, key: str) -> DataGouv:
    import attrs

    from datagouv_sdk.client import DataGouv

    return DataGouv(attrs.evolve(config, api_key=key))


def _name(user: dict[str, Any]) -> str:
    full = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return f"{full} ({user.get('slug')})" if full else str(user.get("slug") or user.get("id"))


def _owner(config: Config, key: str) -> tuple[str, Any]:
    """Whose key it is (the server's answer to /me/) and its token (None if not found among the
    account's tokens); `AuthenticationError` when the server refuses it."""
    with _client(config, key) as dg:
        user: dict[str, Any] = dg.me.get(raw=True)
        return _name(user), dg.me.tokens.find(key)


@click.group()
def auth() -> None:
    """Log in with an API key, check it, log out; list, create and revoke your API tokens."""


@auth.command("login")
@click.option("--with-token", is_flag=True, help="Read the key from standard input (for scripts).")
@handle_errors
def login(with_token: bool) -> None:
    """Store an API key for this portal, once the server has accepted it."""
    from datagouv_sdk.credentials import check_api_key, credentials_path, key_hint, store_key
    from datagouv_sdk.errors import AuthenticationError

    ctx = click.get_current_context()
    config = _portal(ctx)
    source = _key_source(ctx)
    if with_token:
        raw = sys.stdin.read()
    elif source is not None:
        raw = ctx.find_root().params["api_key"]
    elif sys.stdin.isatty():
        raw = click.prompt(
            f"API key for {config.base_url} (from your profile's API tokens page)", hide_input=True
        )
    else:
        raise click.UsageError(
            "no terminal to ask for the key on: pipe it in with `dgv auth login --with-token`"
        )
    key = check_api_key(raw, base_url=config.base_url)
    try:
        user, token = _owner(config, key)
    except AuthenticationError as exc:
        raise click.ClickException(f"the server refuses this key ({exc}); nothing was changed") from exc
    stored = store_key(config.base_url, key, user=user, token_id=token.id if token else None)
    click.echo(
        f"Logged in to {config.base_url} as {stored.user} (key {key_hint(key)}, stored in {credentials_path()})",
        err=True,
    )
    if source != "DATAGOUV_API_KEY" and os.environ.get("DATAGOUV_API_KEY", "").strip():
        click.echo("note: DATAGOUV_API_KEY is set, and wins over the stored key while it is", err=True)


@auth.command("status")
@click.option("--offline", is_flag=True, help="Do not ask the server whose key it is.")
@handle_errors
def status(offline: bool) -> None:
    """Which key the commands use for this portal, where it comes from, and whose it is."""
    from datagouv_sdk.credentials import credentials_path, key_hint, stored_key
    from datagouv_sdk.errors import AuthenticationError

    ctx = click.get_current_context()
    config = _portal(ctx)
    source = _key_source(ctx)
    key: str | None = None
    if source is not None:
        from datagouv_sdk.credentials import check_api_key

        key = check_api_key(ctx.find_root().params["api_key"], base_url=config.base_url, name=source)
    else:
        stored = stored_key(config.base_url)
        if stored is not None:
            key, source = stored.api_key, f"stored in {credentials_path()}"
    report: dict[str, Any] = {
        "portal": config.base_url,
        "key": key_hint(key) if key else None,
        "source": source,
    }
    if key is None:
        _print_status(report)
        raise click.ClickException(f"not logged in to {config.base_url}: run `dgv auth login`")
    if not offline:
        try:
            user, token = _owner(config, key)
        except AuthenticationError as exc:
            report["valid"] = False
            _print_status(report)
            raise click.ClickException(f"the server refuses this key: {exc.message}") from exc
        report |= {"valid": True, "user": user}
        if token is not None:
            report["token"] = {
                "id": token.id,
                "name": getattr(token, "name", None),
                "expires_at": getattr(token, "expires_at", None),
                "last_used_at": getattr(token, "last_used_at", None),
            }
    _print_status(report)


def _print_status(report: dict[str, Any]) -> None:
    if json_mode():
        print_item(report)
        return
    click.echo(f"portal  {report['portal']}")
    click.echo(
        f"key     {report['key'] or '(none)'}{'  from ' + report['source'] if report['source'] else ''}"
    )
    if "user" in report:
        click.echo(f"user    {report['user']}")
    token = report.get("token")
    if token:
        from datagouv_sdk.cli.output import to_jsonable

        details = ", ".join(
            f"{k} {to_jsonable(v)}" for k, v in token.items() if v not in (None, "") and k != "id"
        )
        click.echo(f"token   {token['id']}{'  (' + details + ')' if details else ''}")


@auth.command("logout")
@click.option(
    "--revoke", is_flag=True, help="Revoke the key on the server first (it stops working everywhere)."
)
@handle_errors
def logout(revoke: bool) -> None:
    """Forget the key stored for this portal (and revoke it on the server with --revoke)."""
    from datagouv_sdk.credentials import credentials_path, forget_key, key_hint, stored_key
    from datagouv_sdk.errors import AuthenticationError, GoneError

    ctx = click.get_current_context()
    config = _portal(ctx)
    stored = stored_key(config.base_url)
    if stored is None:
        source = _key_source(ctx)
        hint = f" (the key in use comes from {source}: unset it instead)" if source else ""
        raise click.ClickException(f"no key is stored for {config.base_url}{hint}")
    note = ""
    if revoke:
        with _client(config, stored.api_key) as dg:
            try:
                dg.me.tokens.revoke(stored.token_id or stored.api_key)
                note = "; revoked on the server"
            except (GoneError, AuthenticationError):  # revoked or expired already: nothing left to do
                note = "; the server no longer accepted it"
    forget_key(config.base_url)
    click.echo(
        f"Logged out of {config.base_url} (key {key_hint(stored.api_key)} removed from {credentials_path()}{note})",
        err=True,
    )


@auth.group("token")
def token() -> None:
    """Your API tokens on this portal (needs a key): list, create, revoke."""


@token.command("list")
@handle_errors
def token_list() -> None:
    """Your active tokens (udata shows only their first characters)."""
    with client_from_ctx() as dg:
        print_items(dg.me.tokens.list(), TOKEN_COLUMNS)


@token.command("create")
@click.argument("name", required=False)
@click.option(
    "--expires", "expires_at", help="Expiry date or date-time, ISO 8601 (UTC unless an offset is given)."
)
@handle_errors
def token_create(name: str | None, expires_at: str | None) -> None:
    """Create a token and print it: the server shows it only this once."""
    with client_from_ctx() as dg:
        created = dg.me.tokens.create(name, expires_at=expires_at)
    if json_mode():
        print_item(created)
        return
    click.echo(str(created.token))  # alone on stdout: `KEY=$(dgv auth token create ci)`
    click.echo(
        f"created token {created.id} ({created.token_prefix}…): store it now, it is not shown again", err=True
    )


@token.command("revoke")
@click.argument("token_ref", metavar="ID-OR-KEY")
@handle_errors
def token_revoke(token_ref: str) -> None:
    """Revoke a token, given its id or the key itself."""
    with client_from_ctx() as dg:
        dg.me.tokens.revoke(token_ref)
    click.echo("revoked", err=True)
