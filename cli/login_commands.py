"""`stepwise login`, `logout` and `whoami`: the command line's sign-in to a remote Stepwise."""

from __future__ import annotations

import json
import os
import sys

import click

from cli.remote_mode import remote_errors, remote_session
from core.remote import DEFAULT_URL, Remote, RemoteError, base_url, open_http, sign_in, sign_in_with_key
from core.stored_login import load_login, login_path, remove_login, save_login


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise click.UsageError(f"no {what} on standard input")
    return line


@click.command()
@click.option("--url", default=None, help=f"The API's address; default: the stored one, else {DEFAULT_URL}.")
@click.option("--username", default=None, help="Who signs in (asked when not given).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--api-key-stdin", is_flag=True, help="Sign in with an API key read from stdin instead.")
def login(url: str | None, username: str | None, password_stdin: bool, api_key_stdin: bool) -> None:
    """Sign in to a Stepwise API and store the session for `run`, `inbox`, `respond` and `signal`."""
    if password_stdin and api_key_stdin:
        raise click.UsageError("give --password-stdin or --api-key-stdin, not both")
    path = login_path()
    with remote_errors():
        stored = load_login(path)
        chosen = url or os.environ.get("STEPWISE_API_URL") or (stored.url if stored else DEFAULT_URL)
        address = base_url(chosen)
        with open_http(address) as http:
            if api_key_stdin:
                new, me = sign_in_with_key(http, address, _stdin_line("API key"))
                who = str(me["username"])
            else:
                who = username or str(click.prompt("Username"))
                password = (
                    _stdin_line("password") if password_stdin else click.prompt("Password", hide_input=True)
                )
                new = sign_in(http, address, who, password, lambda: click.prompt("Two-factor code"))
        save_login(path, new)
    click.echo(f"signed in to {address} as {who}; the session is stored in {path}", err=True)


@click.command()
def logout() -> None:
    """Revoke the stored session at the API and remove the credentials file."""
    path = login_path()
    with remote_errors():
        stored = load_login(path)
    if stored is None:
        click.echo(f"no login is stored ({path}); nothing to do", err=True)
        return
    failure: str | None = None
    revoked = True
    if stored.refresh_token is not None:
        remote = Remote(stored, lambda _: None)  # logging out stores no new tokens
        try:
            revoked = remote.logout()
        except RemoteError as exc:
            failure = str(exc)
        finally:
            remote.close()
    # The local secret goes either way: a session the API could not revoke expires on its own.
    with remote_errors():
        remove_login(path)
    if failure is not None:
        raise click.ClickException(f"removed {path}, but the API did not revoke the session: {failure}")
    if stored.api_key is not None:
        click.echo(
            f"removed the API key from {path}; the key itself stays valid until it is revoked "
            "(DELETE /api/v1/api-keys/{id})",
            err=True,
        )
        return
    ended = "" if revoked else " (the session had ended already)"
    click.echo(f"signed out of {stored.url}{ended}; removed {path}", err=True)


@click.command()
def whoami() -> None:
    """Print the signed-in user (GET /users/me) as JSON."""
    remote = remote_session(None)
    if remote is None:
        raise click.ClickException(
            f"not signed in ({login_path()} has no login); sign in with `stepwise login`"
        )
    with remote_errors():
        me = remote.call("GET", "/users/me")
    click.echo(json.dumps(me, separators=(",", ":"), ensure_ascii=False))
