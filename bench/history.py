"""History and payload figures (issue [history]); so far the payload codec's.

    .venv/bin/python -m bench.history [--rounds 5] [--runs 50]

(a) What sealing and opening one 100 KB payload costs (AES-256-GCM, zlib first): JSON text
    (compressible) and random bytes (not), median of 200 each;
(b) runs per second, 50 started at once (a 5-step definition, a 10 KB input), with and without
    encryption, on one dev server, the two alternating round by round; the table shows both
    and how much slower encryption is (median of the rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
import uuid

from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from core.codec import EncryptionCodec, EncryptionKeys, new_key_entry
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
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


async def main(rounds: int, runs: int) -> None:
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
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.runs))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
