"""Declarations of the I/O modules api.fetch and api.llm (implemented in activities/)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

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


class LlmInput(ModuleInput):
    provider: str | None = Field(
        default=None, description="ollama, openai or anthropic (default: from settings)"
    )
    model: str | None = Field(default=None, description="Model name, or an alias such as @generate")
    input: str = Field(description="The prompt")
    system: str | None = Field(default=None, description="System prompt")
    output_schema: Any = Field(
        default=None, description="JSON Schema the reply must match (structured output)"
    )
    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature")


class LlmOutput(ModuleOutput):
    response: Any = Field(description="Parsed JSON when output_schema is set, else the text")
    response_text: str = Field(description="The reply as text")
    usage: dict[str, Any] = Field(description="Token counts: input_tokens, output_tokens")
