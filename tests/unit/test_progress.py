"""The live-progress side channel's pieces: a hub that hands chunks to the streams of their run
(and its called runs), a slow stream that drops its oldest chunks, NOTIFY payloads that fit,
the merge of history events with chunks, and a worker's batching of the text it streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from activities.llm.live import BACKLOG_CHARS, CHUNK_CHARS, LiveText, StepPlace
from core.progress import SUBSCRIBER_BACKLOG, ProgressChunk, ProgressHub, notify_payloads, with_progress


def chunk(text: str, run: str = "r-1", offset: int = 0) -> ProgressChunk:
    return ProgressChunk(run=run, step="tell", module="api.llm", attempt=1, offset=offset, text=text)


def test_a_stream_gets_the_chunks_of_its_run_and_of_the_runs_it_called_only() -> None:
    hub = ProgressHub()
    with hub.subscribe("r-1") as mine, hub.subscribe("r-10") as other:
        hub.deliver([chunk("a"), chunk("b", run="r-1.sub.1"), chunk("c", run="r-10"), chunk("d", run="r-2")])
        assert [c.text for c in mine.take()] == ["a", "b"]
        assert [c.text for c in other.take()] == ["c"]
    assert hub.deliver([chunk("late")]) == 0  # closed streams are gone


def test_a_stream_that_does_not_read_drops_its_oldest_chunks() -> None:
    hub = ProgressHub()
    with hub.subscribe("r-1") as slow:
        hub.deliver([chunk(str(n)) for n in range(SUBSCRIBER_BACKLOG + 5)])
        kept = slow.take()
    assert len(kept) == SUBSCRIBER_BACKLOG
    assert kept[0].text == "5"
    assert slow.dropped == 5


def test_notify_payloads_fit_and_keep_their_offsets() -> None:
    text = "é\n\x01" * 4_000 + "plain" * 1_000
    payloads = notify_payloads([chunk("start"), chunk(text, offset=5)], 7_800)
    assert all(len(p.encode()) <= 7_800 for p in payloads)
    pieces = [ProgressChunk.model_validate(json.loads(p)) for p in payloads]
    assert len(pieces) > 2
    joined = ""
    for piece in pieces:
        assert piece.offset == len(joined)
        joined += piece.text
    assert joined == "start" + text


async def test_chunks_come_between_events_as_soon_as_they_are_delivered() -> None:
    hub = ProgressHub()
    step = asyncio.Event()

    async def history() -> AsyncIterator[str]:
        yield "started"
        await step.wait()
        yield "output"

    with hub.subscribe("r-1") as subscription:
        seen: list[object] = []
        async for item in with_progress(history(), subscription):
            seen.append(item if isinstance(item, str) else [c.text for c in item])
            if item == "started":
                hub.deliver([chunk("tok")])
            elif isinstance(item, list):
                hub.deliver([chunk("last")])  # before the history's end: it still comes out
                step.set()
    assert seen[:2] == ["started", ["tok"]]
    assert "output" in seen
    assert ["last"] in seen


def test_a_worker_batches_contiguous_text_and_starts_a_chunk_per_call() -> None:
    live = LiveText(StepPlace("r-1", "tell", [("each", 2)], "api.llm", attempt=3))
    live.add(1, 0, "Hel")
    live.add(1, 3, "lo")
    live.add(2, 0, "Again")
    chunks = live.take()
    assert [(c.call, c.offset, c.text) for c in chunks] == [(1, 0, "Hello"), (2, 0, "Again")]
    assert chunks[0].path == [("each", 2)]
    assert chunks[0].attempt == 3
    assert live.take() == []
    big = "x" * CHUNK_CHARS
    live.add(1, 0, big)
    live.add(1, CHUNK_CHARS, "y")
    assert [len(c.text) for c in live.take()] == [CHUNK_CHARS, 1]


def test_a_worker_drops_text_past_its_backlog_and_counts_it() -> None:
    live = LiveText(StepPlace("r-1", "tell", [], "api.llm", attempt=1))
    fits = BACKLOG_CHARS // 1_000
    for n in range(fits):
        live.add(1, n * 1_000, "z" * 1_000)
    live.add(1, fits * 1_000, "z" * 1_000)
    assert sum(len(c.text) for c in live.take()) == fits * 1_000
    assert live.dropped_chars == 1_000
    live.add(1, (fits + 1) * 1_000, "after")  # room again once posted
    assert [c.text for c in live.take()] == ["after"]
