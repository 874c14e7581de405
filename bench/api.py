"""What the API adds: a run started and an answer given through HTTP, beside the same call made
directly with the Temporal SDK, on one dev server.

    .venv/bin/python -m bench.api [--rounds 5] [--samples 40] [--database-url URL]

The API is a real `stepwise api` process (uvicorn; a fresh SQLite file, or the empty database at
`--database-url`, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/bench; rate limits off) on
127.0.0.1, the workers a `stepwise worker --all` process; the timed client (bench.http1, a lean
HTTP/1.1 client, for the API; the SDK for the direct calls) is this process. Each figure
alternates the two paths call by call (in pairs, A B or B A), `--rounds` times `--samples` calls
each, so machine noise hits both alike; the table shows p50/p99 of each path, what the API adds,
how far that moved from round to round, and the typical shift (the median of all differences),
which the wide spread of a single call's latency moves much less than a difference of p50s.
  (a) POST /api/v1/runs {definition: name, input} against start_run(...) with the same plan;
  (b) POST /api/v1/runs/{id}/interactions/{iid} against core.interactions.respond(...).
After each call (untimed) the bench waits for the run to end: a figure is the latency of one
call, not of that call racing the previous run's workflow tasks for the machine's two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from bench.http1 import Http1
from bench.overhead import p
from core.accounts import create_first_user
from core.db.migrate import upgrade
from core.devserver import free_port
from core.environments import ephemeral_dev_server
from core.interactions import respond
from core.runs import Prepared, start_run
from core.settings import Settings
from workflows.compiler import compile_text
from workflows.engine.human import Responder
from workflows.engine.models import INTERACTIONS_QUERY
from workflows.modules import builtin_registry

PASSWORD = "bench password 1234"
START = """
stepwise: 1
name: bench-start
output: "{{ steps.double.n }}"
steps:
  - {id: double, module: transform.extract, inputs: {n: "{{ input.n * 2 }}"}}
"""
ANSWER = """
stepwise: 1
name: bench-answer
output: "{{ steps.ask.value }}"
steps:
  - {id: ask, module: user.text_input, inputs: {prompt: "Value?"}}
"""


@contextlib.asynccontextmanager
async def api_process(
    client: Client, settings: Settings, data_dir: Path, url: str | None, **extra_env: str
) -> AsyncIterator[str]:
    """`stepwise api` against the dev server, on a migrated database (a SQLite file unless `url`
    is given) with an admin; yields its base URL. `extra_env`: more STEPWISE_* settings."""
    url = url or f"sqlite+aiosqlite:///{data_dir / 'stepwise.db'}"
    await upgrade(url)
    await create_first_user(url, "admin", PASSWORD, "admin", None, [])
    host, port = client.service_client.config.target_host.rsplit(":", 1)
    api_port = free_port()
    env = {
        **os.environ,
        "STEPWISE_DATA_DIR": str(data_dir),
        "STEPWISE_DATABASE_URL": url,
        "STEPWISE_TEMPORAL_HOST": host,
        "STEPWISE_TEMPORAL_PORT": port,
        "STEPWISE_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        "STEPWISE_API_PORT": str(api_port),
        "STEPWISE_RATE_LIMIT_LOGIN_PER_MINUTE": "0",
        "STEPWISE_RATE_LIMIT_AUTH_PER_MINUTE": "0",
        **extra_env,
    }
    script = Path(sys.executable).parent / "stepwise"
    process = await asyncio.create_subprocess_exec(str(script), "api", env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{api_port}"
    try:
        async with httpx.AsyncClient(base_url=base) as probe:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get("/api/v1/health")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("stepwise api did not come up")
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


@contextlib.asynccontextmanager
async def worker_process(client: Client, settings: Settings, **extra_env: str) -> AsyncIterator[None]:
    """`stepwise worker --all` against the dev server, for the bench's task queues."""
    host, port = client.service_client.config.target_host.rsplit(":", 1)
    env = {
        **os.environ,
        "STEPWISE_TEMPORAL_HOST": host,
        "STEPWISE_TEMPORAL_PORT": port,
        "STEPWISE_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        **extra_env,
    }
    script = Path(sys.executable).parent / "stepwise"
    process = await asyncio.create_subprocess_exec(
        str(script), "worker", "--all", env=env, stdout=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def alternate(
    direct: Callable[[int], Awaitable[str]],
    through_api: Callable[[int], Awaitable[str]],
    rounds: int,
    samples: int,
    settle: Callable[[str], Awaitable[None]],
) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each path, called in pairs (which goes first is drawn for each
    pair, from a fixed seed, so neither path always follows the other); each call returns the id
    of the run it touched, and `settle` waits (untimed) for that run before the next call."""
    ours: list[float] = []
    theirs: list[float] = []
    order = random.Random(7)
    index = 0
    for _ in range(rounds):
        for _ in range(samples):
            pair = [(direct, theirs), (through_api, ours)]
            order.shuffle(pair)
            for call, times in pair:
                started = time.perf_counter()
                run_id = await call(index)
                times.append((time.perf_counter() - started) * 1000)
                await settle(run_id)
                index += 1
    return theirs, ours


async def open_interactions(client: Client, run_ids: list[str]) -> None:
    for run_id in run_ids:
        handle = client.get_workflow_handle(run_id)
        for _ in range(1000):
            if await handle.query(INTERACTIONS_QUERY, result_type=list[dict[str, Any]]):
                break
            await asyncio.sleep(0.01)


async def main(rounds: int, samples: int, database_url: str | None) -> None:
    registry = builtin_registry()  # to compile the plans the direct calls start
    settings = Settings(task_queue_prefix=f"bench-{uuid.uuid4().hex[:6]}-")
    rows: list[tuple[str, float, float, str]] = []
    shifts: list[tuple[str, float]] = []
    floors: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        async with (
            await ephemeral_dev_server() as env,
            worker_process(env.client, settings),
            api_process(env.client, settings, Path(folder), database_url) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as http,
        ):
            client = env.client
            login = await http.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
            http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            lean = Http1(
                http.base_url.host, http.base_url.port or 80, {"Authorization": http.headers["Authorization"]}
            )
            for text in (START, ANSWER):
                uploaded = await http.post(
                    "/api/v1/definitions", content=text, headers={"content-type": "application/yaml"}
                )
                assert uploaded.status_code in (200, 201), uploaded.text
            start_plan = compile_text(START, "start.yaml", registry).unwrap()
            answer_plan = compile_text(ANSWER, "answer.yaml", registry).unwrap()

            async def ended(run_id: str) -> None:
                await client.get_workflow_handle(run_id).result()

            async def start_direct(n: int) -> str:
                prepared = Prepared(start_plan)
                return (await start_run(client, prepared, {"n": n}, settings, owner="admin", version=1)).id

            async def start_api(n: int) -> str:
                answer = await lean.post("/api/v1/runs", {"definition": "bench-start", "input": {"n": n}})
                assert answer.status == 201, answer.body
                return str(answer.json()["id"])

            # What any request costs: HTTP and the middleware alone (with httpx, then with the lean
            # client the timed calls use), then with a signed-in caller and one database read.
            async def with_httpx(path: str) -> int:
                return (await http.get(path)).status_code

            async def with_lean(path: str) -> int:
                return (await lean.get(path)).status

            get: Callable[[str], Awaitable[int]]
            for label, path, get in (
                ("no caller, no database; httpx", "/auth/oidc", with_httpx),
                ("no caller, no database", "/auth/oidc", with_lean),
                ("signed in, one database read", "/users/me", with_lean),
            ):
                floor: list[float] = []
                for _ in range(rounds * samples):
                    started = time.perf_counter()
                    assert await get(f"/api/v1{path}") == 200
                    floor.append((time.perf_counter() - started) * 1000)
                floors.append((f"GET {path} ({label}), p50 ms", p(floor, 50)))

            await alternate(start_direct, start_api, 1, 5, ended)  # warm both paths
            direct, through = await alternate(start_direct, start_api, rounds, samples, ended)
            rows += _rows("(a) start a run", direct, through, samples)
            shifts.append(("(a) start a run, typical shift ms (Hodges-Lehmann)", _shift(direct, through)))

            total = rounds * samples + 5
            waiting = [
                (await start_run(client, Prepared(answer_plan), {}, settings, owner="admin")).id
                for _ in range(2 * total)
            ]
            await open_interactions(client, waiting)
            admin = Responder(user="admin")
            unanswered = iter(waiting)  # each call answers a run of its own

            async def answer_direct(n: int) -> str:
                run_id = next(unanswered)
                await respond(client, run_id, "ask-1", {"value": str(n)}, admin)
                return run_id

            async def answer_api(n: int) -> str:
                run_id = next(unanswered)
                answer = await lean.post(f"/api/v1/runs/{run_id}/interactions/ask-1", {"value": str(n)})
                assert answer.status == 200, answer.body
                return run_id

            await alternate(answer_direct, answer_api, 1, 5, ended)
            direct, through = await alternate(answer_direct, answer_api, rounds, samples, ended)
            rows += _rows("(b) answer a human step", direct, through, samples)
            shifts.append(
                ("(b) answer a human step, typical shift ms (Hodges-Lehmann)", _shift(direct, through))
            )
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'SDK':>8}  {'API':>8}  {'added':>8}  added per round (lowest..highest)")
    for name, sdk, api, spread in rows:
        print(f"{name:<{width}}  {sdk:>8.2f}  {api:>8.2f}  {api - sdk:>8.2f}  {spread}")
    for name, shift in shifts:
        print(f"{name:<{width}}  {'':>8}  {'':>8}  {shift:>8.2f}")
    for name, value in floors:
        print(f"{name:<{width}}  {'':>8}  {value:>8.2f}")


def _shift(direct: list[float], through: list[float]) -> float:
    """The median of every difference API - SDK (Hodges-Lehmann): how much later the API path
    is for a typical call. A call's own latency varies widely (an answer's from 13 to 26 ms);
    the difference of two p50s inherits that spread, this estimate much less of it."""
    return statistics.median(b - a for a in direct for b in through)


def _rows(
    figure: str, direct: list[float], through: list[float], samples: int
) -> list[tuple[str, float, float, str]]:
    """p50 and p99 of both paths, with how far what the API adds moved from round to round."""
    rows = []
    for q in (50, 99):
        added = [
            p(through[i : i + samples], q) - p(direct[i : i + samples], q)
            for i in range(0, len(direct), samples)
        ]
        spread = f"{min(added):.2f}..{max(added):.2f}"
        rows.append((f"{figure}, p{q} ms ({len(direct)} each)", p(direct, q), p(through, q), spread))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--samples", type=int, default=40, help="calls per path per round")
    parser.add_argument(
        "--database-url", default=None, help="an empty database for the API (default: SQLite)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.samples, args.database_url))
    # Leave without interpreter teardown: the SDK's threads can abort it (see cli.main.entry).
    sys.stdout.flush()
    os._exit(0)
