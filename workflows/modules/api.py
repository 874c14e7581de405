"""Declarations of the I/O modules api.fetch and api.llm (implemented in activities/)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from workflows.modules.human import json_schema_or_none
from workflows.modules.registry import ModuleInput, ModuleOutput

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class FetchInput(ModuleInput):
    url: str = Field(description="The address to call (http or https)")
    method: HttpMethod = Field(default="GET", description="HTTP method")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers")
    body: Any = Field(default=None, description="JSON body (a mapping or list) or text")
    extract_path: str | None = Field(
        default=None, description="Dotted path into the JSON reply to return as `response`, e.g. data.items"
    )


class FetchOutput(ModuleOutput):
    response: Any = Field(description="The reply: JSON data, or text when it is not JSON")
    status_code: int = Field(description="HTTP status code")
    success: bool = Field(description="True for a 2xx status")


class ChatMessage(ModuleInput):
    role: Literal["system", "user", "assistant"] = Field(description="Who says it")
    content: str = Field(description="What is said")


class LlmInput(ModuleInput):
    # Said to the compiler too, which checks inputs against the JSON Schema.
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"anyOf": [{"required": ["input"]}, {"required": ["messages"]}]}
    )

    provider: str | None = Field(
        default=None,
        description="ollama, openai or anthropic, or a provider named in settings (default: from settings)",
    )
    model: str | list[str] | None = Field(
        default=None,
        description=(
            "Model name, `model@provider`, an alias such as @generate, or a list of them: a fallback "
            "chain tried in order (default: from settings)"
        ),
    )
    input: str | None = Field(default=None, description="The prompt (sent after `messages`)")
    system: str | None = Field(default=None, description="System prompt")
    messages: list[ChatMessage] = Field(
        default_factory=list, description="Chat history before `input`: role and content each"
    )
    output_schema: Any = Field(
        default=None, description="JSON Schema the reply must match (structured output)"
    )
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature")
    max_tokens: int | None = Field(default=None, ge=1, description="The most tokens the reply may have")
    stop: str | list[str] | None = Field(default=None, description="Text that ends the reply")
    reasoning_effort: Literal["low", "medium", "high"] | None = Field(
        default=None, description="How hard a reasoning model thinks (where the provider supports it)"
    )
    stream: bool = Field(default=False, description="Send tokens to the run's live stream as they come")

    _schema = field_validator("output_schema")(json_schema_or_none)

    @model_validator(mode="after")
    def _prompt(self) -> LlmInput:
        if self.input is None and not self.messages:
            raise ValueError("give `input` (the prompt) or `messages` (a chat history)")
        return self


class LlmOutput(ModuleOutput):
    response: Any = Field(description="Parsed JSON when output_schema is set, else the text")
    response_text: str = Field(description="The reply as text")
    usage: dict[str, Any] = Field(description="Token counts: input_tokens, output_tokens")
    model: str | None = Field(
        default=None, description="The model that answered (after aliases and fallback)"
    )
    provider: str | None = Field(default=None, description="The provider that answered")
