"""The chat providers a process has, built from its settings."""

from __future__ import annotations

from pydantic import SecretStr

from activities.llm.anthropic_chat import AnthropicProvider
from activities.llm.ollama_chat import OllamaProvider
from activities.llm.openai_chat import OpenAIProvider
from activities.llm.types import ChatProvider
from core.settings import LlmProviderConfig, Settings


def build_providers(settings: Settings) -> dict[str, ChatProvider]:
    """`ollama` always; `openai` and `anthropic` when a key or an address is set; then each of
    STEPWISE_LLM_PROVIDERS by its name (a name there replaces a built-in one)."""
    timeout_s = settings.llm_timeout_s
    providers: dict[str, ChatProvider] = {"ollama": OllamaProvider("ollama", settings.ollama_host, timeout_s)}
    if settings.openai_api_key is not None or settings.openai_base_url is not None:
        providers["openai"] = OpenAIProvider(
            "openai", _secret(settings.openai_api_key), settings.openai_base_url, timeout_s
        )
    if settings.anthropic_api_key is not None or settings.anthropic_base_url is not None:
        providers["anthropic"] = AnthropicProvider(
            "anthropic", _secret(settings.anthropic_api_key), settings.anthropic_base_url, timeout_s
        )
    for name, config in settings.llm_providers.items():
        providers[name] = _configured(name, config, settings)
    return providers


async def close_providers(providers: dict[str, ChatProvider]) -> None:
    """Close every provider's connections (each, even when one fails to close)."""
    failures: list[Exception] = []
    for provider in providers.values():
        try:
            await provider.aclose()
        except Exception as exc:
            failures.append(exc)
    if failures:
        raise ExceptionGroup("closing LLM providers", failures)


def _configured(name: str, config: LlmProviderConfig, settings: Settings) -> ChatProvider:
    timeout_s = settings.llm_timeout_s
    if config.kind == "ollama":
        return OllamaProvider(name, config.base_url or settings.ollama_host, timeout_s)
    if config.kind == "openai":
        return OpenAIProvider(name, _secret(config.api_key), config.base_url, timeout_s)
    return AnthropicProvider(name, _secret(config.api_key), config.base_url, timeout_s)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
