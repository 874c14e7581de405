"""`stepwise schedule ...`: schedules through the API of the stored login (docs/triggers.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import click
import yaml

from cli.remote_mode import api_option, remote_errors, remote_session
from core.remote import Remote

F = TypeVar("F", bound=Callable[..., Any])
OVERLAPS = ("skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all")


def _print(value: Any) -> None:
    click.echo(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _remote(api_url: str | None) -> Remote:
    remote = remote_session(api_url)
    if remote is None:
        raise click.ClickException(
            "schedules are kept by the API: sign in with `stepwise login --url URL` first"
        )
    return remote


def _path(schedule_id: str, action: str = "") -> str:
    return f"/schedules/{quote(schedule_id, safe='')}{action}"


def _json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON ({exc.msg} at column {exc.colno})", param_hint=what) from None


def _interval(text: str) -> dict[str, str]:
    every, _, offset = text.partition("+")
    return {"every": every, **({"offset": offset} if offset else {})}


def spec_options(command: F) -> F:
    """The options that say what a schedule runs and when."""
    options = [
        click.option("--definition", help="NAME, or NAME@N to pin a version."),
        click.option(
            "--cron", "crons", multiple=True, help="A cron expression, e.g. '0 9 * * MON-FRI' (repeatable)."
        ),
        click.option(
            "--every",
            "intervals",
            multiple=True,
            help="An interval, e.g. 1h or 1h+5m (with an offset; repeatable).",
        ),
        click.option("--time-zone", help="An IANA time zone (default UTC)."),
        click.option(
            "--overlap", type=click.Choice(OVERLAPS), help="When a run is due while the last one runs."
        ),
        click.option("--jitter", help="Start each run up to this much later, e.g. 30s."),
        click.option("--catchup-window", help="Start runs missed while down within this, e.g. 1h."),
        click.option("--start-at", help="No runs before this time (ISO 8601)."),
        click.option("--end-at", help="No runs after this time (ISO 8601)."),
        click.option("--input", "run_input", help="The run input as JSON; templates may use schedule.*."),
        click.option(
            "--spec",
            "spec_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="A YAML or JSON file of these fields (and calendars); the options above win.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _spec_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise click.BadParameter("must hold a mapping of schedule fields", param_hint="--spec")
    return loaded


def _body(
    definition: str | None, crons: tuple[str, ...], intervals: tuple[str, ...], **given: Any
) -> dict[str, Any]:
    body = _spec_file(given.pop("spec_file"))
    if definition is not None:
        body["definition"] = definition
    if crons:
        body["cron"] = crons[0] if len(crons) == 1 else list(crons)
    if intervals:
        body["intervals"] = [_interval(text) for text in intervals]
    run_input = given.pop("run_input")
    if run_input is not None:
        body["input"] = _json(run_input, "--input")
    body.update({key: value for key, value in given.items() if value is not None})
    return body


@click.group()
def schedule() -> None:
    """Schedules of stored definitions (Temporal Schedules), through the API."""


@schedule.command("create")
@click.option("--id", "schedule_id", help="The schedule's id (default: the definition's name and a suffix).")
@spec_options
@click.option("--paused", is_flag=True, help="Make it paused.")
@click.option("--note", help="A note (why it is paused).")
@api_option
def create(
    schedule_id: str | None, paused: bool, note: str | None, api_url: str | None, **given: Any
) -> None:
    """Make a schedule; print it (with its next times)."""
    body = _body(**given)
    if "definition" not in body:
        raise click.UsageError("give --definition NAME[@N]")
    body.update({"paused": paused or body.get("paused", False)})
    if schedule_id is not None:
        body["id"] = schedule_id
    if note is not None:
        body["note"] = note
    with remote_errors():
        _print(_remote(api_url).call("POST", "/schedules", json=body))


@schedule.command("update")
@click.argument("schedule_id")
@spec_options
@api_option
def update(schedule_id: str, api_url: str | None, **given: Any) -> None:
    """Change what and when SCHEDULE_ID runs: the options given replace those fields, the rest
    stays (whether it is paused too: see pause and unpause)."""
    remote = _remote(api_url)
    with remote_errors():
        current = remote.call("GET", _path(schedule_id))
        body = {
            **{k: v for k, v in current["spec"].items() if k not in ("paused", "note")},
            "definition": current["definition"] + (f"@{current['version']}" if current["version"] else ""),
            "input": current["input"],
            **_body(**given),
        }
        _print(remote.call("PUT", _path(schedule_id), json=body))


@schedule.command("list")
@api_option
def list_schedules(api_url: str | None) -> None:
    """The schedules you may see, one JSON line each."""
    with remote_errors():
        for item in _remote(api_url).call("GET", "/schedules"):
            _print(item)


@schedule.command("show")
@click.argument("schedule_id")
@api_option
def show(schedule_id: str, api_url: str | None) -> None:
    """One schedule: its spec, whether it is paused, next times and recent runs."""
    with remote_errors():
        _print(_remote(api_url).call("GET", _path(schedule_id)))


@schedule.command("pause")
@click.argument("schedule_id")
@click.option("--note", help="Why.")
@api_option
def pause(schedule_id: str, note: str | None, api_url: str | None) -> None:
    """Start no more runs until unpaused."""
    with remote_errors():
        _print(_remote(api_url).call("POST", _path(schedule_id, "/pause"), json={"note": note}))


@schedule.command("unpause")
@click.argument("schedule_id")
@click.option("--note", help="Why.")
@api_option
def unpause(schedule_id: str, note: str | None, api_url: str | None) -> None:
    """Start runs again when they are due."""
    with remote_errors():
        _print(_remote(api_url).call("POST", _path(schedule_id, "/unpause"), json={"note": note}))


@schedule.command("trigger")
@click.argument("schedule_id")
@click.option("--overlap", type=click.Choice(OVERLAPS), help="Default: the schedule's policy.")
@api_option
def trigger(schedule_id: str, overlap: str | None, api_url: str | None) -> None:
    """Start a run now."""
    with remote_errors():
        _print(_remote(api_url).call("POST", _path(schedule_id, "/trigger"), json={"overlap": overlap}))


@schedule.command("backfill")
@click.argument("schedule_id")
@click.option("--start-at", required=True, help="From this time (ISO 8601 with a zone)...")
@click.option("--end-at", required=True, help="...to this one.")
@click.option("--overlap", type=click.Choice(OVERLAPS), help="Default: allow_all.")
@api_option
def backfill(schedule_id: str, start_at: str, end_at: str, overlap: str | None, api_url: str | None) -> None:
    """Start the runs that were due in a past range, as if the schedule had run then."""
    body = {"start_at": start_at, "end_at": end_at, "overlap": overlap}
    with remote_errors():
        _print(_remote(api_url).call("POST", _path(schedule_id, "/backfill"), json=body))


@schedule.command("delete")
@click.argument("schedule_id")
@api_option
def delete(schedule_id: str, api_url: str | None) -> None:
    """Delete a schedule; the runs it started go on."""
    with remote_errors():
        _remote(api_url).call("DELETE", _path(schedule_id))
    click.echo(f"deleted schedule {schedule_id}", err=True)
