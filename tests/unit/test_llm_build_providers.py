"""build_providers: which providers a process gets from its settings."""

from __future__ import annotations

from pydantic import SecretStr

from activities.llm.anthropic_chat import AnthropicProvider
from activities.llm.ollama_chat import OllamaProvider
from activities.llm.openai_chat import OpenAIProvider
from activities.llm.providers import build_providers, close_providers
from activities.llm.types import ChatRequest, Message
from core.settings import LlmProviderConfig, Settings
from tests.llm_servers import FakeOllama, FakeOpenAI

NONE_SET: dict[str, object] = {
    "openai_api_key": None,
    "openai_base_url": None,
    "anthropic_api_key": None,
    "anthropic_base_url": None,
    "llm_providers": {},
}


def settings(**given: object) -> Settings:
    """Settings with no provider but those given, whatever the environment holds."""
    return Settings(**{**NONE_SET, **given})  # type: ignore[arg-type]


async def test_only_ollama_without_keys_or_addresses() -> None:
    providers = build_providers(settings())
    try:
        assert list(providers) == ["ollama"]
        assert isinstance(providers["ollama"], OllamaProvider)
    finally:
        await close_providers(providers)


async def test_a_key_or_an_address_brings_openai_and_anthropic() -> None:
    providers = build_providers(
        settings(openai_base_url="http://127.0.0.1:9/v1", anthropic_api_key=SecretStr("sk-ant-test"))
    )
    try:
        assert sorted(providers) == ["anthropic", "ollama", "openai"]
        assert isinstance(providers["openai"], OpenAIProvider)
        assert isinstance(providers["anthropic"], AnthropicProvider)
        assert {name: p.name for name, p in providers.items()} == {n: n for n in providers}
    finally:
        await close_providers(providers)


async def test_named_providers_speak_their_kind_at_their_address() -> None:
    with FakeOpenAI() as vllm, FakeOllama() as gpu_box:
        vllm.reply("from vLLM")
        gpu_box.reply("from the GPU box")
        configured = settings(
            llm_timeout_s=7,
            llm_providers={
                "vllm": LlmProviderConfig(kind="openai", base_url=vllm.url),
                "gpu-box": LlmProviderConfig(kind="ollama", base_url=gpu_box.url),
            },
        )
        providers = build_providers(configured)
        try:
            assert sorted(providers) == ["gpu-box", "ollama", "vllm"]
            ask = ChatRequest("some-model", [Message("user", "hi")])
            assert (await providers["vllm"].chat(ask)).text == "from vLLM"
            assert (await providers["gpu-box"].chat(ask)).text == "from the GPU box"
        finally:
            await close_providers(providers)
    assert vllm.last.headers["authorization"] == "Bearer unused"
    assert vllm.last.headers["x-stainless-read-timeout"] == "7.0"
