"""History and payload figures (issue [history]).

    .venv/bin/python -m bench.history [--rounds 5] [--runs 50] [--items 165] [--only codec|events]

(a) What sealing and opening one 100 KB payload costs (AES-256-GCM, zlib first): JSON text
    (compressible) and random bytes (not), median of 200 each;
(b) runs per second, 50 started at once (a 5-step definition, a 10 KB input), with and without
    encryption, on one dev server, the two alternating round by round; the table shows both
    and how much slower encryption is (median of the rounds);
(c) GET /api/v1/runs/{id}/events of a finished run whose history holds about 1,000 events (a
    for_each of `--items` api.fetch steps, one at a time), through two real `stepwise api`
    processes (encrypted payloads, fresh SQLite files) with the lean HTTP/1.1 client: one
    keeps ended executions' events in memory (the default), the other reads every history
    from Temporal again (STEPWISE_EVENTS_CACHE_EVENTS=0); p50 and p95 of 100 reads each of
    every event and of the events after the middle one, the two processes alternating;
(d) how long an event takes from entering history (its `at`, Temporal's time) to arriving at a
    client of GET /api/v1/runs/{id}/stream while the run goes on (the same definition;
    `module_start` left out: Temporal writes an activity's started event only when it closes,
    with the time it started): p50, p95 and max over `--rounds` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from bench.api import PASSWORD, api_process, worker_process
from bench.http1 import Http1
from bench.overhead import p
from core.codec import EncryptionCodec, EncryptionKeys, new_key_entry
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from core.sse import SseParser
from core.temporal import connect
from workers.worker import QUEUES, running_workers
from workflows.compiler import compile_text
from workflows.modules import builtin_registry

FIVE_STEPS = """
stepwise: 1
name: bench-codec
output: "{{ steps.e.n }}"
steps:
  - {id: a, module: transform.extract, inputs: {n: "{{ input.n }}", blob: "{{ input.blob }}"}}
  - {id: b, module: transform.extract, inputs: {n: "{{ steps.a.n + 1 }}"}}
  - {id: c, module: transform.extract, inputs: {n: "{{ steps.b.n + 1 }}"}}
  - {id: d, module: transform.extract, inputs: {n: "{{ steps.c.n + 1 }}"}}
  - {id: e, module: transform.extract, inputs: {n: "{{ steps.d.n + 1 }}"}}
"""


ITEMS = """
stepwise: 1
name: bench-events
steps:
  - id: each
    for_each: "{{ input.items }}"
    max_concurrency: 1
    steps:
      - {id: get, module: api.fetch, inputs: {url: "{{ input.base }}/n/{{ item }}"}}
"""


class _Numbers(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"n": self.path.rsplit("/", 1)[-1]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def codec_costs() -> list[tuple[str, float]]:
    codec = EncryptionCodec(EncryptionKeys.parse(new_key_entry()))
    text = json.dumps([{"id": i, "note": f"line {i} of a report", "score": i * 0.5} for i in range(2200)])
    rows = []
    for label, data in (("JSON text", text.encode()[:100_000]), ("random bytes", os.urandom(100_000))):
        payload = Payload(metadata={"encoding": b"json/plain"}, data=data)
        sealed = codec.seal(payload)
        for step, call, arg in (("seal", codec.seal, payload), ("open", codec.open, sealed)):
            times = []
            for _ in range(200):
                started = time.perf_counter()
                call(arg)
                times.append((time.perf_counter() - started) * 1000)
            rows.append((f"(a) {step} 100 KB of {label}, median ms", statistics.median(times)))
    return rows


async def runs_per_second(client: Client, settings: Settings, runs: int) -> float:
    plan = compile_text(FIVE_STEPS, "bench.yaml", builtin_registry()).unwrap()
    blob = secrets.token_hex(5_000)
    started = time.perf_counter()
    handles = await asyncio.gather(
        *(start_run(client, Prepared(plan), {"n": i, "blob": blob}, settings) for i in range(runs))
    )
    await asyncio.gather(*(h.result() for h in handles))
    return runs / (time.perf_counter() - started)


async def codec_figures(rounds: int, runs: int) -> list[tuple[str, float]]:
    rows = codec_costs()
    async with await ephemeral_dev_server() as env:
        address = env.client.service_client.config.target_host
        plain = Settings(task_queue_prefix=f"bp-{uuid.uuid4().hex[:6]}-")
        sealed = Settings(
            task_queue_prefix=f"bs-{uuid.uuid4().hex[:6]}-", encryption_keys=SecretStr(new_key_entry())
        )
        plain_client = await connect(plain, address)
        sealed_client = await connect(sealed, address)
        rates: dict[str, list[float]] = {"plain": [], "encrypted": []}
        async with (
            running_workers(plain_client, list(QUEUES), plain, builtin_registry()),
            running_workers(sealed_client, list(QUEUES), sealed, builtin_registry()),
        ):
            await runs_per_second(plain_client, plain, 10)  # warm both
            await runs_per_second(sealed_client, sealed, 10)
            for _ in range(rounds):
                rates["plain"].append(await runs_per_second(plain_client, plain, runs))
                rates["encrypted"].append(await runs_per_second(sealed_client, sealed, runs))
    slower = [100 * (1 - e / p) for p, e in zip(rates["plain"], rates["encrypted"], strict=True)]
    rows.append(
        (f"(b) runs/s, {runs} at once, no encryption (median of {rounds})", statistics.median(rates["plain"]))
    )
    rows.append(
        (f"(b) runs/s, {runs} at once, encrypted (median of {rounds})", statistics.median(rates["encrypted"]))
    )
    rows.append(("(b) encrypted is slower by, % (median of the rounds)", statistics.median(slower)))
    return rows


async def _finished(client: Client, run_id: str) -> None:
    await client.get_workflow_handle(run_id).result()


async def _delays(http: httpx.AsyncClient, run_id: str) -> list[float]:
    """Milliseconds from each event's `at` to its arrival on the stream, until `end`."""
    delays = []
    parser = SseParser()
    async with http.stream("GET", f"/api/v1/runs/{run_id}/stream") as response:
        async for line in response.aiter_lines():
            arrived = time.time()
            message = parser.feed(line)
            if message is None:
                continue
            if message.event == "end":
                break
            event = json.loads(message.data)
            if event["type"] != "module_start":
                delays.append((arrived - datetime.fromisoformat(event["at"]).timestamp()) * 1000)
    return delays


async def event_figures(rounds: int, items: int) -> list[tuple[str, float]]:
    numbers = ThreadingHTTPServer(("127.0.0.1", 0), _Numbers)
    threading.Thread(target=numbers.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{numbers.server_address[1]}"
    settings = Settings(task_queue_prefix=f"bh-{uuid.uuid4().hex[:6]}-")
    key = new_key_entry()
    sealed = {"STEPWISE_ENCRYPTION_KEYS": key}
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as other:
        async with (
            await ephemeral_dev_server() as env,
            worker_process(env.client, settings, STEPWISE_FETCH_ALLOW_HOSTS='["127.0.0.1"]', **sealed),
            api_process(
                env.client, settings, Path(folder), None, STEPWISE_CONTINUE_AS_NEW_AFTER="5000", **sealed
            ) as api,
            api_process(
                env.client, settings, Path(other), None, STEPWISE_EVENTS_CACHE_EVENTS="0", **sealed
            ) as cold,
            httpx.AsyncClient(base_url=api, timeout=120) as http,
        ):
            client = await connect(
                Settings(encryption_keys=SecretStr(key)), env.client.service_client.config.target_host
            )
            login = await http.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
            http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            token = {"Authorization": http.headers["Authorization"]}
            async with httpx.AsyncClient(base_url=cold) as other_http:
                cold_login = await other_http.post(
                    "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
                )
            cold_token = {"Authorization": f"Bearer {cold_login.json()['access_token']}"}
            readers = {
                "kept": Http1(http.base_url.host, http.base_url.port or 80, token),
                "read from Temporal": Http1("127.0.0.1", httpx.URL(cold).port or 80, cold_token),
            }
            uploaded = await http.post(
                "/api/v1/definitions", content=ITEMS, headers={"content-type": "application/yaml"}
            )
            assert uploaded.status_code in (200, 201), uploaded.text
            body = {"definition": "bench-events", "input": {"items": list(range(items)), "base": base}}

            async def started() -> str:
                answer = await http.post("/api/v1/runs", json=body)
                assert answer.status_code == 201, answer.text
                return str(answer.json()["id"])

            run_id = await started()
            await _finished(client, run_id)
            length = (
                await client.get_workflow_handle(run_id).describe()
            ).raw_description.workflow_execution_info.history_length
            path = f"/api/v1/runs/{run_id}/events"
            every = (await readers["kept"].get(path)).json()["events"]
            middle = every[len(every) // 2]["id"]
            reads: dict[tuple[str, str], list[float]] = {}
            for _ in range(100):  # the two API processes alternate, so noise hits both alike
                for how, reader in readers.items():
                    for label, url in (
                        ("every event", path),
                        ("after the middle one", f"{path}?after={middle}"),
                    ):
                        began = time.perf_counter()
                        reply = await reader.get(url)
                        reads.setdefault((how, label), []).append((time.perf_counter() - began) * 1000)
                        assert reply.status == 200, reply.body
            for reader in readers.values():
                await reader.close()
            rows.append(("(c) events in the run's history", float(length)))
            rows.append(("(c) run events derived", float(len(every))))
            for (how, label), times in reads.items():
                rows.append((f"(c) GET .../events, {label}, {how}: p50 ms", p(times, 50)))
                rows.append((f"(c) GET .../events, {label}, {how}: p95 ms", p(times, 95)))
            delays: list[float] = []
            for _ in range(rounds):
                run_id = await started()
                delays.extend(await _delays(http, run_id))
            rows.append(
                (f"(d) stream delay over {len(delays)} events of {rounds} runs: p50 ms", p(delays, 50))
            )
            rows.append(("(d) stream delay: p95 ms", p(delays, 95)))
            rows.append(("(d) stream delay: max ms", max(delays)))
    numbers.shutdown()
    return rows


async def main(rounds: int, runs: int, items: int, only: str | None) -> None:
    rows = []
    if only in (None, "codec"):
        rows += await codec_figures(rounds, runs)
    if only in (None, "events"):
        rows += await event_figures(rounds, items)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--items", type=int, default=165)
    parser.add_argument("--only", choices=["codec", "events"], default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.runs, args.items, args.only))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
