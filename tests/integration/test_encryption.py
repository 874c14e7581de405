"""Encrypted payloads on a real dev server with a SQLite file: a run's input and a failing
step's error message are nowhere in Temporal's file or in `temporal workflow show`, and the
run still works; the same run without keys shows both (so the check can fail)."""

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
from core.devserver import free_port, start_dev_server, temporal_binary
from core.runs import Prepared, start_run
from core.settings import Settings
from core.temporal import connect
from tests.helpers import plan_of, registry
from tests.integration.conftest import HttpServer
from workers.worker import QUEUES, running_workers

ECHO = """
output: "{{ steps.keep.note }}"
steps:
  - {id: keep, module: transform.extract, inputs: {note: "{{ input.note }}"}}
"""


def _shown(address: str, run_id: str) -> str:
    """`temporal workflow show` of a run, with every payload's base64 data decoded beside it."""
    shown = subprocess.run(
        [str(temporal_binary()), "workflow", "show", "-w", run_id, "--address", address, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    decoded = [
        base64.b64decode(data).decode(errors="replace") for data in _data_fields(json.loads(shown.stdout))
    ]
    return shown.stdout + "\n".join(decoded)


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
    finally:
        server.stop()
    stored = b"".join(
        path.read_bytes() for path in Path(server.db_file).parent.glob(Path(server.db_file).name + "*")
    )
    for canary in (f"input-{tag}", f"gone-error-{tag}"):
        assert (canary in shown) is not encrypted, canary
        assert (canary.encode() in stored) is not encrypted, canary
