"""Ollama through its official SDK: `/api/chat`, and `/api/generate` to load a model ahead."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import ollama
import pydantic

from activities.llm.errors import (
    broken_stream_error,
    connection_error,
    detail_of,
    malformed_error,
    status_error,
    timeout_error,
)
from activities.llm.types import ChatReply, ChatRequest, OnText, ProviderError, Usage

# How long a model stays loaded after warm() and after each reply from a warmed model. Bounded
# (not -1, forever) so a model the router stops using gives its GPU memory back within this
# time; Ollama's default, 5 minutes, is too short to bridge the gaps between a run's steps.
WARM_KEEP_ALIVE = "30m"


class _RateLimited(Exception):
    """A 429, raised from the HTTP client itself: the SDK's ResponseError drops the headers, and
    with them Retry-After."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.text)
        self.response = response


async def _raise_rate_limit(response: httpx.Response) -> None:
    if response.status_code == 429:
        await response.aread()
        raise _RateLimited(response)


class OllamaProvider:
    """Models served by one Ollama. `request.reasoning_effort` is not sent: Ollama's `think`
    takes levels (low, medium, high) only for gpt-oss models and true/false for others, and
    refuses it for models that cannot think, so no one mapping fits every model."""

    def __init__(self, name: str, host: str, timeout_s: float) -> None:
        self.name = name
        self._host = host
        self._timeout_s = timeout_s
        self._client = ollama.AsyncClient(
            host, timeout=timeout_s, event_hooks={"response": [_raise_rate_limit]}
        )
        # Models warmed here: their chats carry WARM_KEEP_ALIVE too, since each request's
        # keep_alive replaces the one before (without it, Ollama's 5-minute default comes back).
        self._warm: set[str] = set()

    async def chat(self, request: ChatRequest, on_text: OnText | None = None) -> ChatReply:
        """One reply; streamed to `on_text` when the request streams."""
        params = self._params(request)
        if request.stream:
            parts: list[str] = []
            final: ollama.ChatResponse | None = None
            with self._mapping(request.model):
                stream = await self._client.chat(stream=True, **params)
            async for part in self._guarded(request.model, stream):
                content = part.message.content or ""
                parts.append(content)
                if on_text is not None and content:
                    await on_text(content)
                if part.done:
                    final = part
            if final is None:
                raise malformed_error(self.name, request.model, "ended its stream without a done line")
            text = "".join(parts)
        else:
            with self._mapping(request.model):
                final = await self._client.chat(stream=False, **params)
            text = final.message.content or ""
        return ChatReply(
            text=text,
            usage=Usage(final.prompt_eval_count or 0, final.eval_count or 0),
            model=final.model or request.model,
            finish_reason=final.done_reason,
        )

    async def warm(self, model: str) -> None:
        """Load `model` now (a generate request with no prompt) and keep it for WARM_KEEP_ALIVE."""
        with self._mapping(model):
            await self._client.generate(model=model, keep_alive=WARM_KEEP_ALIVE)
        self._warm.add(model)

    async def aclose(self) -> None:
        """Close the SDK's connection pool."""
        await self._client.close()  # type: ignore[no-untyped-call]  # ollama leaves close() unannotated

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["num_predict"] = request.max_tokens
        if request.stop:
            options["stop"] = request.stop
        params: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if options:
            params["options"] = options
        if request.output_schema is not None:
            params["format"] = request.output_schema
        if request.model in self._warm:
            params["keep_alive"] = WARM_KEEP_ALIVE
        return params

    @contextlib.contextmanager
    def _mapping(self, model: str) -> Iterator[None]:
        """Raise what the SDK or its HTTP client raises in the block as a ProviderError."""
        try:
            yield
        except Exception as exc:
            error = self._error(model, exc)
            if error is None:
                raise
            raise error from exc

    async def _guarded(
        self, model: str, stream: AsyncIterator[ollama.ChatResponse]
    ) -> AsyncIterator[ollama.ChatResponse]:
        # Only the stream's own failures are mapped, not those of the caller's on_text.
        with self._mapping(model):
            async for part in stream:
                yield part

    def _error(self, model: str, exc: Exception) -> ProviderError | None:
        if isinstance(exc, _RateLimited):
            detail = detail_of(_json_or_none(exc.response.text), exc.response.text)
            return status_error(self.name, model, 429, detail, exc.response.headers)
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code < 0:  # an {"error": ...} line in a stream that began well
                return broken_stream_error(self.name, model, exc.error)
            return status_error(self.name, model, exc.status_code, exc.error, {})
        if isinstance(exc, httpx.TimeoutException):
            return timeout_error(self.name, model, self._timeout_s)
        # The SDK turns a refused connection into the builtin ConnectionError; a connection reset
        # or closed mid-reply stays httpx's.
        if isinstance(exc, ConnectionError | httpx.TransportError):
            return connection_error(self.name, model, self._host, exc)
        # Not JSON (JSONDecodeError), or JSON without the fields a reply has (ValidationError;
        # TypeError or AttributeError when it is not even an object). Only the SDK's own code
        # runs inside _mapping, so these come from reading the reply.
        if isinstance(exc, json.JSONDecodeError | pydantic.ValidationError | TypeError | AttributeError):
            return malformed_error(self.name, model, f"is not an Ollama reply ({_first_line(exc)})")
        return None


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
