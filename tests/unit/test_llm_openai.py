"""OpenAIProvider through the official SDK, against a local Chat Completions server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from activities.llm.openai_chat import OpenAIProvider
from activities.llm.types import ChatRequest, Message, ProviderError, Usage
from tests.llm_servers import FakeOpenAI, Malformed

CONVERSATION = [
    Message("system", "You answer in one line."),
    Message("user", "What is the capital of Norway?"),
]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def provider(server: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    chosen = OpenAIProvider("openai", "sk-test", server.url, timeout_s=5)
    yield chosen
    await chosen.aclose()


async def test_a_reply_with_its_usage_and_what_the_sdk_sent(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.reply("Oslo is the capital.", input_tokens=21, output_tokens=5)
    request = ChatRequest("gpt-4o-mini", CONVERSATION, max_tokens=64, temperature=0.3, stop=["\n\n"])
    reply = await provider.chat(request)
    assert (reply.text, reply.usage, reply.model, reply.finish_reason) == (
        "Oslo is the capital.",
        Usage(21, 5),
        "gpt-4o-mini",
        "stop",
    )
    sent = server.last
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You answer in one line."},
            {"role": "user", "content": "What is the capital of Norway?"},
        ],
        "max_completion_tokens": 64,
        "temperature": 0.3,
        "stop": ["\n\n"],
        "stream": False,
    }


async def test_max_tokens_cuts_the_reply_short(server: FakeOpenAI, provider: OpenAIProvider) -> None:
    server.reply("one two three four five")
    reply = await provider.chat(ChatRequest("gpt-4o-mini", CONVERSATION, max_tokens=2))
    assert (reply.text, reply.usage.output_tokens, reply.finish_reason) == ("one two ", 2, "length")


async def test_streaming_hands_on_each_piece_and_the_usage_at_the_end(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.reply("Oslo is the capital of Norway.", input_tokens=21)
    heard: list[str] = []

    async def hear(text: str) -> None:
        heard.append(text)

    reply = await provider.chat(ChatRequest("gpt-4o-mini", CONVERSATION, stream=True), hear)
    assert heard == ["Oslo ", "is ", "the ", "capital ", "of ", "Norway."]
    assert "".join(heard) == reply.text == "Oslo is the capital of Norway."
    assert (reply.usage, reply.finish_reason) == (Usage(21, 6), "stop")
    assert server.last.body["stream"] is True
    assert server.last.body["stream_options"] == {"include_usage": True}


async def test_a_stream_without_its_usage_chunk_is_malformed(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": []}
    server.script(Malformed(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n", "text/event-stream"))
    with pytest.raises(ProviderError, match="without the usage chunk") as raised:
        await provider.chat(ChatRequest("gpt-4o-mini", CONVERSATION, stream=True))
    assert raised.value.kind == "malformed"


async def test_an_error_event_in_a_stream_is_the_servers_failure(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    event = {"error": {"message": "The model crashed", "type": "server_error"}}
    server.script(Malformed(f"data: {json.dumps(event)}\n\n", "text/event-stream"))
    with pytest.raises(ProviderError, match="The model crashed") as raised:
        await provider.chat(ChatRequest("gpt-4o-mini", CONVERSATION, stream=True))
    assert raised.value.kind == "server"


async def test_structured_output_asks_for_the_schema_without_strict_decoding(
    server: FakeOpenAI, provider: OpenAIProvider
) -> None:
    server.reply_json({"city": "Oslo"})
    reply = await provider.chat(ChatRequest("gpt-4o-mini", CONVERSATION, output_schema=SCHEMA))
    assert json.loads(reply.text) == {"city": "Oslo"}
    assert server.last.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": SCHEMA, "strict": False},
    }


async def test_reasoning_effort_is_sent_as_is(server: FakeOpenAI, provider: OpenAIProvider) -> None:
    server.reply("Oslo.")
    await provider.chat(ChatRequest("o4-mini", CONVERSATION, reasoning_effort="high"))
    assert server.last.body["reasoning_effort"] == "high"


async def test_a_server_without_keys_such_as_vllm_gets_a_placeholder(server: FakeOpenAI) -> None:
    server.reply("Oslo.")
    local = OpenAIProvider("vllm", None, server.url, timeout_s=5)
    try:
        reply = await local.chat(ChatRequest("Qwen/Qwen2.5-7B-Instruct", CONVERSATION))
    finally:
        await local.aclose()
    assert reply.text == "Oslo."
    assert server.last.headers["authorization"] == "Bearer unused"


async def test_the_sdk_does_not_retry_temporal_does(server: FakeOpenAI, provider: OpenAIProvider) -> None:
    server.fail(503, "busy")
    server.reply("Oslo.")
    with pytest.raises(ProviderError):
        await provider.chat(ChatRequest("gpt-4o-mini", CONVERSATION))
    assert len(server.requests) == 1
    assert server.last.headers["x-stainless-retry-count"] == "0"
