"""The embedded Temporal dev server, started for real on free ports."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from core.devserver import SEARCH_ATTRIBUTES, free_port, port_is_free, start_dev_server, temporal_binary
from core.settings import Settings
from core.temporal import connect


async def test_dev_server_runs_with_stepwise_search_attributes(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path, "127.0.0.1", free_port(), free_port())
    try:
        client = await connect(Settings(), server.address, wait_s=30)
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        assert set(SEARCH_ATTRIBUTES) <= set(response.custom_attributes)
        assert server.db_file.exists()
        # Write-ahead log, every commit synced (core.devserver.SQLITE_PRAGMAS).
        with contextlib.closing(sqlite3.connect(f"file:{server.db_file}?mode=ro", uri=True)) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
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


def test_stepwise_dev_serves_the_stack_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port, ui_port, api_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "STEPWISE_DATA_DIR": str(tmp_path),
        "STEPWISE_TEMPORAL_PORT": str(port),
        "STEPWISE_TEMPORAL_UI_PORT": str(ui_port),
        "STEPWISE_API_PORT": str(api_port),
    }
    script = Path(sys.executable).parent / "stepwise"
    process = subprocess.Popen([str(script), "dev"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert (
            lines[0]
            == f"API:         http://127.0.0.1:{api_port}/api/v1 (health: http://127.0.0.1:{api_port}/api/v1/health)\n"
        )
        assert lines[1] == f"API docs:    http://127.0.0.1:{api_port}/api/docs\n"
        assert lines[2] == f"Temporal UI: http://127.0.0.1:{ui_port}\n"
        assert lines[3].startswith(f"Temporal:    127.0.0.1:{port} ")
        health = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=10).json()
        assert health["status"] == "ok"
        assert health["temporal"]["connected"] is True
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/docs", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ui_port}/", timeout=10).status_code == 200
        # The stack migrated its database in the data dir: a user created now can sign in.
        assert process.stdout.readline() == f"Database:    sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}\n"
        # Payloads are encrypted with a key the stack made in the data dir.
        assert process.stdout.readline().startswith("Encryption:  on, payloads sealed with the key k")
        assert process.stdout.readline().startswith(f"Codec:       http://127.0.0.1:{api_port}/codec ")
        assert (tmp_path / "encryption-keys").stat().st_mode & 0o777 == 0o600
        created = subprocess.run(
            [str(script), "user", "create", "root", "--admin", "--password-stdin"],
            env=env,
            input="dev stack password\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        login = httpx.post(
            f"http://127.0.0.1:{api_port}/api/v1/auth/login",
            json={"username": "root", "password": "dev stack password"},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        me = httpx.get(
            f"http://127.0.0.1:{api_port}/api/v1/users/me",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            timeout=10,
        )
        assert me.json()["role"] == "admin"
        example = Path(__file__).parents[2] / "docs" / "examples" / "lead-routing.json"
        run = subprocess.run(
            [
                str(script),
                "run",
                str(example),
                "--wait",
                "--input",
                '{"company": "X", "company_size": 900, "budget": 1}',
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout.splitlines()[-1])["owner"] == "enterprise team"
        run_id = next(line.split()[-1] for line in run.stderr.splitlines() if line.startswith("started run "))
        # Temporal holds ciphertext; through the codec endpoint, with the admin's token, the CLI reads it.
        show = [str(temporal_binary()), "workflow", "show", "-w", run_id, "--address", f"127.0.0.1:{port}"]
        codec = ["--codec-endpoint", f"http://127.0.0.1:{api_port}/codec"]
        token = ["--codec-auth", f"Bearer {login.json()['access_token']}"]
        sealed = subprocess.run(show, capture_output=True, text=True, timeout=60, check=True)
        opened = subprocess.run(show + codec + token, capture_output=True, text=True, timeout=60, check=True)
        assert "enterprise team" not in sealed.stdout
        assert "enterprise team" in opened.stdout
        status = subprocess.run(
            [str(script), "status", run_id], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert (report["status"], report["definition"], report["progress"]) == (
            "completed",
            "lead-routing",
            100.0,
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 20
    while (
        not (port_is_free("127.0.0.1", port) and port_is_free("127.0.0.1", api_port))
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", api_port)
