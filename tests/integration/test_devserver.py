"""The embedded Temporal dev server, started for real on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from core.devserver import SEARCH_ATTRIBUTES, free_port, port_is_free, start_dev_server


async def test_dev_server_runs_with_stepwise_search_attributes(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path, "127.0.0.1", free_port(), free_port())
    try:
        client = await Client.connect(server.address)
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        assert set(SEARCH_ATTRIBUTES) <= set(response.custom_attributes)
        assert server.db_file.exists()
    finally:
        server.stop()
    assert server.process.returncode is not None


def test_taken_ports_are_replaced_by_free_ones(tmp_path: Path) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = start_dev_server(tmp_path, "127.0.0.1", taken, free_port())
        try:
            assert server.port != taken
        finally:
            server.stop()


def test_stepwise_dev_prints_urls_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    env = {
        **os.environ,
        "STEPWISE_DATA_DIR": str(tmp_path),
        "STEPWISE_TEMPORAL_PORT": str(port),
        "STEPWISE_TEMPORAL_UI_PORT": str(ui_port),
    }
    script = Path(sys.executable).parent / "stepwise"
    process = subprocess.Popen([str(script), "dev"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert lines[0].startswith("Temporal:    127.0.0.1:")
        assert lines[1].startswith("Temporal UI: http://127.0.0.1:")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    address_port = int(lines[0].split(":")[2].split()[0])
    deadline = time.monotonic() + 20
    while not port_is_free("127.0.0.1", address_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert port_is_free("127.0.0.1", address_port)
