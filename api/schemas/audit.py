"""Audit events as admins read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: str | None
    action: str
    target: str | None
    detail: dict[str, Any]
    ip: str | None


class AuditPage(BaseModel):
    items: list[AuditEventPublic]
    next_before: int | None
