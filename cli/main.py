"""`stepwise`: validate definitions, print the language schema and the modules."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn

from api.app import create_app
from cli.account_commands import db_group, user_group
from cli.hosted import hosting
from cli.human_commands import inbox_command, respond_command, signal_command
from cli.login_commands import login, logout, whoami
from cli.run_commands import rerun, run, status, worker
from cli.schedule_commands import schedule
from cli.settings import command_settings
from cli.stack import run_stack
from cli.watch_commands import watch
from core.auth.oidc import OidcError
from core.codec import KeyListError, new_key_entry
from core.db.migrate import SchemaOutdated, require_current_schema
from core.definitions import expand_paths, folder_lookup, names_in_folder
from core.devserver import DevServerError
from core.logs import configure_logging, uvicorn_log_config
from core.module_catalog import module_catalog
from core.plugins import load_registry
from workers.worker import QUEUES
from workflows.compiler import DefinitionLookup, compile_text
from workflows.modules.registry import Registry
from workflows.problems import Problem
from workflows.schema import language_schema


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _registry() -> Registry:
    loaded = load_registry()
    for error in loaded.errors:
        click.echo(f"warning: {error}", err=True)
    return loaded.registry


def _print_json(value: Any, pretty: bool = False) -> None:
    click.echo(json.dumps(value, indent=2 if pretty else None, separators=None if pretty else (",", ":")))


@click.group()
@click.version_option(package_name="stepwise-ai", prog_name="stepwise")
def main() -> None:
    """Stepwise: durable AI workflows defined in YAML, run on Temporal."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--definitions",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of definitions that `call` steps may name; calls are checked against it.",
)
def validate(files: tuple[Path, ...], definitions: Path | None) -> None:
    """Check definition files (a folder: its .yaml, .yml and .json files); print every problem
    as FILE:/json/pointer: message."""
    registry = _registry()
    lookup: DefinitionLookup | None = None
    if definitions is not None:
        lookup = folder_lookup(names_in_folder(definitions))
    failed = False
    for path in expand_paths(files):
        problems = _check_file(path, registry, lookup)
        for problem in problems:
            click.echo(problem.render(str(path)))
        failed |= bool(problems)
        if not problems:
            click.echo(f"{path}: valid", err=True)
    sys.exit(1 if failed else 0)


def _check_file(path: Path, registry: Registry, lookup: DefinitionLookup | None) -> list[Problem]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [Problem("/", "no such file")]
    except UnicodeDecodeError as exc:
        return [Problem("/", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    except OSError as exc:
        return [Problem("/", f"cannot read: {exc.strerror}")]
    return compile_text(text, path.name, registry, lookup).problems


@main.command()
@click.option("--pretty", is_flag=True, help="Indent the JSON.")
def schema(pretty: bool) -> None:
    """Print the JSON Schema (draft 2020-12) of the definition language."""
    _print_json(language_schema(_registry()), pretty)


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print every module's full input and output JSON Schemas."
)
def modules(as_json: bool) -> None:
    """List the registered modules with their inputs and outputs."""
    registry = _registry()
    if as_json:
        _print_json([info.model_dump(mode="json") for info in module_catalog(registry)])
        return
    for spec in registry:
        where = f"activity on queue '{spec.queue}'" if spec.runs == "activity" else spec.runs
        click.echo(f"{spec.name}  ({where})  {spec.description}")
        click.echo("  inputs:")
        for line in _fields(spec.input_schema()):
            click.echo(f"    {line}")
        click.echo("  outputs:")
        for line in _fields(spec.output_schema()):
            click.echo(f"    {line}")


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    lines = []
    for name, sub in schema.get("properties", {}).items():
        mark = "required" if name in required else "optional"
        lines.append(f"{name}: {_type_of(sub)} ({mark}) {sub.get('description', '')}".rstrip())
    if schema.get("additionalProperties") is True or (
        not lines and schema.get("additionalProperties") is not False
    ):
        lines.append("any named values")
    return lines


def _type_of(schema: dict[str, Any]) -> str:
    if "type" in schema:
        kind = schema["type"]
        if kind == "array" and isinstance(schema.get("items"), dict):
            return f"list of {_type_of(schema['items'])}"
        return str(kind)
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return "any"


@main.command()
def dev() -> None:
    """Start the embedded stack (Temporal dev server, workers, API) and print its URLs."""
    signal.signal(signal.SIGTERM, _interrupt)
    settings = command_settings()
    configure_logging(settings)
    try:
        run_stack(settings)
    except (DevServerError, OidcError) as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@main.group("keys")
def keys_group() -> None:
    """Payload encryption keys (docs/encryption.md)."""


@keys_group.command("new")
@click.option("--id", "key_id", default=None, help="The key's id (default: a random one).")
def new_key(key_id: str | None) -> None:
    """Print a new key entry (id:base64key); put it first in the key list to seal with it."""
    try:
        click.echo(new_key_entry(key_id))
    except KeyListError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option(
    "--worker-queue",
    "worker_queues",
    multiple=True,
    type=click.Choice(QUEUES),
    help="Also run the workers of this queue in this process (repeatable; default: "
    "STEPWISE_API_WORKER_QUEUES). With `stepwise` (the workflow queue), runs started here start eagerly.",
)
def api(worker_queues: tuple[str, ...]) -> None:
    """Serve the API (STEPWISE_API_HOST, STEPWISE_API_PORT) against the configured Temporal and
    database (migrate it first with `stepwise db upgrade`)."""
    settings = command_settings()
    queues = list(worker_queues) or settings.api_worker_queues
    unknown = [q for q in queues if q not in QUEUES]
    if unknown:
        raise click.ClickException(
            f"STEPWISE_API_WORKER_QUEUES names no queue {', '.join(unknown)}: pick from {', '.join(QUEUES)}"
        )
    configure_logging(settings)
    try:
        asyncio.run(require_current_schema(settings.database_url))
    except SchemaOutdated as exc:
        raise click.ClickException(str(exc)) from None
    try:
        app = create_app(settings, alongside=hosting(queues, settings) if queues else None)
    except OidcError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=uvicorn_log_config(settings))


main.add_command(run)
main.add_command(rerun)
main.add_command(worker)
main.add_command(status)
main.add_command(watch)
main.add_command(schedule)
main.add_command(inbox_command)
main.add_command(respond_command)
main.add_command(signal_command)
main.add_command(login)
main.add_command(logout)
main.add_command(whoami)
main.add_command(db_group)
main.add_command(user_group)


def entry() -> None:
    """The console script: run the command, then leave without interpreter teardown.

    The Temporal SDK's native threads can abort CPython while it finalizes a short-lived
    process ("PyGILState_Release ... finalizing", temporalio/sdk-python#300), turning a
    finished command into a crash; so flush what was printed and exit at once.
    """
    try:
        main()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            code = 1
        else:
            code = exc.code or 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
