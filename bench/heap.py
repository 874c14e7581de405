"""The worker process's frozen heap (STEPWISE_WORKER_GC_FREEZE, workers/heap.py), measured.

    .venv/bin/python -m bench.heap [--rounds 3] [--runs 1000]

Freezing is for a whole process, and what it saves shows over many runs (a full collection
comes every few hundred light runs), so each measurement is a process of its own: a dev
server on a SQLite file (as `make run` has it), Stepwise's workflow worker with the freeze on
or off, a warm-up, then `--runs` runs of 5 pure steps, 50 at a time. The rounds alternate
(frozen, unfrozen, frozen, ...); the table shows medians over the rounds of the garbage
collector's time per run (timed with gc.callbacks), how many full collections there were,
the bench process's CPU per run (client and workers) and runs/s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.overhead import bench_registry, pure_definition
from bench.peers import STEPS, timed_batches
from core.devserver import sqlite_args
from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.worker import running_workers
from workflows.compiler import compile_text
from workflows.engine.models import WORKFLOW_QUEUE

CONCURRENT = 50
MODES = ("frozen", "unfrozen")


class _Collections:
    """Time spent in the garbage collector, and full collections, since `reset`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._began
        self.full += info["generation"] == 2

    def reset(self) -> None:
        self.seconds, self.full = 0.0, 0


async def child(mode: str, runs: int) -> dict[str, float]:
    """One process's measurement: the freeze as `mode` says."""
    collections = _Collections()
    gc.callbacks.append(collections)
    settings = Settings(task_queue_prefix=f"heap-{uuid.uuid4().hex[:6]}-", worker_gc_freeze=mode == "frozen")
    registry = bench_registry()
    plan = Prepared(compile_text(pure_definition(STEPS), "heap.yaml", registry).unwrap())
    with tempfile.TemporaryDirectory() as folder:
        async with (
            await ephemeral_dev_server(sqlite_args(Path(folder) / "temporal.db")) as env,
            running_workers(env.client, [WORKFLOW_QUEUE], settings, registry),
        ):

            async def run() -> Any:
                return (await (await start_run(env.client, plan, {}, settings)).result()).output

            await timed_batches(run, CONCURRENT, 2)
            collections.reset()
            cpu = time.process_time()
            measured = await timed_batches(run, CONCURRENT, max(1, runs // CONCURRENT))
            count = len(measured.latencies_ms)
            return {
                "gc_ms": collections.seconds * 1000 / count,
                "full": collections.full,
                "cpu_ms": (time.process_time() - cpu) * 1000 / count,
                "rate": measured.rate,
            }


def measure(mode: str, runs: int) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.heap", "--child", mode, "--runs", str(runs)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(args: argparse.Namespace) -> None:
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for round_ in range(1, args.rounds + 1):
        for mode in MODES:
            results[mode].append(measure(mode, args.runs))
        print(f"round {round_}/{args.rounds}", file=sys.stderr)
    print(
        f"{args.runs} runs of {STEPS} pure steps, {CONCURRENT} at a time, per process; medians over"
        f" {args.rounds} rounds ({os.cpu_count()} CPUs, dev server on a SQLite file):"
    )
    print(f"{'heap':<10} {'GC ms/run':>10} {'full GCs':>9} {'CPU ms/run':>11} {'runs/s':>7}")
    for mode, rows in results.items():

        def median(key: str, of: list[dict[str, float]] = rows) -> float:
            return statistics.median(row[key] for row in of)

        print(
            f"{mode:<10} {median('gc_ms'):>10.2f} {median('full'):>9.0f} {median('cpu_ms'):>11.2f}"
            f" {median('rate'):>7.1f}"
        )


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both modes")
    parser.add_argument("--runs", type=int, default=1000, help="measured runs per process")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _args()
    if arguments.child:
        print(json.dumps(asyncio.run(child(arguments.child, arguments.runs))))
    else:
        main(arguments)
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
