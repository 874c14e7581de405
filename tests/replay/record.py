"""Record the histories that tests/replay replays: `python -m tests.replay.record GENERATION`.

Runs each definition in tests/replay/definitions on a throwaway dev server (with a local HTTP
server for api.fetch) and writes every workflow's history, children included, to histories/,
named `replay-<name>-<GENERATION>` (older generations stay: they are what runs in flight look
like). Payloads are encrypted with the test-only key in tests/replay/test-encryption-key, as a
real deployment's are. Record a new generation when RunWorkflow changes its commands behind a
`workflow.patched`, and say so in the commit.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from temporalio.client import Client

from core.codec import EncryptionKeys, converter_for
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
# A key for these recordings only: it protects nothing (it is public, here).
TEST_KEY_FILE = HERE / "test-encryption-key"


def replay_keys() -> EncryptionKeys:
    return EncryptionKeys.read(TEST_KEY_FILE)


async def _record(client: Client, run_id: str) -> None:
    """Write a history as `<workflow id>.json`: replay needs the id (child ids derive from it)."""
    history = await client.get_workflow_handle(run_id).fetch_history()
    (HISTORIES / f"{run_id}.json").write_text(history.to_json() + "\n")
    print(f"recorded {run_id} ({len(history.events)} events)")


async def record_all(base: str, generation: str) -> None:
    settings = Settings(
        task_queue_prefix=f"record-{uuid.uuid4().hex[:6]}-",
        fetch_allow_hosts=["127.0.0.1"],
        encryption_key_file=TEST_KEY_FILE,
    )
    async with await ephemeral_dev_server() as env:
        client = Client(
            env.client.service_client, namespace=env.client.namespace, data_converter=converter_for(settings)
        )
        await _record_generation(client, settings, base, generation)


async def _record_generation(client: Client, settings: Settings, base: str, generation: str) -> None:
    async with running_workers(client, list(QUEUES), settings, registry()):
        runs: list[tuple[str, dict[str, Any], str]] = [
            ("blocks.yaml", {"base": base, "kind": "a"}, "blocks"),
            ("graph.yaml", {"base": base, "urgent": True}, "graph-urgent"),
            ("graph.yaml", {"base": base}, "graph-normal"),
        ]
        for filename, run_input, name in runs:
            prepared = prepare(DEFINITIONS / filename, registry(), DEFINITIONS)
            run_id = f"replay-{name}-{generation}"
            handle = await start_run(client, prepared, run_input, settings, run_id=run_id)
            await handle.result()
            await _record(client, handle.id)
            if prepared.plan.calls:
                await _record(client, f"{handle.id}.child.1")
        prepared = prepare(DEFINITIONS / "events.yaml", registry(), DEFINITIONS)
        handle = await start_run(client, prepared, {}, settings, run_id=f"replay-events-{generation}")
        await handle.signal(EVENT_SIGNAL, ExternalEvent(name="payment_received", payload={"amount": 3}))
        await handle.result()
        await _record(client, handle.id)
        await _record_human(client, settings, base, generation)


async def _open(client: Client, run_id: str, count: int) -> list[InteractionRequest]:
    handle = client.get_workflow_handle(run_id)
    while True:
        found = await handle.query(INTERACTIONS_QUERY, result_type=list[InteractionRequest])
        if len(found) == count:
            return sorted(found, key=lambda r: r.step_id)
        await asyncio.sleep(0.05)


async def _record_human(client: Client, settings: Settings, base: str, generation: str) -> None:
    """Two interactions open at once (one a 2-of-3 approval), then a select and a default.
    (replay-human.json is the same run recorded before ONE_UPSERT_PATCH.)"""
    prepared = prepare(DEFINITIONS / "human.yaml", registry(), DEFINITIONS)
    handle = await start_run(
        client, prepared, {"base": base}, settings, owner="ada", run_id=f"replay-human-{generation}"
    )
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
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tests.replay.record GENERATION (a word: what changed)")
    state = HttpServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        asyncio.run(record_all(state.base, sys.argv[1]))
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
