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


class NewHookPublic(BaseModel):
    id: str
    trigger_id: str | None
    path: str = Field(description="Where deliveries are POSTed")
    secret: str = Field(description="The signing secret: shown only now (rotate it to get a new one)")


class DefinitionUploaded(DefinitionPublic):
    created: bool = Field(description="false when the text compiles to the latest version's plan")
    schedules: list[str] = Field(
        default_factory=list, description="Schedules this version created, changed or removed"
    )
    hooks: list[NewHookPublic] = Field(
        default_factory=list, description="Webhooks its triggers declared anew, with their secrets"
    )


class ValidationPublic(BaseModel):
    valid: bool
    name: str | None = Field(default=None, description="The definition's name")
    content_hash: str | None = Field(default=None, description="The plan's hash, as an upload would store it")
