"""workers/heap.py: a worker process freezes what it has loaded, once, unless told not to.
Each case runs in a fresh interpreter: freezing is for the whole process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import gc, json
from core.settings import Settings
from workers.heap import settle_heap
before = gc.get_freeze_count()
settle_heap(Settings())
first = gc.get_freeze_count()
loaded = [object() for _ in range(10)]  # more objects, then a second worker starts
settle_heap(Settings())
print(json.dumps([before, first, gc.get_freeze_count()]))
"""


def _freeze_counts(**env: str) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    counts: list[int] = json.loads(result.stdout)
    return counts


def test_a_worker_process_freezes_what_it_loaded_once() -> None:
    before, first, second = _freeze_counts()
    assert before == 0
    # What the process imported (settings, pydantic...) is frozen: thousands of objects.
    assert first > 10_000
    assert second == first


@pytest.mark.parametrize("value", ["false", "0"])
def test_stepwise_worker_gc_freeze_false_leaves_the_collector_as_it_is(value: str) -> None:
    assert _freeze_counts(STEPWISE_WORKER_GC_FREEZE=value) == [0, 0, 0]
