"""Which way a command goes: through the API of a stored login (remote mode), or straight to
Temporal when no login is stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from core.remote import Remote, RemoteError, base_url
from core.stored_login import StoredLoginError, load_login, login_lock, login_path, save_login

F = TypeVar("F", bound=Callable[..., Any])


def api_option(command: F) -> F:
    """The `--api URL` option (or STEPWISE_API_URL) of the commands that may go through the API."""
    return click.option(
        "--api",
        "api_url",
        envvar="STEPWISE_API_URL",
        default=None,
        help="Go through the Stepwise API at URL (signed in with `stepwise login`); default: the login's.",
    )(command)


@contextmanager
def remote_errors() -> Iterator[None]:
    """Turn a refused or failed API call into the command's error message (exit 1)."""
    try:
        yield
    except (RemoteError, StoredLoginError) as exc:
        raise click.ClickException(str(exc)) from None


def remote_session(api_url: str | None) -> Remote | None:
    """The API of the stored login, or None (direct to Temporal) when none is stored."""
    path = login_path()
    with remote_errors():
        login = load_login(path)
        wanted = base_url(api_url) if api_url else None
    if login is None:
        if wanted is not None:
            raise click.ClickException(
                f"no login is stored ({path}) for the API at {wanted}; "
                f"sign in with `stepwise login --url {wanted}` first"
            )
        return None
    if wanted is not None and wanted != login.url:
        raise click.ClickException(
            f"the stored login is for {login.url}, not {wanted}; sign in there with "
            f"`stepwise login --url {wanted}`"
        )
    return Remote(
        login,
        lambda refreshed: save_login(path, refreshed),
        latest=lambda: load_login(path),
        exclusive=lambda: login_lock(path),
    )


def refuse_in_remote_mode(remote: Remote, **given: object) -> None:
    """Options that only direct mode takes: the API knows who is signed in."""
    for option, value in given.items():
        if value:
            flag = "--" + option.replace("_", "-")
            raise click.UsageError(
                f"{flag} is not taken through the API at {remote.login.url}: you act as the signed-in "
                "user (`stepwise whoami`); to act as someone else, sign in as them with `stepwise login`"
            )
