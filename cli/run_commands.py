"""`stepwise run`, `rerun`, `worker` and `status`: starting and serving runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Any

import click
from temporalio.client import WorkflowFailureError

from cli.remote_commands import rerun_through_api, run_through_api
from cli.remote_mode import api_option, refuse_in_remote_mode, remote_session
from core.db.engine import opened_sessions
from core.db.migrate import SchemaOutdated, require_current_schema
from core.logs import configure_logging
from core.metrics import process_registry, serve_metrics
from core.plugins import load_registry
from core.rerun import RerunRefused
from core.rerun import rerun as start_rerun
from core.run_views import RunNotFound
from core.runs import DefinitionFileError, InvalidRunInput, check_input, prepare, start_run
from core.settings import Settings
from core.temporal import connect
from core.tracing import flush_traces
from workers.llm import LlmServing
from workers.local import run_local
from workers.worker import QUEUES, running_workers
from workflows.engine.models import STATUS_QUERY, WORKFLOW_QUEUE, RunStatus


def _json_argument(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc.msg} at column {exc.colno}") from exc


def _print_output(value: Any) -> None:
    click.echo(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--input", "input_json", default="{}", help="The run input as JSON.")
@click.option("--wait", is_flag=True, help="Wait for the run and print its output as JSON.")
@click.option("--local", is_flag=True, help="Run on a throwaway dev server and workers, then stop them.")
@click.option(
    "--definitions",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of definitions to `call`.",
)
@click.option("--owner", default=None, help="Who owns the run (StepwiseOwner).")
@click.option(
    "--definition", "stored", default=None, help="Through the API: run the stored definition NAME or NAME@N."
)
@api_option
def run(
    file: Path | None,
    input_json: str,
    wait: bool,
    local: bool,
    definitions: Path | None,
    owner: str | None,
    stored: str | None,
    api_url: str | None,
) -> None:
    """Start a run of FILE (or, through the API, of a stored --definition); with --wait or
    --local, print its output as JSON."""
    run_input = _json_argument(input_json)
    remote = None if local else remote_session(api_url)
    if remote is not None:
        refuse_in_remote_mode(remote, owner=owner)
        if definitions is not None:
            raise click.UsageError(
                "--definitions is not taken through the API: `call` steps name definitions stored "
                "there (upload them with POST /api/v1/definitions), or run it here with --local"
            )
        run_through_api(remote, file, stored, run_input, wait)
        return
    if stored is not None:
        raise click.UsageError(
            "--definition runs a definition stored in a Stepwise API: sign in with `stepwise login` first"
        )
    if file is None:
        raise click.UsageError("give the definition FILE to run")
    settings = Settings()
    loaded = load_registry()
    try:
        prepared = prepare(file, loaded.registry, definitions)
        check_input(prepared.plan, run_input)
        if local:
            output = asyncio.run(run_local(prepared, run_input, settings, loaded.registry))
            _print_output(output)
            return
        output = asyncio.run(_run_remote(prepared, run_input, settings, owner, wait))
    except DefinitionFileError as exc:
        for problem in exc.problems:
            click.echo(problem.render(str(exc.path)), err=True)
        raise SystemExit(1) from exc
    except InvalidRunInput as exc:
        raise click.ClickException(str(exc)) from exc
    except WorkflowFailureError as exc:
        raise _failed(exc) from exc
    if wait:
        _print_output(output)


def _failed(exc: WorkflowFailureError) -> click.ClickException:
    cause = exc.cause
    return click.ClickException(f"the run failed: {getattr(cause, 'message', cause)}")


async def _run_remote(
    prepared: Any, run_input: Any, settings: Settings, owner: str | None, wait: bool
) -> Any:
    client = await connect(settings)
    handle = await start_run(client, prepared, run_input, settings, owner)
    click.echo(f"started run {handle.id}", err=True)
    if not wait:
        return None
    result = await handle.result()
    return result.output


@click.command()
@click.argument("run_id")
@click.option("--from", "from_step", required=True, help="The step to run anew (and every step after it).")
@click.option("--wait", is_flag=True, help="Wait for the new run and print its output as JSON.")
@click.option("--owner", default=None, help="Without a login: who owns the new run (StepwiseOwner).")
@api_option
def rerun(run_id: str, from_step: str, wait: bool, owner: str | None, api_url: str | None) -> None:
    """Start a new run of RUN_ID's pinned plan and input that reuses the results of its api.llm
    steps before --from STEP (where their inputs are unchanged); print the new run's id, or with
    --wait its output as JSON."""
    remote = remote_session(api_url)
    if remote is not None:
        refuse_in_remote_mode(remote, owner=owner)
        rerun_through_api(remote, run_id, from_step, wait)
        return
    try:
        output = asyncio.run(_rerun_direct(run_id, from_step, Settings(), owner, wait))
    except RunNotFound:
        raise click.ClickException(f"no run with id {run_id}") from None
    except RerunRefused as exc:
        raise click.ClickException(str(exc)) from None
    except WorkflowFailureError as exc:
        raise _failed(exc) from exc
    if wait:
        _print_output(output)


async def _rerun_direct(
    run_id: str, from_step: str, settings: Settings, owner: str | None, wait: bool
) -> Any:
    client = await connect(settings)
    started = await start_rerun(client, run_id, from_step, settings, owner)
    reused = ", ".join(started.reusable) or "none"
    click.echo(f"started run {started.handle.id} (rerun of {run_id}; may reuse: {reused})", err=True)
    if not wait:
        click.echo(started.handle.id)
        return None
    result = await started.handle.result()
    return result.output


@click.command()
@click.option(
    "--queue", "queues", multiple=True, type=click.Choice(QUEUES), help="A queue to serve (repeatable)."
)
@click.option("--all", "all_queues", is_flag=True, help="Serve every queue in this process.")
@click.option(
    "--models",
    default="",
    help="With --queue llm: the models this worker keeps loaded and serves, comma-separated "
    "(model or model@provider); each gets its own task queue, llm.<model>. Default: the "
    "models the settings name (default model, aliases, STEPWISE_LLM_MODELS).",
)
@click.option(
    "--slots",
    type=click.IntRange(min=1),
    default=None,
    help="With --queue llm: requests run at once per model (the GPU's parallelism; default "
    "STEPWISE_LLM_SLOTS).",
)
def worker(queues: tuple[str, ...], all_queues: bool, models: str, slots: int | None) -> None:
    """Serve task queues until Ctrl-C (or SIGTERM), then shut down gracefully."""
    if not queues and not all_queues:
        raise click.UsageError("name a --queue (repeatable) or give --all")
    chosen = list(QUEUES) if all_queues else list(queues)
    named = [m.strip() for m in models.split(",") if m.strip()]
    if (named or slots) and "llm" not in chosen:
        raise click.UsageError("--models and --slots are for the llm queue: add --queue llm")
    settings = Settings()
    configure_logging(settings)
    asyncio.run(_serve(chosen, settings, LlmServing.from_settings(settings, named, slots)))


async def _serve(queues: list[str], settings: Settings, llm: LlmServing) -> None:
    loaded = load_registry()
    for error in loaded.errors:
        click.echo(f"warning: {error}", err=True)
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    metrics = None
    if settings.metrics_enabled and settings.worker_metrics_address:

        def health() -> dict[str, Any]:
            return {"status": "ok", "queues": queues, **({"llm": llm.health()} if "llm" in queues else {})}

        metrics = serve_metrics(settings.worker_metrics_address, process_registry(), health)
        click.echo(f"metrics on http://{metrics.address}/metrics, health on /health", err=True)
    ledger = contextlib.AsyncExitStack()
    sessions = None
    if WORKFLOW_QUEUE in queues:
        # The workflow worker keeps the LLM ledger and checks monthly budgets there.
        try:
            await require_current_schema(settings.database_url)
        except SchemaOutdated as exc:
            click.echo(f"warning: {exc}; until then LLM usage is not recorded nor budgets checked", err=True)
        else:
            sessions = await ledger.enter_async_context(opened_sessions(settings.database_url))
    try:
        async with ledger, running_workers(client, queues, settings, loaded.registry, llm, sessions):
            served = [q for q in queues if q != "llm"] + (llm.queues() if "llm" in queues else [])
            click.echo(
                f"serving {', '.join(served)} on {settings.temporal_host}:{settings.temporal_port}", err=True
            )
            await stop.wait()
            click.echo("shutting down", err=True)
    finally:
        if metrics is not None:
            metrics.close()
        flush_traces()


@click.command()
@click.argument("run_id")
def status(run_id: str) -> None:
    """Print a run's status (steps done, running, pending; progress) as JSON."""
    result = asyncio.run(_status(run_id, Settings()))
    _print_output(result.model_dump(mode="json"))


async def _status(run_id: str, settings: Settings) -> RunStatus:
    client = await connect(settings)
    handle = client.get_workflow_handle(run_id)
    value: RunStatus = await handle.query(STATUS_QUERY, result_type=RunStatus)
    return value
