"""`stepwise inbox`, `respond` and `signal`: people's side of a run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from cli.run_commands import _json_argument, _print_output
from core.interactions import AnswerRefused, inbox, inbox_page, respond, send_event
from core.settings import Settings
from core.temporal import connect
from workflows.engine.human import Responder


@click.command(name="inbox")
@click.option("--as", "user", required=True, help="The user who answers.")
@click.option("--group", "groups", multiple=True, help="A group of that user (repeatable).")
@click.option(
    "--page-size", type=click.IntRange(1, 1000), default=None, help="List one page of this many runs."
)
@click.option("--page", default=None, help="The page to list (a token printed after the previous page).")
def inbox_command(user: str, groups: tuple[str, ...], page_size: int | None, page: str | None) -> None:
    """List the open interactions USER may answer, as JSON lines (all of them, or one page)."""
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
@click.option("--as", "user", required=True, help="The user who answers.")
@click.option("--group", "groups", multiple=True, help="A group of that user (repeatable).")
@click.option("--key", default=None, help="Idempotency key: the same key twice is one answer.")
def respond_command(
    run_id: str, interaction_id: str, data_json: str, user: str, groups: tuple[str, ...], key: str | None
) -> None:
    """Answer an open interaction of a run."""
    data = _json_argument(data_json)
    if not isinstance(data, dict):
        raise click.BadParameter("the answer must be a JSON object", param_hint="--data")

    async def answering() -> Any:
        client = await connect(Settings())
        return await respond(
            client, run_id, interaction_id, data, Responder(user=user, groups=list(groups)), key
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
def signal_command(run_id: str, name: str, data_json: str, key: str | None) -> None:
    """Send the external event NAME to a run (for `wait: {signal: NAME}` steps)."""
    payload = _json_argument(data_json)

    async def sending() -> Any:
        return await send_event(await connect(Settings()), run_id, name, payload, key)

    try:
        receipt = asyncio.run(sending())
    except AnswerRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"run_id": run_id, **receipt.model_dump(mode="json")}))
