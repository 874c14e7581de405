"""Cursors of run events (core/run_events.py) and the event-stream reader (core/sse.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.run_events import ROOT, BadCursor, Cursor, Derived
from core.run_history import ClosedExecution, ClosedExecutions
from core.run_progress import Progress, describe
from core.sse import SseMessage, SseParser

positions = st.tuples(st.integers(0, 999_999), st.integers(1, 999_999_999), st.integers(0, 9_999))
keys = st.from_regex(r"[a-z_]{1,10}\.[0-9]{1,3}", fullmatch=True)


@settings(deadline=None)
@given(st.dictionaries(st.one_of(st.just(ROOT), keys), positions, max_size=5))
def test_a_cursor_reads_back_as_it_was_written(where: dict[str, tuple[int, int, int]]) -> None:
    cursor = Cursor(dict(where))
    assert Cursor.parse(str(cursor)).positions == where


def test_a_cursor_has_seen_what_is_at_or_before_it() -> None:
    cursor = Cursor.parse("1.20.0~sub.1@0.5.2")
    assert cursor.seen(ROOT, (1, 20, 0))
    assert cursor.seen(ROOT, (0, 900, 3))
    assert not cursor.seen(ROOT, (1, 20, 1))
    assert not cursor.seen("sub.2", (0, 1, 0))
    assert cursor.advanced("sub.2", (0, 3, 0)) == "1.20.0~sub.1@0.5.2~sub.2@0.3.0"


@pytest.mark.parametrize("text", ["x", "1.2", "1.2.3.4", "1.2.3~1.2.4", "A@1.2.3", "a@", "-1.2.3"])
def test_a_made_up_cursor_is_refused(text: str) -> None:
    with pytest.raises(BadCursor, match="is not a cursor of this API"):
        Cursor.parse(text)


def test_the_stream_reader_follows_the_event_stream_format() -> None:
    parser = SseParser()
    lines = [
        "retry: 2000",
        "",
        ": keep-alive",
        "id: 0.1.0",
        'data: {"a":',
        "data: 1}",
        "",
        "event: end",
        "data: {}",
        "",
    ]
    messages = [m for m in map(parser.feed, lines) if m is not None]
    assert messages == [SseMessage("message", '{"a":\n1}', "0.1.0"), SseMessage("end", "{}", "0.1.0")]
    assert parser.retry_ms == 2000


def test_progress_counts_the_runs_own_steps_and_what_it_waits_for() -> None:
    progress = Progress("r")
    events: list[dict[str, Any]] = [
        {"type": "workflow_start", "run": "r", "data": {"steps": 4, "definition": "d", "owner": "ada"}},
        {"type": "step_complete", "run": "r", "step": "a", "path": [["each", 0]]},
        {"type": "step_complete", "run": "r", "step": "a", "path": [["each", 1]]},
        {"type": "step_complete", "run": "r.sub.1", "step": "inner"},
        {"type": "interaction_request", "run": "r", "step": "ok", "data": {"interaction": {"id": "ok-1"}}},
    ]
    for event in events:
        progress.see(event)
    assert progress.bar(8) == "[##......]  25% 1/4 steps · waiting for ok-1"
    assert describe({**events[0], "at": "2026-12-02T10:11:12Z"}) == "10:11:12  workflow_start        d by ada"
    assert describe({**events[3], "at": ""}).endswith("<r.sub.1>")


def _closed(events: int) -> Any:
    derived = [Derived((0, i, 0), "step_start", "") for i in range(events)]
    return ClosedExecution(derived, [], {"inbox": set(), "updates": {}, "closed": True}, None)


def test_kept_executions_go_least_recently_read_first_and_with_their_run() -> None:
    kept = ClosedExecutions(max_events=10)
    kept.put("a", "1", _closed(4))
    kept.put("b", "1", _closed(4))
    assert kept.get("a", "1") is not None  # read last: b goes first
    kept.put("c", "1", _closed(4))
    assert (kept.get("b", "1"), kept.size) == (None, 8)
    kept.put("huge", "1", _closed(11))  # more than it may hold: not kept
    assert kept.get("huge", "1") is None
    kept.put("a.sub.1", "9", _closed(1))
    kept.forget("a")
    assert (kept.get("a", "1"), kept.get("a.sub.1", "9"), kept.size) == (None, None, 4)
    assert ClosedExecutions(0).get("a", "1") is None
