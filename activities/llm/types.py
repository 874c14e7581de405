"""What every chat provider takes and gives back, whatever its wire protocol."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]
ErrorKind = Literal["rate_limited", "server", "client", "timeout", "connection", "malformed"]
# Called with each piece of text as the model writes it (when the request streams).
OnText = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    # In order; a system prompt, when there is one, is the first message.
    messages: list[Message]
    max_tokens: int | None = None
    temperature: float | None = None
    stop: list[str] = field(default_factory=list)
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    # A JSON Schema the reply must match, for the provider's native structured-output mode.
    output_schema: dict[str, Any] | None = None
    stream: bool = False


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


@dataclass(frozen=True)
class ChatReply:
    text: str
    usage: Usage
    # The model as the provider names it in its reply (it may add a date or a tag).
    model: str
    finish_reason: str | None = None


class ProviderError(Exception):
    """A provider's refusal or failure, in terms Temporal's retries understand."""

    def __init__(
        self,
        provider: str,
        kind: ErrorKind,
        message: str,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        """429, 5xx, timeouts, lost connections and garbled replies are worth another try;
        other 4xx (a bad request, a wrong key, an unknown model) are not."""
        return self.kind != "client"


class ChatProvider(Protocol):
    """One configured provider (a kind, an address, a key)."""

    name: str

    async def chat(self, request: ChatRequest, on_text: OnText | None = None) -> ChatReply:
        """One reply; with `request.stream`, `on_text` hears the text as it comes. Raises
        ProviderError for anything the provider refuses or fails to do."""
        ...

    async def warm(self, model: str) -> None:
        """Load the model now and keep it loaded (Ollama keep-alive); a no-op where the
        provider has no such thing."""
        ...

    async def aclose(self) -> None: ...
