"""Definitions as the registry shows them: versions, with source and plan in detail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DefinitionPublic(BaseModel):
    """One stored version of a definition."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    version: int
    content_hash: str = Field(description="SHA-256 of the compiled plan; runs pin it")
    format: str = Field(description="yaml or json: how the source is written")
    description: str | None
    author_id: str | None
    created_at: datetime


class DefinitionDetail(DefinitionPublic):
    """A version with its source text and its compiled plan."""

    source: str
    plan: dict[str, Any]


class DefinitionUploaded(DefinitionPublic):
    created: bool = Field(description="false when the text compiles to the latest version's plan")


class ValidationPublic(BaseModel):
    valid: bool
    name: str | None = Field(default=None, description="The definition's name")
    content_hash: str | None = Field(default=None, description="The plan's hash, as an upload would store it")
