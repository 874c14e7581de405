"""`stepwise watch RUN_ID`: a run's events as they happen, with a progress bar."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import click

from cli.remote_mode import api_option, remote_errors, remote_session
from core.run_events import Cursor
from core.run_history import follow_events
from core.run_progress import Progress, describe
from core.run_views import RunNotFound
from core.settings import Settings
from core.temporal import connect


class _Screen:
    """Event lines scroll; on a terminal the progress bar stays on the last line."""

    def __init__(self, progress: Progress, terminal: bool) -> None:
        self.progress = progress
        self.terminal = terminal

    def show(self, event: dict[str, Any]) -> None:
        if event["type"] == "module_progress":
            return  # streamed tokens are for the web UI; the step's output line follows
        self.progress.see(event)
        if self.terminal:
            click.echo("\r\x1b[2K", nl=False)
        click.echo(describe(event))
        if self.terminal:
            click.echo(self.progress.bar(), nl=False)

    def close(self) -> None:
        click.echo("\r\x1b[2K" if self.terminal else "", nl=False)
        click.echo(self.progress.bar())


@click.command()
@click.argument("run_id")
@api_option
def watch(run_id: str, api_url: str | None) -> None:
    """Follow RUN_ID: its events (steps, modules, answers, retries, timers, called runs) as they
    happen, with a progress bar; returns once it has ended (exit 1 unless it completed)."""
    screen = _Screen(Progress(run_id), sys.stdout.isatty())
    remote = remote_session(api_url)
    try:
        if remote is not None:
            with remote_errors():
                for event in remote.events(run_id):
                    screen.show(event)
        else:
            asyncio.run(_watch_direct(run_id, Settings(), screen.show))
    finally:
        screen.close()
    if screen.progress.status != "completed":
        raise click.ClickException(f"the run ended {screen.progress.status or 'unseen'}")


async def _watch_direct(run_id: str, settings: Settings, show: Callable[[dict[str, Any]], None]) -> None:
    client = await connect(settings)
    try:
        async for event in follow_events(client, run_id, Cursor()):
            if event is not None:
                show(event)
    except RunNotFound:
        raise click.ClickException(f"no run with id {run_id}") from None
