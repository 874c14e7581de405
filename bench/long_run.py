"""A loop whose body calls an activity, N iterations, across continue-as-new boundaries.

    .venv/bin/python -m bench.long_run [--iterations 10000] [--continue-after 2000]

Prints the time taken, how many times the run continued as new, the largest history of one
of its runs, and whether the state came out intact.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from temporalio.worker import Worker

from bench.native import echo
from bench.overhead import BENCH_QUEUE, bench_registry
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.worker import QUEUES, running_workers
from workflows.compiler import compile_text
from workflows.engine.models import STATUS_QUERY, RunStatus

DEFINITION = """
stepwise: 1
name: long-run
state: {total: 0, count: 0}
output: "{{ state }}"
steps:
  - id: many
    loop: {until: "{{ state.count >= input.iterations }}", max_iterations: 1000000}
    steps:
      - {id: echo, module: bench.echo, inputs: {value: "{{ loop.iteration }}"}}
      - id: add
        module: transform.extract
        inputs: {t: "{{ state.total + steps.echo.value }}", c: "{{ state.count + 1 }}"}
        outputs_to_state: {total: t, count: c}
"""


async def main(iterations: int, continue_after: int) -> None:
    registry = bench_registry()
    settings = Settings(
        task_queue_prefix=f"long-{uuid.uuid4().hex[:6]}-", continue_as_new_after=continue_after
    )
    plan = compile_text(DEFINITION, "long-run.yaml", registry).unwrap()
    async with (
        await ephemeral_dev_server() as env,
        running_workers(env.client, list(QUEUES), settings, registry),
        Worker(env.client, task_queue=settings.task_queue_prefix + BENCH_QUEUE, activities=[echo]),
    ):
        start = time.perf_counter()
        handle = await start_run(env.client, Prepared(plan), {"iterations": iterations}, settings)
        output = (await handle.result()).output
        elapsed = time.perf_counter() - start
        status = await handle.query(STATUS_QUERY, result_type=RunStatus)
        longest = 0
        async for execution in env.client.list_workflows(f"WorkflowId = '{handle.id}'"):
            runs = env.client.get_workflow_handle(handle.id, run_id=execution.run_id)
            longest = max(longest, len((await runs.fetch_history()).events))
    expected = {"total": iterations * (iterations + 1) // 2, "count": iterations}
    print(f"iterations            {iterations}")
    print(f"seconds               {elapsed:.1f}")
    print(f"continued as new      {status.continued} times (threshold {continue_after} events)")
    print(f"largest history       {longest} events")
    print(f"state intact          {output == expected} ({output})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A long activity loop across continue-as-new")
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--continue-after", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.iterations, args.continue_after))
