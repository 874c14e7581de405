"""Stepwise against its peers (issue 10): hand-written Temporal and DBOS, same trivial work.

    .venv/bin/python -m bench.peers [--rounds 5] [--quick] [--no-dbos] [--explain-runs 10]
    (or: make bench-peers ARGS=...)

Every variant runs chains of 5 trivial steps that each add one to a value:

- Stepwise, pure steps (transform.extract, evaluated inside the interpreter workflow);
- Stepwise, activity steps (bench.echo, the module bench/overhead.py registers, on a queue of
  its own);
- Stepwise, light steps as local activities (bench.echo with `local: true`, run by the workflow
  worker);
- hand-written Temporal (bench/peers_temporal.py): inline code, local activities, activities
  (the same echo activity, on the same kind of worker);
- DBOS: 5 `@DBOS.step`s in a `@DBOS.workflow` (bench/peers_dbos.py) on the machine's
  PostgreSQL, in a child process of the bench's own virtualenv (bench/.peers-venv, made on
  first use with `pip install dbos`; DBOS is a benchmark-only dependency).

For each N in (3, 10, 50), a batch starts N runs at once and waits for all; a run's latency is
from its start call to its result. A round runs every variant at every N (A B C ... for N = 3,
then for 10, then for 50), in enough batches for `--min-runs` runs, after `--settle` seconds
of quiet each; the order rotates by one variant each round (B C ... A in the next), so none
always follows the same one. The first round is a warm-up and is not counted. Per round each
variant gets a p50, a p95 and runs/s (runs over the batches' wall time); the table shows the
median over the rounds, since single runs on this machine move by up to 30 %. The ratios are
medians of per-round ratios (both sides of a ratio ran in that round): each Stepwise variant's
p50 over its hand-written twin's (pure vs inline, local vs local activities, activities vs
activities) and over DBOS's, and its runs/s over DBOS's. The Temporal variants share one
ephemeral dev server (on a SQLite file in a temporary folder, in WAL mode, as `make run` has
it; `--in-memory` for none), with their workers in this process; `--steps 3` runs chains of 3
steps instead. Stepwise's workers run as STEPWISE_WORKER_SANDBOX says (by default, these
plans, which run only Stepwise's own code in the workflow, run outside Temporal's sandbox:
workers/runner.py); `STEPWISE_WORKER_SANDBOX=always` puts them in it, as the hand-written
workflows are. Last, each Temporal variant runs `--explain-runs` times one at a time, the
variants in turn, and its history says where the time went (bench/peers_history.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench.native import NativeActivities, NativeInput, echo
from bench.overhead import (
    BENCH_QUEUE,
    activity_definition,
    bench_registry,
    local_definition,
    p,
    pure_definition,
)
from bench.peers_history import explain
from bench.peers_temporal import PeersInline, PeersLocal
from core.devserver import sqlite_args
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.worker import PASSTHROUGH, running_workers
from workflows.compiler import compile_text
from workflows.engine.models import WORKFLOW_QUEUE

STEPS = 5
SIZES = (3, 10, 50)
HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / ".peers-venv"
DBOS_APP = HERE / "peers_dbos.py"
DBOS_URL = "postgresql://postgres@127.0.0.1:5432/stepwise_bench_dbos"
NATIVE_QUEUE = "peers-native"

# The hand-written twin each Stepwise variant is set against.
TWINS = {
    "stepwise pure": "temporal inline",
    "stepwise local": "temporal local",
    "stepwise activities": "temporal activities",
}
NOT_BUILT: dict[str, str] = {}
ORDER = [
    "stepwise pure",
    "temporal inline",
    "stepwise local",
    "temporal local",
    "stepwise activities",
    "temporal activities",
    "dbos",
]


@dataclass
class Batches:
    """What one variant did at one N in one round."""

    latencies_ms: list[float]
    elapsed_s: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s


Runner = Callable[[int, int], Awaitable[Batches]]


async def timed_batches(run: Callable[[], Awaitable[Any]], n: int, count: int, steps: int = STEPS) -> Batches:
    """`count` batches of `n` concurrent runs (each must return `steps`), one after another."""

    async def one() -> float:
        start = time.perf_counter()
        result = await run()
        if result != steps:
            raise RuntimeError(f"a run returned {result!r}, not {steps}")
        return (time.perf_counter() - start) * 1000

    latencies: list[float] = []
    start = time.perf_counter()
    for _ in range(count):
        latencies += await asyncio.gather(*(one() for _ in range(n)))
    return Batches(latencies, time.perf_counter() - start)


def dbos_python() -> Path:
    """The bench venv's interpreter, with `dbos` installed into it on first use."""
    python = PEERS_VENV / "bin" / "python"
    check = [str(python), "-c", "import dbos"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"making {PEERS_VENV} (pip install dbos) ...", file=sys.stderr)
    base = shutil.which("python3.11") or sys.executable
    subprocess.run([base, "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "dbos"], check=True)
    return python


class DbosPeer:
    """bench/peers_dbos.py in its own process, told over stdin what to run."""

    def __init__(self, process: asyncio.subprocess.Process, steps: int) -> None:
        self.process = process
        self.steps = steps

    @classmethod
    async def start(cls, url: str, steps: int) -> DbosPeer:
        process = await asyncio.create_subprocess_exec(
            str(dbos_python()),
            str(DBOS_APP),
            url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process, steps)

    async def batches(self, n: int, count: int) -> Batches:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"n": n, "batches": count, "steps": self.steps}).encode() + b"\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            code = await self.process.wait()
            raise RuntimeError(f"bench/peers_dbos.py exited ({code}); its stderr says why")
        answer = json.loads(line)
        return Batches(answer["latencies_ms"], answer["elapsed_s"])

    async def close(self) -> None:
        """End of input: DBOS shuts down and its database is dropped."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), 60)


@dataclass
class Results:
    """Per variant and N, one Batches per counted round."""

    rounds: dict[tuple[str, int], list[Batches]] = field(default_factory=dict)

    def add(self, variant: str, n: int, batches: Batches) -> None:
        self.rounds.setdefault((variant, n), []).append(batches)

    def median(self, variant: str, n: int, figure: Callable[[Batches], float]) -> float:
        return statistics.median(figure(b) for b in self.rounds[(variant, n)])

    def ratio(self, a: str, b: str, n: int, figure: Callable[[Batches], float]) -> float | None:
        """The median over rounds of a's figure over b's (both ran in each round)."""
        if (a, n) not in self.rounds or (b, n) not in self.rounds:
            return None
        pairs = zip(self.rounds[(a, n)], self.rounds[(b, n)], strict=True)
        return statistics.median(figure(x) / figure(y) for x, y in pairs)


def p50(b: Batches) -> float:
    return statistics.median(b.latencies_ms)


def p95(b: Batches) -> float:
    return p(b.latencies_ms, 95) if len(b.latencies_ms) > 1 else b.latencies_ms[0]


def rate(b: Batches) -> float:
    return b.rate


def table(results: Results, measured: list[str]) -> list[str]:
    def cell(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    head = f"{'variant':<23} {'N':>3} {'p50 ms':>8} {'p95 ms':>8} {'runs/s':>7}"
    lines = [head + f" {'p50/twin':>9} {'p50/DBOS':>9} {'rate/DBOS':>10}  twin"]
    for n in SIZES:
        for variant in (v for v in ORDER if v in measured or v in NOT_BUILT):
            if variant in NOT_BUILT:
                lines.append(f"{variant:<23} {n:>3}  {NOT_BUILT[variant]}")
                continue
            twin = TWINS.get(variant)
            figures = [results.median(variant, n, f) for f in (p50, p95, rate)]
            ratios: list[float | None] = [None, None, None]
            if twin is not None:
                ratios = [
                    results.ratio(variant, twin, n, p50),
                    results.ratio(variant, "dbos", n, p50),
                    results.ratio(variant, "dbos", n, rate),
                ]
            lines.append(
                f"{variant:<23} {n:>3} {figures[0]:>8.1f} {figures[1]:>8.1f} {figures[2]:>7.1f}"
                f" {cell(ratios[0]):>9} {cell(ratios[1]):>9} {cell(ratios[2]):>10}"
                f"  {twin or ''}"
            )
    return lines


def native_sandbox() -> SandboxedWorkflowRunner:
    """The sandbox with the hand-written workflows' modules passed through, as Stepwise's are
    (workers.worker.sandbox): otherwise every run imports bench/native.py and rebuilds its
    pydantic models, some 5 ms of workflow task that the Stepwise side does not pay."""
    modules = (*PASSTHROUGH, "bench.native", "bench.peers_temporal")
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*modules)
    )


@contextlib.asynccontextmanager
async def peer_workers(client: Client, settings: Settings) -> AsyncIterator[None]:
    """Stepwise's workers, and the hand-written side's, with the limits Stepwise's have."""
    async with (
        running_workers(client, [WORKFLOW_QUEUE], settings, bench_registry()),
        Worker(
            client,
            task_queue=settings.task_queue_prefix + BENCH_QUEUE,
            activities=[echo],
            max_concurrent_activities=settings.worker_max_concurrent_activities,
        ),
        Worker(
            client,
            task_queue=settings.task_queue_prefix + NATIVE_QUEUE,
            workflows=[NativeActivities, PeersLocal, PeersInline],
            activities=[echo],
            workflow_runner=native_sandbox(),
            max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
            max_concurrent_activities=settings.worker_max_concurrent_activities,
        ),
    ):
        yield


Start = Callable[[], Awaitable[WorkflowHandle[Any, Any]]]


def temporal_starts(client: Client, settings: Settings, steps: int = STEPS) -> dict[str, Start]:
    """How each variant on Temporal starts one run of `steps` steps."""
    registry = bench_registry()

    def plan_of(text: str) -> Prepared:
        return Prepared(compile_text(text, "peers.yaml", registry).unwrap())

    pure, local = plan_of(pure_definition(steps)), plan_of(local_definition(steps))
    activities = plan_of(activity_definition(steps))

    def stepwise(prepared: Prepared) -> Start:
        return lambda: start_run(client, prepared, {}, settings)

    def native(workflow: Any) -> Start:
        params = NativeInput(steps=steps, queue=settings.task_queue_prefix + BENCH_QUEUE)
        return lambda: client.start_workflow(
            workflow,
            params,
            id=f"peers-{uuid.uuid4().hex[:12]}",
            task_queue=settings.task_queue_prefix + NATIVE_QUEUE,
            request_eager_start=settings.eager_start,
        )

    return {
        "stepwise pure": stepwise(pure),
        "temporal inline": native(PeersInline.run),
        "stepwise local": stepwise(local),
        "temporal local": native(PeersLocal.run),
        "stepwise activities": stepwise(activities),
        "temporal activities": native(NativeActivities.run),
    }


def runner(start: Start, steps: int) -> Runner:
    async def run() -> Any:
        result = await (await start()).result()
        return getattr(result, "output", result)  # a Stepwise run's RunOutput, or the value

    return lambda n, count: timed_batches(run, n, count, steps)


def round_order(names: list[str], round_: int) -> list[str]:
    """The variants in the order round `round_` runs them: rotated by one each round, so no
    variant always runs right after the same one (what a server or PostgreSQL still does
    after a variant's batches falls on whichever runs next)."""
    shift = round_ % len(names)
    return names[shift:] + names[:shift]


async def measure(runners: dict[str, Runner], args: argparse.Namespace) -> Results:
    results = Results()
    for round_ in range(args.rounds + 1):  # round 0 warms up
        started = time.perf_counter()
        for n in SIZES:
            count = max(1, math.ceil(args.min_runs / n))
            for name in round_order(list(runners), round_):
                await asyncio.sleep(args.settle)
                batches = await runners[name](n, 1 if round_ == 0 else count)
                if round_:
                    results.add(name, n, batches)
        label = "warm-up" if round_ == 0 else f"round {round_}/{args.rounds}"
        print(f"{label}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return results


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    settings = Settings(task_queue_prefix=f"peers-{uuid.uuid4().hex[:6]}-")
    dbos = None if args.no_dbos else await DbosPeer.start(args.dbos_url, args.steps)
    folder = tempfile.TemporaryDirectory()
    server_args = [] if args.in_memory else sqlite_args(Path(folder.name) / "temporal.db")
    try:
        async with (
            await ephemeral_dev_server(server_args) as env,
            peer_workers(env.client, settings),
        ):
            starts = temporal_starts(env.client, settings, args.steps)
            runners = {name: runner(start, args.steps) for name, start in starts.items()}
            if dbos is not None:
                runners["dbos"] = dbos.batches
            results = await measure(runners, args)
            explained = await explain(starts, args.explain_runs) if args.explain_runs else []
    finally:
        if dbos is not None:
            await dbos.close()
        folder.cleanup()
    where = "in memory" if args.in_memory else "on a SQLite file"
    print(f"Temporal dev server {where}.", end=" ")
    print(f"{args.steps} trivial steps a run; {args.rounds} rounds after a warm-up, at least")
    print(f"{args.min_runs} runs per variant and N a round; load average at the start {load[0]:.2f},")
    print(f"at the end {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs). Stepwise's workflow sandbox:")
    print(f"{settings.worker_sandbox} (STEPWISE_WORKER_SANDBOX); the hand-written workflows run in")
    print("the SDK's default sandbox. Medians over the rounds:")
    print("\n".join(table(results, list(runners))))
    if dbos is None:
        print("(DBOS skipped: --no-dbos)")
    if explained:
        print("\nWhere a run's time goes on Temporal (from its history; see bench/peers_history.py):")
        print("\n".join(explained))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (after a warm-up)")
    parser.add_argument("--min-runs", type=int, default=30, help="runs per variant and N a round")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 6 runs")
    parser.add_argument(
        "--explain-runs", type=int, default=10, help="runs per variant for the time breakdown (0: none)"
    )
    parser.add_argument("--dbos-url", default=DBOS_URL, help="made anew, dropped at the end")
    parser.add_argument("--in-memory", action="store_true", help="the dev server without a SQLite file")
    parser.add_argument("--no-dbos", action="store_true", help="leave DBOS out (no PostgreSQL)")
    parser.add_argument("--steps", type=int, default=STEPS, help="steps a run (the chains' length)")
    parser.add_argument(
        "--settle", type=float, default=0.3, help="seconds of quiet before each variant's batches"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.min_runs, args.explain_runs = 1, 6, 3
    return args


if __name__ == "__main__":
    asyncio.run(main(_args()))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
