"""Anthropic's Messages API through the official SDK."""

from __future__ import annotations

import json
from typing import Any

import anthropic
from anthropic.types import Message as AnthropicMessage

from activities.llm.errors import (
    broken_stream_error,
    connection_error,
    detail_of,
    malformed_error,
    status_error,
    timeout_error,
)
from activities.llm.types import ChatReply, ChatRequest, OnText, Usage

# Anthropic requires max_tokens; this is what a request that names none gets.
DEFAULT_MAX_TOKENS = 4096
# The tool a structured reply is forced through; its input is the reply.
REPLY_TOOL = "reply"
NO_KEY = "unused"


class AnthropicProvider:
    """Claude through the Messages API; Temporal retries, so the SDK never does."""

    def __init__(self, name: str, api_key: str | None, base_url: str | None, timeout_s: float) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key or NO_KEY, base_url=base_url, timeout=timeout_s, max_retries=0
        )

    async def chat(self, request: ChatRequest, on_text: OnText | None = None) -> ChatReply:
        """One message; streamed to `on_text` when the request streams."""
        try:
            if request.stream:
                message: object = await self._stream(request, on_text)
            else:
                message = await self._client.messages.create(stream=False, **_params(request))
        except anthropic.APIStatusError as exc:
            detail = detail_of(exc.body, exc.message)
            if exc.status_code < 400:
                # An `error` event in a stream that began well (status 200).
                raise broken_stream_error(self.name, request.model, detail) from exc
            # 529 (overloaded) is >= 500, so it counts as the provider's own failure.
            raise status_error(
                self.name, request.model, exc.status_code, detail, exc.response.headers
            ) from exc
        except anthropic.APITimeoutError as exc:
            raise timeout_error(self.name, request.model, self._timeout_s) from exc
        except anthropic.APIConnectionError as exc:
            address = str(self._client.base_url)
            raise connection_error(self.name, request.model, address, exc.__cause__ or exc) from exc
        except json.JSONDecodeError as exc:  # the body, or one streamed event, is not JSON
            raise malformed_error(self.name, request.model, f"is not JSON ({exc})") from exc
        return self._reply(request, message)

    async def _stream(self, request: ChatRequest, on_text: OnText | None) -> AnthropicMessage:
        async with self._client.messages.stream(**_params(request)) as stream:
            async for event in stream:
                if on_text is None:
                    continue
                if event.type == "text":
                    await on_text(event.text)
                elif event.type == "input_json":  # a structured reply, as the model writes it
                    await on_text(event.partial_json)
            return await stream.get_final_message()

    def _reply(self, request: ChatRequest, message: object) -> ChatReply:
        # The SDK does not validate replies: a body that is not JSON comes back as its text, and
        # missing fields are simply absent, so each field used here is checked.
        if not isinstance(message, AnthropicMessage):
            raise malformed_error(self.name, request.model, f"is not a message: {message!r:.200}")
        content = getattr(message, "content", None)
        usage = getattr(message, "usage", None)
        if content is None or usage is None:
            raise malformed_error(self.name, request.model, "has no content or no usage")
        if request.output_schema is not None:
            inputs = [
                block.input for block in content if block.type == "tool_use" and block.name == REPLY_TOOL
            ]
            if not inputs:
                why = f"has no {REPLY_TOOL!r} tool call (stop reason {message.stop_reason})"
                raise malformed_error(self.name, request.model, why)
            text = json.dumps(inputs[0])
        else:
            text = "".join(block.text for block in content if block.type == "text")
        # Prompt-cache reads and writes are input too; Anthropic counts them apart.
        cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
        return ChatReply(
            text=text,
            usage=Usage(usage.input_tokens + cached, usage.output_tokens),
            model=getattr(message, "model", None) or request.model,
            finish_reason=message.stop_reason,
        )

    async def warm(self, model: str) -> None:
        """Nothing to do: Anthropic's models are always loaded."""

    async def aclose(self) -> None:
        """Close the SDK's connection pool."""
        await self._client.close()


def _params(request: ChatRequest) -> dict[str, Any]:
    system = [m.content for m in request.messages if m.role == "system"]
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
        # The Messages API takes the system prompt apart from the turns, and refuses a system turn.
        "messages": [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"],
    }
    if system:
        params["system"] = "\n\n".join(system)
    # No temperature: the Messages API of this SDK (anthropic 2.16) has none any more (nor
    # top_p/top_k), so request.temperature is left out rather than sent as an unknown field.
    if request.stop:
        params["stop_sequences"] = request.stop
    if request.reasoning_effort is not None:
        # output_config.effort takes the same three words; a model without effort refuses it
        # with a 400, which reaches the user as a client error. Extended thinking (a token
        # budget) is not used: it cannot be combined with the forced tool below.
        params["output_config"] = {"effort": request.reasoning_effort}
    if request.output_schema is not None:
        # The SDK also has native structured output (output_config.format), but it takes only a
        # strict subset of JSON Schema (every object closed, few keywords: the SDK's
        # transform_schema rewrites a schema to fit, changing what it allows) and only on recent
        # models. A forced tool takes a user's schema as it is, on every model, and the caller
        # validates (and repairs) the reply, as with OpenAI's non-strict mode.
        params["tools"] = [
            {"name": REPLY_TOOL, "description": "Give the reply.", "input_schema": request.output_schema}
        ]
        params["tool_choice"] = {"type": "tool", "name": REPLY_TOOL}
    return params
