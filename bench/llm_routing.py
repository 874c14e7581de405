"""Model affinity (issue [llm]): per-model task queues against one shared queue.

    .venv/bin/python -m bench.llm_routing [--runs 80] [--rounds 3] [--cold 0.4] [--token 0.004]

Two llm workers, each with a "GPU" of its own: a local OpenAI-compatible server that holds one
model at a time. It charges `--cold` seconds whenever a request names another model than the
one before it (a model swap), and `--token` seconds per token of the 20-token reply. The runs
each ask one of two models (m1 or m2, seeded random, `--concurrency` at a time). The variants
alternate round by round:

- per-model queues: worker A serves m1 (`--models m1`), worker B serves m2;
- shared: both workers take requests of both models, as workers of one shared queue would.

The table shows the warm-hit rate (the share of requests that found their model loaded) and
the p50/p95 time to first token. That time runs from the step's request being scheduled
(Temporal's ActivityTaskScheduled) to the server's first token: the queue wait, the swap if
there was one, and one token. It is worked out as the step's scheduled-to-completed time in
history minus the other 19 tokens.
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
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bench.overhead import p
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from tests.helpers import plan_of, registry
from tests.llm_servers import FakeOpenAI, Text
from workers.worker import running_workers
from workflows.engine.models import WORKFLOW_QUEUE

TOKENS = 20
ASK = """stepwise: 1
name: bench-llm-{model}
steps:
  - {{id: ask, module: api.llm, inputs: {{model: "{model}@openai", input: "Say twenty words", max_tokens: 50}}}}
"""


def _settings(prefix: str, base_url: str | None = None) -> Settings:
    return Settings(
        task_queue_prefix=prefix,
        openai_base_url=base_url,
        openai_api_key="unused",
        llm_aliases={},
        llm_default_provider="openai",
    )


@contextlib.asynccontextmanager
async def _llm_worker(
    client: Client, prefix: str, gpu: FakeOpenAI, models: list[str], slots: int
) -> AsyncIterator[None]:
    """`stepwise worker --queue llm --models ...` in a process of its own (a GPU machine)."""
    host, port = client.service_client.config.target_host.rsplit(":", 1)
    env = {
        **os.environ,
        "STEPWISE_TEMPORAL_HOST": host,
        "STEPWISE_TEMPORAL_PORT": port,
        "STEPWISE_TASK_QUEUE_PREFIX": prefix,
        "OPENAI_BASE_URL": gpu.url,
        "OPENAI_API_KEY": "unused",
        "STEPWISE_LLM_ALIASES": "{}",
        "STEPWISE_LLM_DEFAULT_PROVIDER": "openai",
    }
    script = Path(sys.executable).parent / "stepwise"
    argv = [str(script), "worker", "--queue", "llm", "--models", ",".join(models), "--slots", str(slots)]
    process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def _polled(client: Client, queue: str) -> None:
    """Wait until a worker polls `queue` (the routing skips models nobody serves)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    )
    for _ in range(600):
        if (await client.workflow_service.describe_task_queue(request)).pollers:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no worker polls {queue}")


@contextlib.asynccontextmanager
async def _workers(
    client: Client, prefix: str, gpus: list[FakeOpenAI], per_model: bool, slots: int
) -> AsyncIterator[None]:
    both = ["m1@openai", "m2@openai"]
    chosen = [["m1@openai"], ["m2@openai"]] if per_model else [both, both]
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            running_workers(client, [WORKFLOW_QUEUE], _settings(prefix), registry())
        )
        for gpu, models in zip(gpus, chosen, strict=True):
            await stack.enter_async_context(_llm_worker(client, prefix, gpu, models, slots))
        for model in ("m1", "m2"):
            await _polled(client, f"{prefix}llm.{model}")
        yield


async def _first_token_s(client: Client, run_id: str, token_s: float) -> float:
    scheduled = completed = None
    async for event in client.get_workflow_handle(run_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name == "module:api.llm":
                scheduled = event.event_time.ToDatetime()
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED and scheduled is not None:
            completed = event.event_time.ToDatetime()
    assert scheduled is not None, run_id
    assert completed is not None, run_id
    return (completed - scheduled).total_seconds() - (TOKENS - 1) * token_s


async def _variant(
    client: Client, per_model: bool, args: argparse.Namespace, seed: int
) -> tuple[float, list[float]]:
    prefix = f"bl-{uuid.uuid4().hex[:6]}-"
    reply = Text(" ".join(["word"] * TOKENS), input_tokens=5, output_tokens=TOKENS)
    with (
        FakeOpenAI(token_delay_s=args.token, cold_load_s=args.cold, default=reply) as a,
        FakeOpenAI(token_delay_s=args.token, cold_load_s=args.cold, default=reply) as b,
    ):
        async with _workers(client, prefix, [a, b], per_model, args.slots):
            plans = {m: Prepared(plan_of(ASK.format(model=m), header=False)) for m in ("m1", "m2")}
            picks = random.Random(seed).choices(["m1", "m2"], k=args.runs)
            gate = asyncio.Semaphore(args.concurrency)
            settings = _settings(prefix)

            async def one(model: str) -> str:
                async with gate:
                    handle = await start_run(client, plans[model], {}, settings)
                    await handle.result()
                    return handle.id

            ids = await asyncio.gather(*(one(m) for m in picks))
        requests = sum(1 for s in (a, b) for r in s.requests if r.path.endswith("/chat/completions"))
        cold = len(a.cold_loads) + len(b.cold_loads)
    ttft = [await _first_token_s(client, run_id, args.token) for run_id in ids]
    return 1.0 - cold / requests, ttft


async def main(args: argparse.Namespace) -> None:
    results: dict[str, list[tuple[float, list[float]]]] = {"per-model queues": [], "one shared queue": []}
    async with await ephemeral_dev_server() as env:
        for round_ in range(args.rounds):
            for name, per_model in (("per-model queues", True), ("one shared queue", False)):
                results[name].append(await _variant(env.client, per_model, args, seed=round_))
    print(
        f"{args.runs} runs a round, {args.concurrency} at a time, {args.rounds} rounds; cold load {args.cold}s,"
    )
    print(f"{args.token * 1000:.0f} ms a token, {args.slots} slots per model per worker")
    print(f"{'variant':<18} {'warm-hit rate':>14} {'TTFT p50 ms':>12} {'TTFT p95 ms':>12}")
    for name, rounds in results.items():
        hit = statistics.median(r[0] for r in rounds)
        p50 = statistics.median(p(r[1], 50) for r in rounds) * 1000
        p95 = statistics.median(p(r[1], 95) for r in rounds) * 1000
        print(f"{name:<18} {hit:>13.1%} {p50:>12.1f} {p95:>12.1f}")
    print("(medians of the rounds; each round's figures are over its runs)")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--cold", type=float, default=0.4)
    parser.add_argument("--token", type=float, default=0.004)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(_args()))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
