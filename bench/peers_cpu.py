"""Where an interpreted run's CPU goes, against its hand-written twin (issue 10).

    .venv/bin/python -m bench.peers_cpu [--n 1] [--runs 20] [--chunks 10] [--steps 5]
        [--variants "stepwise pure,temporal inline"]

bench/peers.py compares latencies, which on a 2-core machine move with everything else that
runs there. This counts CPU instead, per run, split by where it is spent:

- `bench`: this process (the client that starts runs and reads results, and the workers);
- `main`: this process's main thread (the client, and the SDK's asyncio side of the workers);
- `activations`: the workflow threads, inside the SDK's activation of a run, in the sandbox
  or not (that call is timed with `time.thread_time`, by wrapping the worker's method for
  this process only); for Stepwise's runs it includes making the run's instance, which its
  runner does at the first activation (workers/runner.py), where the SDK's own runners make
  it on the main thread;
- `sandbox`: making each sandboxed run's sandbox instance, on whichever thread;
- `server`: the dev server (clock ticks from /proc, so only chunks of many runs are exact).

The variants (bench/peers.py's, by name) run in chunks of `--runs` runs, `--n` at a time, the
order rotated each chunk; after a warm-up chunk, each figure is the median over the chunks,
and each variant is set against the second one named (the twin) by the median of per-chunk
ratios and differences (the two ran side by side in each chunk).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.worker import _workflow
from temporalio.worker.workflow_sandbox import _runner

from bench.peers import peer_workers, temporal_starts
from bench.tuning import server_cpu_ms, server_pid
from core.devserver import sqlite_args
from core.environments import ephemeral_dev_server
from core.settings import Settings

FIGURES = ("wall", "bench", "main", "activations", "sandbox", "server")


class _Activations:
    """CPU of the workflow threads in activations, and of making sandboxes."""

    def __init__(self) -> None:
        self.activate_s = 0.0
        self.create_s = 0.0

    def install(self) -> None:
        activate, create = _workflow._RunningWorkflow.activate, _runner._Instance._create_instance
        counts = self

        def timed_activate(instance: Any, act: Any) -> Any:
            started = time.thread_time()
            try:
                return activate(instance, act)
            finally:
                counts.activate_s += time.thread_time() - started

        def timed_create(instance: Any) -> None:
            started = time.thread_time()
            try:
                create(instance)
            finally:
                counts.create_s += time.thread_time() - started

        _workflow._RunningWorkflow.activate = timed_activate  # type: ignore[method-assign,assignment]
        _runner._Instance._create_instance = timed_create  # type: ignore[method-assign,assignment]


async def main(args: argparse.Namespace) -> None:
    activations = _Activations()
    activations.install()
    variants = [v.strip() for v in args.variants.split(",")]
    settings = Settings(task_queue_prefix=f"cpu-{uuid.uuid4().hex[:6]}-")
    with tempfile.TemporaryDirectory() as folder:
        async with (
            await ephemeral_dev_server(sqlite_args(Path(folder) / "temporal.db")) as env,
            peer_workers(env.client, settings),
        ):
            starts = temporal_starts(env.client, settings, args.steps)
            unknown = [v for v in variants if v not in starts]
            if unknown:
                raise SystemExit(f"no variant {unknown}; there are: {', '.join(starts)}")
            pid = server_pid()

            async def one(variant: str) -> None:
                result = await (await starts[variant]()).result()
                if getattr(result, "output", result) != args.steps:
                    raise RuntimeError(f"{variant}: a run returned {result!r}, not {args.steps}")

            figures: dict[str, dict[str, list[float]]] = {v: {f: [] for f in FIGURES} for v in variants}
            batches = max(1, args.runs // args.n)
            runs = batches * args.n
            for chunk in range(args.chunks + 1):  # chunk 0 warms up
                shift = chunk % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    await asyncio.sleep(args.settle)
                    activations.activate_s = activations.create_s = 0.0
                    wall, bench, main_thread = time.perf_counter(), time.process_time(), time.thread_time()
                    server = server_cpu_ms(pid)
                    for _ in range(batches):
                        await asyncio.gather(*(one(variant) for _ in range(args.n)))
                    if chunk == 0:
                        continue
                    measured = {
                        "wall": (time.perf_counter() - wall) * 1000,
                        "bench": (time.process_time() - bench) * 1000,
                        "main": (time.thread_time() - main_thread) * 1000,
                        "activations": activations.activate_s * 1000,
                        "sandbox": activations.create_s * 1000,
                        "server": server_cpu_ms(pid) - server,
                    }
                    for figure, value in measured.items():
                        figures[variant][figure].append(value / runs)
    print(f"{args.steps} steps a run, {args.n} at a time; {args.chunks} chunks of {runs} runs per variant")
    print("after a warm-up, on a dev server with a SQLite file. Medians over the chunks, ms per run:")
    print(f"{'variant':22} " + " ".join(f"{f:>11}" for f in FIGURES))
    for variant in variants:
        row = [statistics.median(figures[variant][f]) for f in FIGURES]
        print(f"{variant:22} " + " ".join(f"{x:11.2f}" for x in row))
    if len(variants) > 1:
        twin = variants[1]
        for variant in [v for v in variants if v != twin]:
            ratios, extra = [], []
            for f in FIGURES:
                pairs = list(zip(figures[variant][f], figures[twin][f], strict=True))
                ratios.append(statistics.median(a / b if b else float("nan") for a, b in pairs))
                extra.append(statistics.median(a - b for a, b in pairs))
            print(f"{variant + ' / twin':22} " + " ".join(f"{x:11.3f}" for x in ratios))
            print(f"{variant + ' - twin':22} " + " ".join(f"{x:11.2f}" for x in extra))
    print(f"(twin: {twin})" if len(variants) > 1 else "")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1, help="runs at a time")
    parser.add_argument("--runs", type=int, default=20, help="runs per variant and chunk")
    parser.add_argument("--chunks", type=int, default=10, help="counted chunks (after a warm-up)")
    parser.add_argument("--steps", type=int, default=5, help="steps a run")
    parser.add_argument("--settle", type=float, default=0.2, help="seconds of quiet before each chunk")
    parser.add_argument(
        "--variants",
        default="stepwise pure,temporal inline",
        help="bench/peers.py's variants, comma-separated; the second is the twin",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(_args()))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
