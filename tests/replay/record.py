"""Record the histories that tests/replay replays: `python -m tests.replay.record`.

Runs each definition in tests/replay/definitions on a throwaway dev server (with a local HTTP
server for api.fetch) and writes every workflow's history, children included, to histories/.
Record again only when a change is meant to be incompatible, and say so in the commit.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from temporalio.client import Client

from core.environments import ephemeral_dev_server
from core.interactions import respond
from core.runs import prepare, start_run
from core.settings import Settings
from tests.helpers import registry
from tests.integration.conftest import HttpServer, _handler
from workers.worker import QUEUES, running_workers
from workflows.engine.human import InteractionRequest, Responder
from workflows.engine.models import EVENT_SIGNAL, INTERACTIONS_QUERY, ExternalEvent

HERE = Path(__file__).parent
DEFINITIONS = HERE / "definitions"
HISTORIES = HERE / "histories"


async def _record(client: Client, run_id: str) -> None:
    """Write a history as `<workflow id>.json`: replay needs the id (child ids derive from it)."""
    history = await client.get_workflow_handle(run_id).fetch_history()
    (HISTORIES / f"{run_id}.json").write_text(history.to_json() + "\n")
    print(f"recorded {run_id} ({len(history.events)} events)")


async def record_all(base: str) -> None:
    settings = Settings(task_queue_prefix=f"record-{uuid.uuid4().hex[:6]}-", fetch_allow_hosts=["127.0.0.1"])
    async with (
        await ephemeral_dev_server() as env,
        running_workers(env.client, list(QUEUES), settings, registry()),
    ):
        runs: list[tuple[str, dict[str, Any], str]] = [
            ("blocks.yaml", {"base": base, "kind": "a"}, "blocks"),
            ("graph.yaml", {"base": base, "urgent": True}, "graph-urgent"),
            ("graph.yaml", {"base": base}, "graph-normal"),
        ]
        for filename, run_input, name in runs:
            prepared = prepare(DEFINITIONS / filename, registry(), DEFINITIONS)
            handle = await start_run(env.client, prepared, run_input, settings, run_id=f"replay-{name}")
            await handle.result()
            await _record(env.client, handle.id)
            if prepared.plan.calls:
                await _record(env.client, f"{handle.id}.child.1")
        prepared = prepare(DEFINITIONS / "events.yaml", registry(), DEFINITIONS)
        handle = await start_run(env.client, prepared, {}, settings, run_id="replay-events")
        await handle.signal(EVENT_SIGNAL, ExternalEvent(name="payment_received", payload={"amount": 3}))
        await handle.result()
        await _record(env.client, handle.id)
        await _record_human(env.client, settings, base)


async def _open(client: Client, run_id: str, count: int) -> list[InteractionRequest]:
    handle = client.get_workflow_handle(run_id)
    while True:
        found = await handle.query(INTERACTIONS_QUERY, result_type=list[InteractionRequest])
        if len(found) == count:
            return sorted(found, key=lambda r: r.step_id)
        await asyncio.sleep(0.05)


async def _record_human(client: Client, settings: Settings, base: str) -> None:
    """Two interactions open at once (one a 2-of-3 approval), then a select and a default."""
    prepared = prepare(DEFINITIONS / "human.yaml", registry(), DEFINITIONS)
    handle = await start_run(client, prepared, {"base": base}, settings, owner="ada", run_id="replay-human")
    ask, sign = await _open(client, handle.id, 2)
    await respond(client, handle.id, sign.id, {"approved": True}, Responder(user="bob"))
    await respond(client, handle.id, ask.id, {"value": "Ada"}, Responder(user="ada"))
    await respond(client, handle.id, sign.id, {"approved": True, "comment": "ok"}, Responder(user="cy"))
    (pick,) = await _open(client, handle.id, 1)
    await respond(client, handle.id, pick.id, {"selected_indices": [1]}, Responder(user="dan"))
    (note,) = await _open(client, handle.id, 1)
    await respond(client, handle.id, note.id, {}, Responder(user="dan"))
    await handle.result()
    await _record(client, handle.id)


def main() -> None:
    state = HttpServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        asyncio.run(record_all(state.base))
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
