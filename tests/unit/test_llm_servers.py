"""The fake provider servers behave as the real ones would where tests and benchmarks rely on it."""

from __future__ import annotations

import anthropic
import openai
import pytest

from activities.llm.ollama_chat import OllamaProvider
from activities.llm.openai_chat import OpenAIProvider
from activities.llm.types import ChatRequest, Message
from tests.llm_servers import FakeAnthropic, FakeOllama, FakeOpenAI, Text


async def test_cold_load_is_charged_when_the_model_changes() -> None:
    with FakeOllama(cold_load_s=0.001, default=Text("ok")) as server:
        provider = OllamaProvider("ollama", server.url, timeout_s=5)
        try:
            for model in ["a", "a", "b", "a"]:
                await provider.chat(ChatRequest(model, [Message("user", "hi")]))
        finally:
            await provider.aclose()
    assert server.cold_loads == ["a", "b", "a"]


async def test_a_default_reply_serves_any_number_of_requests_with_token_delays() -> None:
    with FakeOpenAI(token_delay_s=0.001, default=Text("one two three")) as server:
        provider = OpenAIProvider("openai", None, server.url, timeout_s=5)
        heard: list[str] = []

        async def hear(text: str) -> None:
            heard.append(text)

        try:
            for _ in range(3):
                await provider.chat(ChatRequest("m", [Message("user", "hi")], stream=True), hear)
        finally:
            await provider.aclose()
    assert "".join(heard) == "one two three" * 3
    assert len(server.requests) == 3


def test_the_fake_anthropic_refuses_a_system_turn_as_anthropic_does() -> None:
    with FakeAnthropic(default=Text("ok")) as server:
        client = anthropic.Anthropic(api_key="k", base_url=server.url, max_retries=0)
        with pytest.raises(anthropic.BadRequestError, match='Unexpected role "system"'):
            client.messages.create(
                model="m",
                max_tokens=10,
                messages=[{"role": "system", "content": "x"}],
            )
        client.close()
    assert server.last.body["messages"] == [{"role": "system", "content": "x"}]


def test_the_servers_are_usable_from_sync_code_and_record_requests() -> None:
    with FakeOpenAI() as server:
        server.reply("hello")
        sync = openai.OpenAI(api_key="k", base_url=server.url, max_retries=0)
        completion = sync.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        sync.close()
    assert completion.choices[0].message.content == "hello"
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/v1/chat/completions")]
