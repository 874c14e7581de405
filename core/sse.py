"""Reading Server-Sent Events (the WHATWG event-stream format) line by line: what the CLI's
`stepwise watch` and the tests use to read GET /runs/{id}/stream."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SseMessage:
    event: str = "message"
    data: str = ""
    id: str | None = None


@dataclass
class SseParser:
    """Feed it lines (without their line ending); it hands back each message once complete.
    `last_id` and `retry_ms` are the stream's: what a reconnect sends and waits."""

    last_id: str | None = None
    retry_ms: int | None = None
    _data: list[str] = field(default_factory=list)
    _event: str = ""

    def feed(self, line: str) -> SseMessage | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: a keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SseMessage | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None  # the format dispatches nothing without data
        return SseMessage(event or "message", "\n".join(data), self.last_id)
