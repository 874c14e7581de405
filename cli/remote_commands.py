"""`run`, `rerun`, `inbox`, `respond` and `signal` through the API of a stored login."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli.remote_mode import remote_errors
from core.remote import Remote


def _print_output(value: Any) -> None:
    click.echo(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def run_through_api(
    remote: Remote, file: Path | None, definition: str | None, run_input: Any, wait: bool
) -> None:
    """Start FILE (sent inline) or a stored definition; with `wait`, print its output."""
    if (file is None) == (definition is None):
        raise click.UsageError("give the definition FILE or --definition NAME[@N], not both")
    body: dict[str, Any] = {"definition": definition, "input": run_input}
    if file is not None:
        try:
            source = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise click.ClickException(
                f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        # As the loader reads files: JSON for `.json`, YAML otherwise.
        body = {
            "source": source,
            "format": "json" if file.name.endswith(".json") else "yaml",
            "input": run_input,
        }
    with remote_errors():
        started = remote.start_run(body)
    click.echo(f"started run {started['id']}", err=True)
    if wait:
        _print_result(remote, started["id"])


def rerun_through_api(remote: Remote, run_id: str, from_step: str, wait: bool) -> None:
    """Rerun a run from a step; print the new run's id, or with `wait` its output."""
    with remote_errors():
        started = remote.rerun(run_id, from_step)
    reused = ", ".join(started["reusable_steps"]) or "none"
    click.echo(f"started run {started['id']} (rerun of {run_id}; may reuse: {reused})", err=True)
    if wait:
        _print_result(remote, started["id"])
    else:
        click.echo(started["id"])


def _print_result(remote: Remote, run_id: str) -> None:
    """Wait for the run; print its output, or fail with why it has none."""
    with remote_errors():
        detail = remote.wait_for(run_id)
    if detail["state"] == "completed":
        _print_output(detail["output"])
        return
    error = detail.get("error") or {}
    if detail["state"] == "failed":
        raise click.ClickException(f"the run failed: {error.get('message', 'no reason given')}")
    raise click.ClickException(f"the run ended {detail['state']} without an output")


def inbox_through_api(remote: Remote, page_size: int | None, page: str | None) -> None:
    """Print the signed-in user's open interactions as JSON lines (all, or one page)."""
    with remote_errors():
        if page_size is None and page is None:
            items, following = remote.inbox(), None
        else:
            found = remote.inbox_page(page_size or 100, page)
            items, following = found["items"], found["next_cursor"]
    for item in items:
        # The run id first, as direct mode prints it.
        _print_output({"run_id": item.pop("run_id"), **item})
    if following:
        click.echo(f"more: stepwise inbox --page {following}", err=True)


def respond_through_api(
    remote: Remote, run_id: str, interaction_id: str, data: dict[str, Any], key: str | None
) -> None:
    """Answer an interaction as the signed-in user; print the reply."""
    with remote_errors():
        reply = remote.respond(run_id, interaction_id, data, key)
    _print_output(reply)


def signal_through_api(remote: Remote, run_id: str, name: str, payload: Any, key: str | None) -> None:
    """Send an event to a run; print the receipt."""
    with remote_errors():
        receipt = remote.signal(run_id, name, payload, key)
    click.echo(json.dumps({"run_id": run_id, **receipt}))
