"""OllamaProvider through the official SDK, against a local server speaking Ollama's API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from activities.llm.ollama_chat import WARM_KEEP_ALIVE, OllamaProvider
from activities.llm.types import ChatRequest, Message, ProviderError, Usage
from tests.llm_servers import FakeOllama, Malformed

CONVERSATION = [
    Message("system", "You answer in one line."),
    Message("user", "What is the capital of Norway?"),
]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
async def provider(server: FakeOllama) -> AsyncIterator[OllamaProvider]:
    chosen = OllamaProvider("ollama", server.url, timeout_s=5)
    yield chosen
    await chosen.aclose()


async def test_a_reply_with_its_usage_and_what_the_sdk_sent(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.reply("Oslo is the capital.", input_tokens=25, output_tokens=6)
    request = ChatRequest("qwen2.5:7b", CONVERSATION, max_tokens=64, temperature=0.3, stop=["\n\n"])
    reply = await provider.chat(request)
    assert (reply.text, reply.usage, reply.model, reply.finish_reason) == (
        "Oslo is the capital.",
        Usage(25, 6),
        "qwen2.5:7b",
        "stop",
    )
    sent = server.last
    assert (sent.method, sent.path) == ("POST", "/api/chat")
    assert sent.body["model"] == "qwen2.5:7b"
    assert sent.body["stream"] is False
    assert sent.body["messages"] == [
        {"role": "system", "content": "You answer in one line."},
        {"role": "user", "content": "What is the capital of Norway?"},
    ]
    assert sent.body["options"] == {"temperature": 0.3, "num_predict": 64, "stop": ["\n\n"]}
    # Not warmed: Ollama's own keep-alive applies.
    assert "keep_alive" not in sent.body


async def test_num_predict_cuts_the_reply_short(server: FakeOllama, provider: OllamaProvider) -> None:
    server.reply("one two three four five")
    reply = await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION, max_tokens=3))
    assert (reply.text, reply.usage.output_tokens, reply.finish_reason) == ("one two three ", 3, "length")


async def test_streaming_hands_on_each_piece_and_the_counts_of_the_done_line(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.reply("Oslo is the capital of Norway.", input_tokens=25)
    heard: list[str] = []

    async def hear(text: str) -> None:
        heard.append(text)

    reply = await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION, stream=True), hear)
    assert heard == ["Oslo ", "is ", "the ", "capital ", "of ", "Norway."]
    assert "".join(heard) == reply.text == "Oslo is the capital of Norway."
    assert (reply.usage, reply.finish_reason) == (Usage(25, 6), "stop")
    assert server.last.body["stream"] is True


async def test_structured_output_sends_the_schema_as_format(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.reply_json({"city": "Oslo"})
    reply = await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION, output_schema=SCHEMA))
    assert json.loads(reply.text) == {"city": "Oslo"}
    assert server.last.body["format"] == SCHEMA


async def test_reasoning_effort_is_not_sent_as_think(server: FakeOllama, provider: OllamaProvider) -> None:
    server.reply("Oslo.")
    await provider.chat(ChatRequest("qwen3:8b", CONVERSATION, reasoning_effort="high"))
    assert "think" not in server.last.body


async def test_warm_loads_the_model_and_its_chats_keep_it_loaded(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    await provider.warm("qwen2.5:7b")
    loaded = server.last
    assert (loaded.path, loaded.body) == (
        "/api/generate",
        {"model": "qwen2.5:7b", "stream": False, "keep_alive": WARM_KEEP_ALIVE},
    )
    assert server.cold_loads == ["qwen2.5:7b"]
    server.reply("Oslo.")
    server.reply("Stockholm.")
    await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION))
    assert server.last.body["keep_alive"] == WARM_KEEP_ALIVE == "30m"
    await provider.chat(ChatRequest("llama3.2:3b", CONVERSATION))
    assert "keep_alive" not in server.last.body
    assert server.cold_loads == ["qwen2.5:7b", "llama3.2:3b"]


async def test_warming_a_model_ollama_lacks_is_the_users_to_fix() -> None:
    with FakeOllama(models={"qwen2.5:7b"}) as server:
        provider = OllamaProvider("ollama", server.url, timeout_s=5)
        try:
            with pytest.raises(
                ProviderError, match='model "qwen9:1b" not found, try pulling it first'
            ) as raised:
                await provider.warm("qwen9:1b")
            await provider.warm("qwen2.5:7b")
        finally:
            await provider.aclose()
    assert (raised.value.kind, raised.value.status) == ("client", 404)
    assert server.cold_loads == ["qwen2.5:7b"]


async def test_a_missing_model_is_the_users_to_fix(server: FakeOllama, provider: OllamaProvider) -> None:
    server.fail(404, 'model "qwen9:1b" not found, try pulling it first')
    with pytest.raises(ProviderError, match="try pulling it first") as raised:
        await provider.chat(ChatRequest("qwen9:1b", CONVERSATION, stream=True))
    assert (raised.value.kind, raised.value.status) == ("client", 404)


async def test_an_error_line_in_a_stream_is_the_servers_failure(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    part = {"model": "qwen2.5:7b", "message": {"role": "assistant", "content": "Os"}, "done": False}
    lines = f"{json.dumps(part)}\n{json.dumps({'error': 'llama runner process has terminated'})}\n"
    server.script(Malformed(lines, "application/x-ndjson"))
    with pytest.raises(ProviderError, match="runner process has terminated") as raised:
        await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION, stream=True))
    assert raised.value.kind == "server"


async def test_a_stream_without_its_done_line_is_malformed(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    part = {"model": "qwen2.5:7b", "message": {"role": "assistant", "content": "Os"}, "done": False}
    server.script(Malformed(json.dumps(part) + "\n", "application/x-ndjson"))
    with pytest.raises(ProviderError, match="without a done line") as raised:
        await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION, stream=True))
    assert raised.value.kind == "malformed"


async def test_on_texts_own_failure_is_not_mistaken_for_the_providers(
    server: FakeOllama, provider: OllamaProvider
) -> None:
    server.reply("Oslo.")

    async def broken(text: str) -> None:
        raise TypeError("a bug in the listener")

    with pytest.raises(TypeError, match="a bug in the listener"):
        await provider.chat(ChatRequest("qwen2.5:7b", CONVERSATION, stream=True), broken)
