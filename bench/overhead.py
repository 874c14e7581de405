"""Stepwise's overhead over hand-written Temporal, side by side on one dev server.

    .venv/bin/python -m bench.overhead [--runs 30] [--warmup 5]

(a) N sequential activity steps (N = 3, 10): p50/p95 latency of one run at a time;
(b) 50 concurrent runs of 5 activity steps: runs per second;
(c) N pure steps in the workflow vs a native workflow with one activity per step.
Both sides call the same trivial activity on the same kind of worker; the table prints ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.native import EchoInput, EchoOutput, NativeActivities, NativeInput, echo
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.worker import QUEUES, running_workers, sandbox
from workflows.compiler import compile_text
from workflows.modules import ModuleSpec, Registry, builtin_registry
from workflows.plan import Plan

BENCH_QUEUE = "bench"


def bench_registry() -> Registry:
    registry = builtin_registry()
    # Steps may run it locally (`local: true`): the workflow workers register `echo` for that.
    echo_spec = ModuleSpec(
        "bench.echo",
        "activity",
        EchoInput,
        EchoOutput,
        "Echo",
        queue=BENCH_QUEUE,
        local_allowed=True,
        local_activity=echo,
    )
    registry.register(echo_spec)
    return registry


def chain_definition(name: str, module: str, steps: int, local: bool = False) -> str:
    """`steps` steps of one module, each passing the previous value plus one."""
    extra = ", local: true" if local else ""
    lines = [f"  - {{id: s0, module: {module}, inputs: {{value: 0}}{extra}}}"]
    for i in range(1, steps):
        lines.append(
            f'  - {{id: s{i}, module: {module}, inputs: {{value: "{{{{ steps.s{i - 1}.value + 1 }}}}"}}{extra}}}'
        )
    output = f'"{{{{ steps.s{steps - 1}.value + 1 }}}}"'
    return f"stepwise: 1\nname: {name}\noutput: {output}\nsteps:\n" + "\n".join(lines)


def activity_definition(steps: int) -> str:
    return chain_definition("bench-activities", "bench.echo", steps)


def local_definition(steps: int) -> str:
    return chain_definition("bench-local", "bench.echo", steps, local=True)


def pure_definition(steps: int) -> str:
    return chain_definition("bench-pure", "transform.extract", steps)


@dataclass
class Bench:
    client: Client
    settings: Settings
    registry: Registry

    def plan(self, text: str) -> Plan:
        return compile_text(text, "bench.yaml", self.registry).unwrap()

    async def stepwise(self, plan: Plan) -> Any:
        handle = await start_run(self.client, Prepared(plan), {}, self.settings)
        return (await handle.result()).output

    async def native(self, steps: int) -> Any:
        return await self.client.execute_workflow(
            NativeActivities.run,
            NativeInput(steps=steps, queue=self.settings.task_queue_prefix + BENCH_QUEUE),
            id=f"native-{uuid.uuid4().hex[:10]}",
            task_queue=self.settings.task_queue_prefix + "native",
        )


async def latencies(run: Callable[[], Awaitable[Any]], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await run()
        times.append((time.perf_counter() - start) * 1000)
    return times


async def throughput(run: Callable[[], Awaitable[Any]], count: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(count)))
    return count / (time.perf_counter() - start)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def main(runs: int, warmup: int, rounds: int) -> None:
    registry = bench_registry()
    settings = Settings(task_queue_prefix=f"bench-{uuid.uuid4().hex[:6]}-")
    rows: list[tuple[str, str, str, str]] = []
    async with (
        await ephemeral_dev_server() as env,
        running_workers(env.client, list(QUEUES), settings, registry),
    ):
        bench = Bench(env.client, settings, registry)
        async with (
            Worker(env.client, task_queue=settings.task_queue_prefix + BENCH_QUEUE, activities=[echo]),
            Worker(
                env.client,
                task_queue=settings.task_queue_prefix + "native",
                workflows=[NativeActivities],
                workflow_runner=sandbox(),
            ),
        ):
            for steps in (3, 10):
                plan = bench.plan(activity_definition(steps))
                assert await bench.stepwise(plan) == await bench.native(steps) == steps
                native: list[float] = []
                ours: list[float] = []
                for _ in range(rounds):  # alternate, so machine noise hits both sides alike
                    native += await latencies(functools.partial(bench.native, steps), runs // rounds, warmup)
                    ours += await latencies(functools.partial(bench.stepwise, plan), runs // rounds, warmup)
                rows.append(
                    (
                        f"(a) {steps} activity steps, p50 ms",
                        f"{p(native, 50):.1f}",
                        f"{p(ours, 50):.1f}",
                        f"{p(ours, 50) / p(native, 50):.2f}",
                    )
                )
                rows.append(
                    (
                        f"(a) {steps} activity steps, p95 ms",
                        f"{p(native, 95):.1f}",
                        f"{p(ours, 95):.1f}",
                        f"{p(ours, 95) / p(native, 95):.2f}",
                    )
                )
            plan = bench.plan(activity_definition(5))
            native_rate = ours_rate = 0.0
            for _ in range(rounds):
                native_rate += await throughput(functools.partial(bench.native, 5), 50) / rounds
                ours_rate += await throughput(functools.partial(bench.stepwise, plan), 50) / rounds
            rows.append(
                (
                    "(b) 50 concurrent runs x 5 steps, runs/s",
                    f"{native_rate:.1f}",
                    f"{ours_rate:.1f}",
                    f"{ours_rate / native_rate:.2f}",
                )
            )
            for steps in (3, 10):
                pure = bench.plan(pure_definition(steps))
                assert await bench.stepwise(pure) == steps
                native_times: list[float] = []
                pure_times: list[float] = []
                for _ in range(rounds):
                    native_times += await latencies(
                        functools.partial(bench.native, steps), runs // rounds, warmup
                    )
                    pure_times += await latencies(
                        functools.partial(bench.stepwise, pure), runs // rounds, warmup
                    )
                speedup = p(native_times, 50) / p(pure_times, 50)
                rows.append(
                    (
                        f"(c) {steps} pure steps vs native activities, p50 ms",
                        f"{p(native_times, 50):.1f}",
                        f"{p(pure_times, 50):.1f}",
                        f"{speedup:.1f}x faster",
                    )
                )
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'native':>9}  {'stepwise':>9}  {'ratio':>12}")
    for name, native_value, ours_value, ratio in rows:
        print(f"{name:<{width}}  {native_value:>9}  {ours_value:>9}  {ratio:>12}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per figure (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="alternate native/stepwise this many times")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.warmup, args.rounds))
