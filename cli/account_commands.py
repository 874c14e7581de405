"""`stepwise db upgrade` and `stepwise user create`: the database and the first accounts."""

from __future__ import annotations

import asyncio
import sys

import click

from cli.settings import command_settings
from core.accounts import AccountError, create_first_user
from core.auth.scopes import ROLES
from core.db.engine import display_url
from core.db.errors import AlreadyExists
from core.db.migrate import SchemaOutdated, head, upgrade


@click.group("db")
def db_group() -> None:
    """The application database (STEPWISE_DATABASE_URL; SQLite in the data dir by default)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the database does not have yet."""
    settings = command_settings()
    asyncio.run(upgrade(settings.database_url))
    click.echo(f"{display_url(settings.database_url)} is at revision {head()}", err=True)


@click.group("user")
def user_group() -> None:
    """User accounts."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_group.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an admin (same as --role admin).")
@click.option("--role", type=click.Choice(ROLES), help="The user's role (default: member).")
@click.option("--email", help="The user's email address.")
@click.option("--group", "groups", multiple=True, help="A group to put the user in (created if missing).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def user_create(
    username: str,
    admin: bool,
    role: str | None,
    email: str | None,
    groups: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a user with a password; the first admin is made this way."""
    if admin and role not in (None, "admin"):
        raise click.UsageError(f"--admin and --role {role} contradict each other; give one")
    settings = command_settings()
    chosen = "admin" if admin else role or "member"
    password = _password(password_stdin)
    try:
        user = asyncio.run(
            create_first_user(settings.database_url, username, password, chosen, email, list(groups))
        )
    except (AccountError, AlreadyExists, SchemaOutdated) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {chosen} {user.username} (id {user.id})", err=True)
