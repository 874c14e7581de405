"""Worker tuning (issue 10): each knob of Stepwise's workflow worker, measured side by side.

    .venv/bin/python -m bench.tuning [--rounds 5] [--quick] [--only default,sandboxed]
    (or: make bench-tuning ARGS=...)

Every variant is a Stepwise workflow worker of its own (workers.worker.worker_options with one
knob changed), on a task queue of its own, all in this process and on one dev server (a SQLite
file, as `make run` has it). A round runs each variant in turn on three loads: 3 and 50
concurrent runs of 5 pure steps, and 50 concurrent runs of 5 activity steps (bench.echo on a
worker of the variant's own: six workflow tasks a run, so the sticky cache matters). The
first round warms up and is not counted; the table shows medians over the rounds, and each
variant's ratio to `default` (median of per-round ratios: both ran in the same round).
The garbage collector's frozen heap is for the whole process: bench/heap.py measures it.

CPU a run is this process's CPU (client and workers) and the dev server's, over the runs of
that load. The last lines time the payload converter alone: what encoding and decoding a pure
run's input and result costs, against the same data as plain JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import PollerBehaviorSimpleMaximum, UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.llm.ledger import LlmLedger
from bench.native import echo
from bench.overhead import BENCH_QUEUE, activity_definition, bench_registry, p, pure_definition
from bench.peers import STEPS, timed_batches
from core.devserver import sqlite_args
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.heap import settle_heap
from workers.worker import Clients, activities_for, sandbox, worker_options
from workflows.compiler import compile_text
from workflows.engine.models import ENGINE_GENERATION, WORKFLOW_QUEUE, RunInput, RunOutput
from workflows.engine.registry import use_registry

LOADS = (("pure", 3), ("pure", 50), ("activities", 50))

# Each variant: what it changes in worker_options (applied to a copy of the defaults).
Change = Callable[[dict[str, Any]], None]


def _set(**values: Any) -> Change:
    return lambda options: options.update(values)


def _less_passthrough(options: dict[str, Any]) -> None:
    """Only what cannot load inside the sandbox at all (jinja2 makes a threading.Lock when an
    Environment is built): Stepwise's own modules, pydantic, yaml... are imported per run."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules("jinja2", "markupsafe")
    options["workflow_runner"] = SandboxedWorkflowRunner(restrictions=restrictions)


VARIANTS: dict[str, Change] = {
    "default": _set(),
    "cache 0": _set(max_cached_workflows=0),
    "cache 20": _set(max_cached_workflows=20),
    "slots 10": _set(max_concurrent_workflow_tasks=10),
    "slots 500": _set(max_concurrent_workflow_tasks=500),
    "polls 2": _set(workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(2)),
    "polls 20": _set(workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(20)),
    "less passthrough": _less_passthrough,
    "sandboxed": _set(workflow_runner=sandbox()),  # STEPWISE_WORKER_SANDBOX=always
    "unsandboxed": _set(workflow_runner=UnsandboxedWorkflowRunner()),  # STEPWISE_WORKER_SANDBOX=never
    "no interceptor": _set(interceptors=[]),
}


@dataclass
class Load:
    latencies_ms: list[float]
    elapsed_s: float
    cpu_ms: float  # this process and the server, over the runs

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s

    @property
    def cpu_per_run(self) -> float:
        return self.cpu_ms / len(self.latencies_ms)


@dataclass
class Results:
    loads: dict[tuple[str, str, int], list[Load]] = field(default_factory=dict)

    def add(self, variant: str, load: tuple[str, int], measured: Load) -> None:
        self.loads.setdefault((variant, *load), []).append(measured)

    def median(self, variant: str, load: tuple[str, int], figure: Callable[[Load], float]) -> float:
        return statistics.median(figure(x) for x in self.loads[(variant, *load)])

    def ratio(self, variant: str, load: tuple[str, int], figure: Callable[[Load], float]) -> float:
        pairs = zip(self.loads[(variant, *load)], self.loads[("default", *load)], strict=True)
        return statistics.median(figure(a) / figure(b) for a, b in pairs)


def server_pid() -> int | None:
    """The dev server: this process's child running the temporal binary."""
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            if "temporal" in Path(f"/proc/{child}/cmdline").read_text():
                return int(child)
    return None


def server_cpu_ms(pid: int | None) -> float:
    """The server's CPU in ms (clock ticks, from /proc); 0 when its pid is not known."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int | None) -> float:
    """CPU of this process, plus the server's when its pid is known, in ms."""
    return time.process_time() * 1000 + server_cpu_ms(pid)


@contextlib.asynccontextmanager
async def variant_workers(
    client: Client, name: str, change: Change, http: httpx.AsyncClient
) -> AsyncIterator[Settings]:
    """The variant's workflow worker and its bench.echo worker, on queues of their own."""
    settings = Settings(task_queue_prefix=f"tune-{uuid.uuid4().hex[:6]}-")
    clients = Clients(http, {}, LlmLedger(settings, None))
    served = activities_for(WORKFLOW_QUEUE, settings, clients, bench_registry())
    options = worker_options(WORKFLOW_QUEUE, settings, served)
    change(options)
    workers = [
        Worker(client, **options),
        Worker(client, task_queue=settings.task_queue_prefix + BENCH_QUEUE, activities=[echo]),
    ]
    tasks = [asyncio.create_task(w.run(), name=f"{name} worker") for w in workers]
    try:
        yield settings
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)


async def batches(
    client: Client, settings: Settings, plan: Prepared, n: int, count: int, pid: int | None
) -> Load:
    """bench/peers.py's timed batches of Stepwise runs, with the CPU they took."""

    async def run() -> Any:
        return (await (await start_run(client, plan, {}, settings)).result()).output

    cpu = cpu_ms(pid)
    measured = await timed_batches(run, n, count)
    return Load(measured.latencies_ms, measured.elapsed_s, cpu_ms(pid) - cpu)


def converter_cost(plan: Prepared, settings: Settings, repeat: int = 2000) -> list[str]:
    """µs to encode and decode a pure run's input and result, pydantic converter against JSON."""
    from temporalio.contrib.pydantic import pydantic_data_converter

    inputs = RunInput(
        plan=plan.plan,
        plan_hash=plan.content_hash(),
        input={},
        queue_prefix=settings.task_queue_prefix,
        engine=ENGINE_GENERATION,
    )
    output = RunOutput(output=STEPS)

    async def timed(converter: DataConverter, values: list[Any], types: list[type]) -> float:
        start = time.perf_counter()
        for _ in range(repeat):
            payloads = await converter.encode(values)
            await converter.decode(payloads, types)
        return (time.perf_counter() - start) / repeat * 1e6

    async def both() -> tuple[float, float]:
        typed = await timed(pydantic_data_converter, [inputs, output], [type(inputs), RunOutput])
        plain = [inputs.model_dump(mode="json"), output.model_dump(mode="json")]
        return typed, await timed(DataConverter.default, plain, [dict, dict])

    typed, plain = asyncio.run(both())
    size = len(inputs.model_dump_json())
    return [
        f"converter, a pure run's input ({size} bytes) and result, encoded and decoded once each:",
        f"  pydantic converter {typed:.0f} µs, plain JSON of the same data {plain:.0f} µs",
    ]


def table(results: Results, names: list[str]) -> list[str]:
    head = f"{'variant':<16} {'load':<14} {'p50 ms':>8} {'p95 ms':>8} {'runs/s':>7} {'CPU ms/run':>10}"
    lines = [head + f" {'p50/def':>8} {'rate/def':>9} {'CPU/def':>8}"]
    for load in LOADS:
        for name in names:
            figures = [
                results.median(name, load, f)
                for f in (
                    lambda x: statistics.median(x.latencies_ms),
                    lambda x: p(x.latencies_ms, 95),
                    lambda x: x.rate,
                    lambda x: x.cpu_per_run,
                )
            ]
            ratios = [
                results.ratio(name, load, f)
                for f in (
                    lambda x: statistics.median(x.latencies_ms),
                    lambda x: x.rate,
                    lambda x: x.cpu_per_run,
                )
            ]
            label = f"{load[1]} x {load[0]}"
            lines.append(
                f"{name:<16} {label:<14} {figures[0]:>8.1f} {figures[1]:>8.1f} {figures[2]:>7.1f}"
                f" {figures[3]:>10.1f} {ratios[0]:>8.2f} {ratios[1]:>9.2f} {ratios[2]:>8.2f}"
            )
    return lines


async def main(args: argparse.Namespace) -> list[str]:
    names = ["default", *(n for n in args.only if n != "default")] if args.only else list(VARIANTS)
    registry = bench_registry()
    use_registry(registry)

    def plan_of(text: str) -> Prepared:
        return Prepared(compile_text(text, "tuning.yaml", registry).unwrap())

    plans = {"pure": plan_of(pure_definition(STEPS)), "activities": plan_of(activity_definition(STEPS))}
    results = Results()
    with tempfile.TemporaryDirectory() as folder:
        extra = [] if args.in_memory else sqlite_args(Path(folder) / "temporal.db")
        async with (
            await ephemeral_dev_server(extra) as env,
            httpx.AsyncClient() as http,
            contextlib.AsyncExitStack() as stack,
        ):
            pid = server_pid()
            settings = {
                name: await stack.enter_async_context(variant_workers(env.client, name, VARIANTS[name], http))
                for name in names
            }
            settle_heap(Settings())  # as workers.worker.running_workers does once they are built
            for round_ in range(args.rounds + 1):  # round 0 warms up
                started = time.perf_counter()
                for kind, n in LOADS:
                    count = 1 if round_ == 0 else max(1, -(-args.min_runs // n))
                    for name in names:
                        load = await batches(env.client, settings[name], plans[kind], n, count, pid)
                        if round_:
                            results.add(name, (kind, n), load)
                label = "warm-up" if round_ == 0 else f"round {round_}/{args.rounds}"
                print(f"{label}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    lines = [
        f"{STEPS} steps a run; {args.rounds} rounds after a warm-up, at least {args.min_runs} runs per"
        f" variant and load a round ({os.cpu_count()} CPUs, dev server on "
        f"{'memory' if args.in_memory else 'a SQLite file'}, CPU {'with' if pid else 'without'} the server's)."
        " Medians over the rounds:",
        *table(results, names),
    ]
    return lines


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (after a warm-up)")
    parser.add_argument("--min-runs", type=int, default=50, help="runs per variant and load a round")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round, 2 variants")
    parser.add_argument("--in-memory", action="store_true", help="the dev server without a file")
    parser.add_argument(
        "--only", type=lambda s: [x.strip() for x in s.split(",")], help=f"of: {', '.join(VARIANTS)}"
    )
    args = parser.parse_args()
    unknown = [n for n in args.only or [] if n not in VARIANTS]
    if unknown:
        parser.error(f"no variant {', '.join(unknown)}: pick from {', '.join(VARIANTS)}")
    if args.quick:
        args.rounds, args.min_runs, args.only = 1, 6, args.only or ["default", "sandboxed"]
    return args


if __name__ == "__main__":
    arguments = _args()
    printed = asyncio.run(main(arguments))
    print("\n".join(printed))
    registry = bench_registry()
    sample = Prepared(compile_text(pure_definition(STEPS), "tuning.yaml", registry).unwrap())
    print("\n".join(converter_cost(sample, Settings())))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
