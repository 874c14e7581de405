"""People in the loop, timed on one dev server (the time-skipping server does not skip while
a run waits for an Update).

    .venv/bin/python -m bench.human [--runs 10] [--answers 25] [--paused 1000] [--settle 0.5]

(a) From a client's Update call (an answer) to the next step's activity starting, p50/p99,
    over runs x answers answers, beside a hand-written workflow doing the same (wait for an
    Update, then run the activity);
(b) The inbox with `--paused` runs waiting for a group: its first page (100 runs: one
    visibility listing that reads each run's inbox memo) and all of it (page after page),
    p50/p95, beside asking every run (a visibility listing, then a query to each run).
Activity start times are the server's ActivityTaskStarted event times; the client's clock is
the same machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench.native import NativeAnswer, NativeHuman, NativeInput, echo
from bench.overhead import BENCH_QUEUE, bench_registry, p
from core.environments import ephemeral_dev_server
from core.interactions import inbox, inbox_page, interactions, respond
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.worker import QUEUES, running_workers, sandbox
from workflows.compiler import compile_text
from workflows.engine.human import Responder
from workflows.engine.models import INTERACTIONS_QUERY
from workflows.plan import Plan

ANSWERS = """
stepwise: 1
name: bench-answers
steps:
  - id: rounds
    loop: {{max_iterations: {answers}}}
    steps:
      - {{id: ask, module: user.text_input, inputs: {{prompt: "Next value?"}}}}
      - {{id: next, module: bench.echo, inputs: {{value: "{{{{ steps.ask.value }}}}"}}}}
"""
PAUSED = """
stepwise: 1
name: bench-inbox
steps:
  - {id: hold, module: user.pause, inputs: {message: "Check and continue", assignees: [reviewers]}}
"""
ADA = Responder(user="ada", groups=["reviewers"])
# A pause after starting each run (both sides), so the previous run's clean-up on the dev
# server does not land on the first answer (--settle 0 shows that effect).
SETTLE_S = 0.5


async def activity_starts(handle: WorkflowHandle[Any, Any]) -> list[float]:
    return [
        e.event_time.ToDatetime().timestamp()
        async for e in handle.fetch_history_events()
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]


async def until(check: Any) -> Any:
    while True:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.01)


async def stepwise_answers(client: Client, settings: Settings, plan: Plan, answers: int) -> list[float]:
    handle = await start_run(client, Prepared(plan), {}, settings)
    await asyncio.sleep(SETTLE_S)
    sent: list[float] = []
    for index in range(answers):

        async def opened() -> Any:
            found = await handle.query(INTERACTIONS_QUERY, result_type=list[dict[str, Any]])
            return found[0]["id"] if found else None

        interaction_id = await until(opened)
        sent.append(time.time())
        await respond(client, handle.id, interaction_id, {"value": str(index)}, ADA)
    await handle.result()
    return [(started - at) * 1000 for at, started in zip(sent, await activity_starts(handle), strict=True)]


async def native_answers(client: Client, settings: Settings, answers: int) -> list[float]:
    handle = await client.start_workflow(
        NativeHuman.run,
        NativeInput(steps=answers, queue=settings.task_queue_prefix + BENCH_QUEUE),
        id=f"native-human-{uuid.uuid4().hex[:10]}",
        task_queue=settings.task_queue_prefix + "native",
    )
    await asyncio.sleep(SETTLE_S)
    sent: list[float] = []
    for index in range(answers):

        async def ready(index: int = index) -> bool:
            waiting: int = await handle.query(NativeHuman.waiting_for)
            return waiting == index

        await until(ready)
        sent.append(time.time())
        await handle.execute_update(NativeHuman.answer, NativeAnswer(round=index, value=str(index)))
    await handle.result()
    return [(started - at) * 1000 for at, started in zip(sent, await activity_starts(handle), strict=True)]


async def timed(call: Any, repeat: int) -> tuple[list[float], Any]:
    times: list[float] = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


async def main(runs: int, answers: int, paused: int, repeat: int) -> None:
    registry = bench_registry()
    settings = Settings(task_queue_prefix=f"bench-{uuid.uuid4().hex[:6]}-")
    rows: list[tuple[str, str, str, str]] = []
    async with (
        await ephemeral_dev_server() as env,
        running_workers(env.client, list(QUEUES), settings, registry),
        Worker(env.client, task_queue=settings.task_queue_prefix + BENCH_QUEUE, activities=[echo]),
        Worker(
            env.client,
            task_queue=settings.task_queue_prefix + "native",
            workflows=[NativeHuman],
            workflow_runner=sandbox(),
        ),
    ):
        client = env.client
        warm = compile_text(ANSWERS.format(answers=3), "bench.yaml", registry).unwrap()
        await stepwise_answers(client, settings, warm, 3)
        plan = compile_text(ANSWERS.format(answers=answers), "bench.yaml", registry).unwrap()
        await native_answers(client, settings, 3)
        ours: list[float] = []
        native: list[float] = []
        for _ in range(runs):  # alternate, so machine noise hits both sides alike
            native += await native_answers(client, settings, answers)
            ours += await stepwise_answers(client, settings, plan, answers)
        for q in (50, 99):
            rows.append(
                (
                    f"(a) answer -> next activity started, p{q} ms ({len(ours)} answers)",
                    f"{p(native, q):.1f}",
                    f"{p(ours, q):.1f}",
                    f"{p(ours, q) / p(native, q):.2f}",
                )
            )

        hold = compile_text(PAUSED, "bench.yaml", registry).unwrap()
        gate = asyncio.Semaphore(50)

        async def start_one() -> str:
            async with gate:
                return (await start_run(client, Prepared(hold), {}, settings)).id

        ids = await asyncio.gather(*(start_one() for _ in range(paused)))
        query = "StepwiseAwaiting = 'reviewers' AND ExecutionStatus = 'Running'"

        async def all_listed() -> bool:
            return (await client.count_workflows(query)).count == paused and len(
                await inbox(client, ADA)
            ) == len(ids)

        await until(all_listed)
        first_page, page = await timed(lambda: inbox_page(client, ADA, 100), repeat)
        assert len(page.items) == min(100, paused), len(page.items)
        listing, items = await timed(lambda: inbox(client, ADA), repeat)
        assert len(items) == paused, len(items)

        async def ask_each() -> int:
            found = 0
            async for execution in client.list_workflows(query):
                found += len(await interactions(client, execution.id))
            return found

        asking, found = await timed(ask_each, max(3, repeat // 10))
        assert found == paused, found
        for label, times in ((f"first page (100 of {paused} runs)", first_page), (f"all {paused}", listing)):
            for q in (50, 95):
                rows.append(
                    (
                        f"(b) inbox, {label}, p{q} ms",
                        f"{p(asking, q):.1f}",
                        f"{p(times, q):.1f}",
                        f"{p(times, q) / p(asking, q):.2f}",
                    )
                )
        slowest = sorted(range(len(ours)), key=lambda i: -ours[i])[:8]
        print(
            "(a) slowest answers, ms (answer number in its run):",
            ", ".join(f"{ours[i]:.1f} (#{i % answers + 1})" for i in slowest),
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'baseline':>9}  {'stepwise':>9}  {'ratio':>6}")
    print("(baseline: (a) a hand-written Temporal workflow; (b) a query to every paused run)")
    for name, base, value, ratio in rows:
        print(f"{name:<{width}}  {base:>9}  {value:>9}  {ratio:>6}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="runs per side for (a)")
    parser.add_argument("--answers", type=int, default=25, help="answers per run for (a)")
    parser.add_argument("--paused", type=int, default=1000, help="paused runs for (b)")
    parser.add_argument("--repeat", type=int, default=40, help="timed inbox listings for (b)")
    parser.add_argument("--settle", type=float, default=SETTLE_S, help="seconds to wait after each start")
    args = parser.parse_args()
    SETTLE_S = args.settle
    asyncio.run(main(args.runs, args.answers, args.paused, args.repeat))
    # Leave without interpreter teardown: the SDK's threads can abort it (see cli.main.entry).
    sys.stdout.flush()
    os._exit(0)
