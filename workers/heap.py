"""The worker process's garbage collector, tuned for many short runs (docs/fast-path.md).

A worker process holds a few hundred thousand long-lived objects (the SDK, pydantic, the
libraries the sandbox shares, the registry, an API when it hosts one). CPython's full
collections walk all of them, and light runs allocate enough to bring one on every few
hundred runs. Frozen, they are left out of every collection (Python's `gc.freeze`):
`python -m bench.heap` measured 0.65 ms of GC per pure run unfrozen and 0.27 ms frozen.
"""

from __future__ import annotations

import gc

from core.settings import Settings


def settle_heap(settings: Settings) -> None:
    """Once the process has loaded what it runs with: collect, then freeze what is left, so
    later collections walk only what runs allocate. Once per process (later calls, from more
    workers in the same process, leave the first freeze as it is)."""
    if not settings.worker_gc_freeze or gc.get_freeze_count() > 0:
        return
    gc.collect()
    gc.freeze()
