"""Webhooks as the API shows and takes them; the secret only in answers to create and rotate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.db.models import WebhookRow
from core.webhooks import hook_path
from workflows.durations import DURATION_PATTERN

DURATION = Field(pattern=DURATION_PATTERN, description="e.g. 30s, 5m, 2h")


class WebhookCreate(BaseModel):
    definition: str = Field(min_length=1, max_length=210, description="`name`, or `name@3` to pin a version")
    input: Any = Field(
        default=None,
        description="The run input, templated with body, headers, delivery and hook (default {{ body }})",
    )
    tolerance: str | None = Field(default=None, pattern=DURATION_PATTERN, description="Default 5m")


class WebhookRotate(BaseModel):
    grace: str = Field(
        default="1h", pattern=DURATION_PATTERN, description="How long the old secret keeps working"
    )


class WebhookPublic(BaseModel):
    id: str
    path: str = Field(description="Where deliveries are POSTed")
    definition: str
    version: int | None
    trigger_id: str | None = Field(description="Set for a hook declared in the definition's triggers:")
    owner: str
    input: Any
    tolerance_s: int
    created_at: datetime
    rotated_at: datetime | None
    previous_until: datetime | None = Field(description="The old secret is accepted until then")

    @classmethod
    def of(cls, row: WebhookRow) -> WebhookPublic:
        return cls(
            id=row.id,
            path=hook_path(row.id),
            definition=row.definition,
            version=row.version,
            trigger_id=row.trigger_id,
            owner=row.owner,
            input=row.input,
            tolerance_s=row.tolerance_s,
            created_at=row.created_at,
            rotated_at=row.rotated_at,
            previous_until=row.previous_until,
        )


class WebhookWithSecret(WebhookPublic):
    secret: str = Field(description="The signing secret; shown only now, store it safely.")


class DeliveryAccepted(BaseModel):
    run_id: str
    delivery: str
    definition: str
