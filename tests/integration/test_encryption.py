"""Encrypted payloads on a real dev server with a SQLite file: a run's input and a failing
step's error message are nowhere in Temporal's file or in `temporal workflow show`, and the
run still works; an operator reads both through the API's events and its codec endpoint
(which answers 401 without a token). The same run without keys shows both (so the check can
fail)."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowFailureError

from core.codec import new_key_entry
from core.db.migrate import upgrade
from core.devserver import free_port, start_dev_server, temporal_binary
from core.runs import Prepared, start_run
from core.settings import Settings
from core.temporal import connect
from tests.helpers import plan_of, registry
from tests.integration.api_client import TEST_SECRET, running_api
from tests.integration.conftest import HttpServer
from tests.integration.databases import run_apart
from workers.worker import QUEUES, running_workers

ECHO = """
output: "{{ steps.keep.note }}"
steps:
  - {id: keep, module: transform.extract, inputs: {note: "{{ input.note }}"}}
"""


def _shown(address: str, run_id: str) -> str:
    """`temporal workflow show` of a run, with every payload's base64 data decoded beside it."""
    shown = _show_json(address, run_id)
    decoded = [base64.b64decode(data).decode(errors="replace") for data in _data_fields(shown)]
    return json.dumps(shown) + "\n".join(decoded)


def _payloads(node: Any) -> list[dict[str, Any]]:
    """Every payload object (metadata and data) in `temporal workflow show -o json` output."""
    if isinstance(node, dict):
        found = [node] if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict) else []
        return found + [p for value in node.values() for p in _payloads(value)]
    if isinstance(node, list):
        return [p for value in node for p in _payloads(value)]
    return []


def _show_json(address: str, run_id: str) -> Any:
    shown = subprocess.run(
        [str(temporal_binary()), "workflow", "show", "-w", run_id, "--address", address, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(shown.stdout)


async def _through_the_api(settings: Settings, address: str, run_ids: list[str], tag: str) -> None:
    """An operator finds both canaries in the runs' events and in what the codec endpoint
    opens of the runs' payloads; without a token the codec endpoint answers 401."""
    host, _, port = address.rpartition(":")
    db = f"sqlite+aiosqlite:///{settings.data_dir / 'api.db'}"
    run_apart(upgrade(db))
    api_settings = settings.model_copy(
        update={
            "database_url": db,
            "secret_key": SecretStr(TEST_SECRET),
            "temporal_host": host,
            "temporal_port": int(port),
        }
    )
    async with running_api(api_settings, registry=registry()) as api:
        await api.add_user("otto", role="operator")
        otto = await api.token("otto")
        events = []
        for run_id in run_ids:
            response = await api.http.get(f"/api/v1/runs/{run_id}/events", headers=otto)
            assert response.status_code == 200, response.text
            events.extend(response.json()["events"])
        start = next(e for e in events if e["type"] == "workflow_start")
        assert start["data"]["input"] == {"note": f"input-{tag}"}
        error = next(e for e in events if e["type"] == "error")
        assert f"gone-error-{tag}" in error["data"]["message"]
        payloads = [p for run_id in run_ids for p in _payloads(_show_json(address, run_id))]
        body = {"payloads": payloads}
        assert (await api.http.post("/codec/decode", json=body)).status_code == 401
        opened = await api.http.post("/codec/decode", json=body, headers=otto)
        assert opened.status_code == 200, opened.text
        texts = [base64.b64decode(p["data"]).decode(errors="replace") for p in opened.json()["payloads"]]
        for canary in (f"input-{tag}", f"gone-error-{tag}"):
            assert any(canary in text for text in texts), canary


def _data_fields(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["data"]] if isinstance(node.get("data"), str) else []
        return found + [d for value in node.values() for d in _data_fields(value)]
    if isinstance(node, list):
        return [d for value in node for d in _data_fields(value)]
    return []


async def _runs(settings: Settings, address: str, base: str, tag: str) -> list[str]:
    """Start the echo run and the failing run; their ids. The echo run must give back its input."""
    failing = plan_of(
        f"""
        steps:
          - {{id: get, module: api.fetch, inputs: {{url: "{base}/gone-error-{tag}"}}}}
        """
    )
    client = await connect(settings, address, wait_s=30)
    async with running_workers(client, list(QUEUES), settings, registry()):
        echo = await start_run(client, Prepared(plan_of(ECHO)), {"note": f"input-{tag}"}, settings)
        assert (await echo.result()).output == f"input-{tag}"
        broken = await start_run(client, Prepared(failing), {}, settings)
        with pytest.raises(WorkflowFailureError) as failed:
            await broken.result()
        assert f"gone-error-{tag}" in str(failed.value.cause) + str(failed.value.cause.__cause__)
    return [echo.id, broken.id]


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "plain"])
async def test_payloads_and_error_messages_stay_out_of_temporal(
    tmp_path: Path, http_server: HttpServer, encrypted: bool
) -> None:
    tag = uuid.uuid4().hex
    settings = Settings(
        data_dir=tmp_path / "none",
        task_queue_prefix=f"enc-{tag[:8]}-",
        fetch_allow_hosts=["127.0.0.1"],
        encryption_keys=SecretStr(new_key_entry()) if encrypted else None,
    )
    server = start_dev_server(tmp_path, "127.0.0.1", free_port(), free_port())
    try:
        run_ids = await _runs(settings, server.address, http_server.base, tag)
        shown = "".join(_shown(server.address, run_id) for run_id in run_ids)
        if encrypted:
            await _through_the_api(settings, server.address, run_ids, tag)
    finally:
        server.stop()
    stored = b"".join(
        path.read_bytes() for path in Path(server.db_file).parent.glob(Path(server.db_file).name + "*")
    )
    for canary in (f"input-{tag}", f"gone-error-{tag}"):
        assert (canary in shown) is not encrypted, canary
        assert (canary.encode() in stored) is not encrypted, canary
