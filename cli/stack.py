"""The embedded stack of `stepwise dev`: the Temporal dev server, every worker and the API,
composed in one process."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
from collections.abc import Callable, Iterator

import click
import uvicorn
from pydantic import SecretStr

from api.app import create_app
from core.codec import EncryptionKeys, configured_keys, create_key_file, default_key_file
from core.db.engine import display_url, opened_sessions
from core.db.migrate import upgrade
from core.devserver import DevServer, free_port, port_is_free, start_dev_server
from core.logs import uvicorn_log_config
from core.plugins import load_registry
from core.settings import Settings
from core.temporal import connect
from core.tracing import flush_traces
from workers.worker import QUEUES, running_workers


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling (the stack stops everything together)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


async def serve_stack(settings: Settings, server: DevServer, echo: Callable[[str], None]) -> None:
    """Run workers and the API against a started dev server until SIGINT or SIGTERM."""
    # The Temporal UI decodes payloads through the API's codec endpoint, from its own origin.
    ui_origin = f"http://{server.host}:{server.ui_port}"
    settings = settings.model_copy(
        update={
            "temporal_host": server.host,
            "temporal_port": server.port,
            "cors_origins": [*settings.cors_origins, ui_origin],
            # The workers beside the API post streaming steps' tokens to it.
            "worker_token": settings.worker_token or SecretStr(secrets.token_urlsafe(32)),
            "worker_api_url": settings.worker_api_url
            or f"http://{_reachable(settings.api_host)}:{settings.api_port}",
        }
    )
    loaded = load_registry()
    for error in loaded.errors:
        click.echo(f"warning: {error}", err=True)
    # The API needs the schema before its first request.
    await upgrade(settings.database_url)
    keys = configured_keys(settings)
    if keys is None:
        key_file = default_key_file(settings.data_dir)
        create_key_file(key_file)
        click.echo(
            f"warning: payloads in Temporal are now encrypted with a new key in {key_file}; back that "
            f"file up: without it no run's inputs, outputs or answers can be read",
            err=True,
        )
        keys = EncryptionKeys.read(key_file)
    client = await connect(settings, wait_s=30)
    config = uvicorn.Config(
        # The workers' client: runs started through the API start eagerly in them.
        create_app(settings, registry=loaded.registry, temporal=client),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        log_config=uvicorn_log_config(settings),
    )
    api = _ApiServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with (
        opened_sessions(settings.database_url) as sessions,
        running_workers(client, list(QUEUES), settings, loaded.registry, sessions=sessions),
    ):
        serving = asyncio.create_task(api.serve())
        ready = asyncio.create_task(api.ready.wait())
        await asyncio.wait([serving, ready], return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            ready.cancel()
            serving.result()
            raise click.ClickException(f"the API could not start on {settings.api_host}:{settings.api_port}")
        base = f"http://{settings.api_host}:{settings.api_port}"
        echo(f"API:         {base}/api/v1 (health: {base}/api/v1/health)")
        echo(f"API docs:    {base}/api/docs")
        echo(f"Temporal UI: {server.ui_url}")
        echo(f"Temporal:    {server.address} (state in {server.db_file})")
        echo(f"Database:    {display_url(settings.database_url)}")
        echo(f"Encryption:  on, payloads sealed with the key {keys.current}")
        echo(f"Codec:       {base}/codec (the Temporal UI opens payloads through it)")
        if settings.metrics_enabled:
            echo(f"Metrics:     {base}/metrics (Prometheus; the workers' too)")
        echo(f"Web UI:      {base}/ (`make web` builds it)")
        await stop.wait()
        click.echo("Stopping...", err=True)
        api.should_exit = True
        await serving
    flush_traces()


def _reachable(host: str) -> str:
    """Where a process on this machine reaches a server listening on `host`."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 (a comparison)


def run_stack(settings: Settings) -> None:
    """Start everything, print the URLs, stop everything on Ctrl-C."""
    if not port_is_free(settings.api_host, settings.api_port):
        settings = settings.model_copy(update={"api_port": free_port(settings.api_host)})
    server = start_dev_server(
        settings.data_dir,
        settings.temporal_host,
        settings.temporal_port,
        settings.temporal_ui_port,
        ui_codec_endpoint=f"http://{settings.api_host}:{settings.api_port}/codec",
    )
    try:
        asyncio.run(serve_stack(settings, server, click.echo))
    finally:
        server.stop()
