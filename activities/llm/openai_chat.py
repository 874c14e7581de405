"""OpenAI, and any server that speaks its Chat Completions API (vLLM, llama.cpp, LM Studio)."""

from __future__ import annotations

import json
from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from activities.llm.errors import (
    broken_stream_error,
    connection_error,
    detail_of,
    malformed_error,
    status_error,
    timeout_error,
)
from activities.llm.types import ChatReply, ChatRequest, OnText, Usage

# A local vLLM needs no key, but the SDK refuses to start without one.
NO_KEY = "unused"


class OpenAIProvider:
    """Chat Completions through the official SDK; Temporal retries, so the SDK never does."""

    def __init__(self, name: str, api_key: str | None, base_url: str | None, timeout_s: float) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY, base_url=base_url, timeout=timeout_s, max_retries=0
        )

    async def chat(self, request: ChatRequest, on_text: OnText | None = None) -> ChatReply:
        """One completion; streamed to `on_text` when the request streams."""
        try:
            if request.stream:
                return await self._stream(request, on_text)
            completion: object = await self._client.chat.completions.create(stream=False, **_params(request))
        except openai.APIStatusError as exc:
            detail = detail_of(exc.body, exc.message)
            raise status_error(
                self.name, request.model, exc.status_code, detail, exc.response.headers
            ) from exc
        except openai.APITimeoutError as exc:
            raise timeout_error(self.name, request.model, self._timeout_s) from exc
        except openai.APIConnectionError as exc:
            address = str(self._client.base_url)
            raise connection_error(self.name, request.model, address, exc.__cause__ or exc) from exc
        except openai.APIError as exc:  # an `error` event in a stream that began well
            raise broken_stream_error(self.name, request.model, exc.message) from exc
        except json.JSONDecodeError as exc:  # the body, or one streamed chunk, is not JSON
            raise malformed_error(self.name, request.model, f"is not JSON ({exc})") from exc
        return self._reply(request, completion)

    async def _stream(self, request: ChatRequest, on_text: OnText | None) -> ChatReply:
        # include_usage: the server sends one last chunk, with no choices, holding the usage.
        stream = await self._client.chat.completions.create(
            stream=True, stream_options={"include_usage": True}, **_params(request)
        )
        parts: list[str] = []
        usage: Usage | None = None
        finish_reason: str | None = None
        model = request.model
        async with stream:
            async for chunk in stream:
                _check_chunk(self.name, request.model, chunk)
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    finish_reason = choice.finish_reason or finish_reason
                    if choice.delta.content:
                        parts.append(choice.delta.content)
                        if on_text is not None:
                            await on_text(choice.delta.content)
        if usage is None:
            raise malformed_error(self.name, request.model, "ended its stream without the usage chunk")
        return ChatReply("".join(parts), usage, model, finish_reason)

    def _reply(self, request: ChatRequest, completion: object) -> ChatReply:
        # The SDK does not validate replies: a body that is not JSON comes back as its text, and
        # missing fields are simply absent, so each field used here is checked.
        if not isinstance(completion, ChatCompletion):
            raise malformed_error(self.name, request.model, f"is not a chat completion: {completion!r:.200}")
        choices = getattr(completion, "choices", None)
        usage = getattr(completion, "usage", None)
        if not choices or usage is None:
            raise malformed_error(self.name, request.model, "has no choices or no usage")
        choice = choices[0]
        return ChatReply(
            text=choice.message.content or "",
            usage=Usage(usage.prompt_tokens, usage.completion_tokens),
            model=getattr(completion, "model", None) or request.model,
            finish_reason=choice.finish_reason,
        )

    async def warm(self, model: str) -> None:
        """Nothing to do: an OpenAI-compatible server loads its models itself."""

    async def aclose(self) -> None:
        """Close the SDK's connection pool."""
        await self._client.close()


def _params(request: ChatRequest) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    if request.max_tokens is not None:
        # max_tokens is deprecated by OpenAI and refused by its reasoning models (o-series,
        # gpt-5); max_completion_tokens is taken by every current model and by vLLM (since 0.6).
        params["max_completion_tokens"] = request.max_tokens
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.stop:
        params["stop"] = request.stop
    if request.reasoning_effort is not None:
        params["reasoning_effort"] = request.reasoning_effort
    if request.output_schema is not None:
        # strict=True would need a schema in OpenAI's strict subset (every property required,
        # additionalProperties false everywhere); a user's schema is arbitrary, so the model is
        # asked for it without strict decoding and the caller validates (and repairs) the reply.
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "reply", "schema": request.output_schema, "strict": False},
        }
    return params


def _check_chunk(provider: str, model: str, chunk: object) -> None:
    if not isinstance(chunk, ChatCompletionChunk) or getattr(chunk, "choices", None) is None:
        raise malformed_error(provider, model, f"streamed a chunk without choices: {chunk!r:.200}")
