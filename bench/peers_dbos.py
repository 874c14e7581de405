"""The DBOS side of bench/peers.py: trivial `@DBOS.step`s (5 unless told) in one `@DBOS.workflow`.

Runs in the bench's own virtualenv (bench/.peers-venv, which has `dbos`; the project's does
not), as a child process of bench/peers.py, so DBOS shares nothing with Stepwise's stack:

    bench/.peers-venv/bin/python bench/peers_dbos.py postgresql://postgres@127.0.0.1:5432/DB

It creates the database DB, launches DBOS on it, then reads one JSON command a line on stdin:
`{"n": 10, "batches": 3, "steps": 5}` starts `n` workflows of `steps` steps at once, waits for
all, `batches` times, and answers one JSON line on stdout, `{"latencies_ms": [...],
"elapsed_s": ...}` (each latency from the start call to the result; elapsed is the batches'
wall time). End of input shuts DBOS down
and drops DB. Only the standard library, dbos and what dbos brings (SQLAlchemy, psycopg).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig

STEPS = 5


@DBOS.step()
async def step(value: int) -> int:
    """A trivial step: the work is the checkpointing around it."""
    return value + 1


@DBOS.workflow()
async def chain(value: int, steps: int) -> int:
    for _ in range(steps):
        value = await step(value)
    return value


async def one(steps: int) -> float:
    start = time.perf_counter()
    handle = await DBOS.start_workflow_async(chain, 0, steps)
    result = await handle.get_result()
    if result != steps:
        raise RuntimeError(f"the DBOS workflow returned {result!r}, not {steps}")
    return (time.perf_counter() - start) * 1000


async def batches(n: int, count: int, steps: int) -> dict[str, Any]:
    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(count):
        latencies += await asyncio.gather(*(one(steps) for _ in range(n)))
    return {"latencies_ms": latencies, "elapsed_s": time.perf_counter() - start}


def _admin(url: sa.URL, statement: str) -> None:
    """CREATE or DROP DATABASE, which need autocommit, on the server's `postgres` database."""
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()


async def serve() -> None:
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        answer = await batches(
            int(command["n"]), int(command.get("batches", 1)), int(command.get("steps", STEPS))
        )
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main(database_url: str) -> None:
    url = sa.make_url(database_url).set(drivername="postgresql+psycopg")
    name = url.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"peers_dbos: {database_url}: name a database of letters, digits and _")
    _admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    _admin(url, f'CREATE DATABASE "{name}"')
    try:
        config: DBOSConfig = {
            "name": "stepwise-bench-peers",
            "system_database_url": database_url,
            "log_level": "WARNING",
        }
        DBOS(config=config)
        DBOS.launch()
        try:
            asyncio.run(serve())
        finally:
            DBOS.destroy()
    finally:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
