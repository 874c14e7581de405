"""`stepwise inbox`, `respond` and `signal`: people's side of a run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from cli.remote_commands import inbox_through_api, respond_through_api, signal_through_api
from cli.remote_mode import api_option, refuse_in_remote_mode, remote_session
from cli.run_commands import _json_argument, _print_output
from core.interactions import AnswerRefused, inbox, inbox_page, respond, send_event
from core.settings import Settings
from core.temporal import connect
from workflows.engine.human import Responder


def _direct_user(user: str | None) -> str:
    if user is None:
        raise click.UsageError(
            "name the user who answers with --as USER (or sign in to a Stepwise API with `stepwise login`)"
        )
    return user


@click.command(name="inbox")
@click.option("--as", "user", default=None, help="The user who answers (without a stored login).")
@click.option("--group", "groups", multiple=True, help="A group of that user (repeatable).")
@click.option(
    "--page-size", type=click.IntRange(1, 1000), default=None, help="List one page of this many runs."
)
@click.option("--page", default=None, help="The page to list (a token printed after the previous page).")
@api_option
def inbox_command(
    user: str | None, groups: tuple[str, ...], page_size: int | None, page: str | None, api_url: str | None
) -> None:
    """List the open interactions USER (or the signed-in user) may answer, as JSON lines (all of
    them, or one page)."""
    remote = remote_session(api_url)
    if remote is not None:
        refuse_in_remote_mode(remote, **{"as": user, "group": groups})
        inbox_through_api(remote, page_size, page)
        return
    user = _direct_user(user)
    responder = Responder(user=user, groups=list(groups))

    async def listing() -> None:
        client = await connect(Settings())
        if page_size is None and page is None:
            items = await inbox(client, responder)
            following = None
        else:
            found = await inbox_page(client, responder, page_size or 100, page)
            items, following = found.items, found.next_page
        for item in items:
            _print_output({"run_id": item.run_id, **item.request.model_dump(mode="json")})
        if following:
            click.echo(f"more: stepwise inbox --as {user} --page {following}", err=True)

    asyncio.run(listing())


@click.command(name="respond")
@click.argument("run_id")
@click.argument("interaction_id")
@click.option(
    "--data", "data_json", default="{}", help="The answer as JSON, e.g. '{\"selected_indices\": [0]}'."
)
@click.option("--as", "user", default=None, help="The user who answers (without a stored login).")
@click.option("--group", "groups", multiple=True, help="A group of that user (repeatable).")
@click.option("--key", default=None, help="Idempotency key: the same key twice is one answer.")
@api_option
def respond_command(
    run_id: str,
    interaction_id: str,
    data_json: str,
    user: str | None,
    groups: tuple[str, ...],
    key: str | None,
    api_url: str | None,
) -> None:
    """Answer an open interaction of a run."""
    data = _json_argument(data_json)
    if not isinstance(data, dict):
        raise click.BadParameter("the answer must be a JSON object", param_hint="--data")
    remote = remote_session(api_url)
    if remote is not None:
        refuse_in_remote_mode(remote, **{"as": user, "group": groups})
        respond_through_api(remote, run_id, interaction_id, data, key)
        return
    answerer = _direct_user(user)

    async def answering() -> Any:
        client = await connect(Settings())
        return await respond(
            client, run_id, interaction_id, data, Responder(user=answerer, groups=list(groups)), key
        )

    try:
        result = asyncio.run(answering())
    except AnswerRefused as exc:
        raise click.ClickException(str(exc)) from exc
    _print_output(result.model_dump(mode="json"))


@click.command(name="signal")
@click.argument("run_id")
@click.argument("name")
@click.option("--data", "data_json", default="null", help="The event's payload as JSON.")
@click.option("--key", default=None, help="Idempotency key: the same key twice is one event.")
@api_option
def signal_command(run_id: str, name: str, data_json: str, key: str | None, api_url: str | None) -> None:
    """Send the external event NAME to a run (for `wait: {signal: NAME}` steps)."""
    payload = _json_argument(data_json)
    remote = remote_session(api_url)
    if remote is not None:
        signal_through_api(remote, run_id, name, payload, key)
        return

    async def sending() -> Any:
        return await send_event(await connect(Settings()), run_id, name, payload, key)

    try:
        receipt = asyncio.run(sending())
    except AnswerRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"run_id": run_id, **receipt.model_dump(mode="json")}))
