"""Smoke tests against the real services, each run only when its address or key is in the
environment: OLLAMA_HOST, OPENAI_API_KEY, ANTHROPIC_API_KEY (the model from
STEPWISE_SMOKE_OLLAMA_MODEL, STEPWISE_SMOKE_OPENAI_MODEL, STEPWISE_SMOKE_ANTHROPIC_MODEL)."""

from __future__ import annotations

import os

import pytest

from activities.llm.anthropic_chat import AnthropicProvider
from activities.llm.ollama_chat import OllamaProvider
from activities.llm.openai_chat import OpenAIProvider
from activities.llm.types import ChatProvider, ChatRequest, Message

ASK = [Message("system", "Answer with one word."), Message("user", "What colour is a clear daytime sky?")]


def _needs(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        pytest.skip(f"{variable} is not set: no real service to ask")
    return value


async def _ask(provider: ChatProvider, model: str) -> None:
    try:
        reply = await provider.chat(ChatRequest(model, ASK, max_tokens=16, stream=True))
    finally:
        await provider.aclose()
    assert reply.text.strip()
    assert reply.usage.input_tokens > 0
    assert reply.usage.output_tokens > 0


async def test_ollama_answers() -> None:
    host = _needs("OLLAMA_HOST")
    model = os.environ.get("STEPWISE_SMOKE_OLLAMA_MODEL", "qwen2.5:0.5b")
    provider = OllamaProvider("ollama", host, timeout_s=120)
    await provider.warm(model)
    await _ask(provider, model)


async def test_openai_answers() -> None:
    key = _needs("OPENAI_API_KEY")
    model = os.environ.get("STEPWISE_SMOKE_OPENAI_MODEL", "gpt-4o-mini")
    await _ask(OpenAIProvider("openai", key, os.environ.get("OPENAI_BASE_URL"), timeout_s=60), model)


async def test_anthropic_answers() -> None:
    key = _needs("ANTHROPIC_API_KEY")
    # claude-3-5-haiku is gone from this SDK's model list; its successor is the cheap default.
    model = os.environ.get("STEPWISE_SMOKE_ANTHROPIC_MODEL", "claude-haiku-4-5")
    await _ask(AnthropicProvider("anthropic", key, os.environ.get("ANTHROPIC_BASE_URL"), timeout_s=60), model)
