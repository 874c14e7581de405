"""AnthropicProvider through the official SDK, against a local Messages API server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from activities.llm.anthropic_chat import DEFAULT_MAX_TOKENS, AnthropicProvider
from activities.llm.types import ChatRequest, Message, ProviderError, Usage
from tests.llm_servers import Failure, FakeAnthropic, Malformed

CONVERSATION = [
    Message("system", "You answer in one line."),
    Message("user", "What is the capital of Norway?"),
    Message("assistant", "Oslo."),
    Message("user", "And of Sweden?"),
]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
async def provider(server: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    chosen = AnthropicProvider("anthropic", "sk-ant-test", server.url, timeout_s=5)
    yield chosen
    await chosen.aclose()


async def test_the_system_prompt_goes_in_system_and_the_turns_in_messages(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply("Stockholm.", input_tokens=30, output_tokens=3)
    request = ChatRequest("claude-haiku-4-5", CONVERSATION, max_tokens=100, temperature=0.2, stop=["END"])
    reply = await provider.chat(request)
    assert (reply.text, reply.usage, reply.model, reply.finish_reason) == (
        "Stockholm.",
        Usage(30, 3),
        "claude-haiku-4-5",
        "end_turn",
    )
    sent = server.last
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert "anthropic-version" in sent.headers
    assert sent.headers["authorization"] == "Bearer sk-ant-test"
    # No temperature: this SDK's Messages API has none.
    assert sent.body == {
        "model": "claude-haiku-4-5",
        "system": "You answer in one line.",
        "messages": [
            {"role": "user", "content": "What is the capital of Norway?"},
            {"role": "assistant", "content": "Oslo."},
            {"role": "user", "content": "And of Sweden?"},
        ],
        "max_tokens": 100,
        "stop_sequences": ["END"],
        "stream": False,
    }


async def test_max_tokens_defaults_to_4096_since_anthropic_requires_it(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply("Stockholm.")
    await provider.chat(ChatRequest("claude-haiku-4-5", [Message("user", "Capital of Sweden?")]))
    assert server.last.body["max_tokens"] == DEFAULT_MAX_TOKENS == 4096
    assert "system" not in server.last.body


async def test_a_stop_sequence_ends_the_reply(server: FakeAnthropic, provider: AnthropicProvider) -> None:
    server.reply("Stockholm. END and more")
    reply = await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION, stop=["END"]))
    assert (reply.text, reply.finish_reason) == ("Stockholm. ", "stop_sequence")


async def test_streaming_hands_on_each_piece_and_the_usage_at_the_end(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply("Stockholm is the capital of Sweden.", input_tokens=30)
    heard: list[str] = []

    async def hear(text: str) -> None:
        heard.append(text)

    reply = await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION, stream=True), hear)
    assert heard == ["Stockholm ", "is ", "the ", "capital ", "of ", "Sweden."]
    assert "".join(heard) == reply.text == "Stockholm is the capital of Sweden."
    assert (reply.usage, reply.finish_reason) == (Usage(30, 6), "end_turn")
    assert server.last.body["stream"] is True


async def test_structured_output_forces_the_reply_tool_and_returns_its_input_as_json(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply_json({"city": "Stockholm"})
    reply = await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION, output_schema=SCHEMA))
    assert json.loads(reply.text) == {"city": "Stockholm"}
    assert reply.finish_reason == "tool_use"
    body = server.last.body
    assert body["tools"] == [{"name": "reply", "description": "Give the reply.", "input_schema": SCHEMA}]
    assert body["tool_choice"] == {"type": "tool", "name": "reply"}


async def test_structured_output_streams_the_json_as_the_model_writes_it(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply_json({"city": "Stockholm", "country": "Sweden"})
    heard: list[str] = []

    async def hear(text: str) -> None:
        heard.append(text)

    request = ChatRequest("claude-haiku-4-5", CONVERSATION, output_schema=SCHEMA, stream=True)
    reply = await provider.chat(request, hear)
    assert len(heard) > 1
    assert json.loads("".join(heard)) == json.loads(reply.text) == {"city": "Stockholm", "country": "Sweden"}


async def test_a_structured_reply_without_the_tool_call_is_malformed(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply("I would rather not use tools.")
    with pytest.raises(ProviderError, match="no 'reply' tool call") as raised:
        await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION, output_schema=SCHEMA))
    assert raised.value.kind == "malformed"


async def test_reasoning_effort_goes_in_output_config(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.reply("Stockholm.")
    await provider.chat(ChatRequest("claude-opus-4-6", CONVERSATION, reasoning_effort="low"))
    assert server.last.body["output_config"] == {"effort": "low"}
    assert "thinking" not in server.last.body


async def test_529_overloaded_is_the_providers_failure(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    server.fail(529, "Overloaded")
    with pytest.raises(ProviderError) as raised:
        await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION))
    assert (raised.value.kind, raised.value.status, raised.value.retryable) == ("server", 529, True)


async def test_an_error_event_in_a_stream_is_the_servers_failure(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    event = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.script(Malformed(f"event: error\ndata: {json.dumps(event)}\n\n", "text/event-stream"))
    with pytest.raises(ProviderError, match="broke off its stream: Overloaded") as raised:
        await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION, stream=True))
    assert raised.value.kind == "server"


async def test_retry_after_ms_wins_over_retry_after(
    server: FakeAnthropic, provider: AnthropicProvider
) -> None:
    headers = {"retry-after-ms": "1500", "retry-after": "2"}
    server.script(Failure(429, "Number of requests has exceeded your rate limit", headers))
    with pytest.raises(ProviderError) as raised:
        await provider.chat(ChatRequest("claude-haiku-4-5", CONVERSATION))
    assert (raised.value.kind, raised.value.retry_after_s) == ("rate_limited", 1.5)
