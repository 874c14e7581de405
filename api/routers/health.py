"""GET /health: is the API up, and can it reach Temporal?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from temporalio.service import RPCError

from api.deps import TemporalDep

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 5.0


class TemporalHealth(BaseModel):
    connected: bool
    address: str
    namespace: str
    error: str | None = None


class HealthPublic(BaseModel):
    status: str
    temporal: TemporalHealth


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
async def health(temporal: TemporalDep, response: Response) -> HealthPublic:
    """`ok` when Temporal answers; `degraded` (503) with the reason when it does not."""
    settings = temporal.settings
    try:
        client = await asyncio.wait_for(temporal.client(), CHECK_TIMEOUT_S)
        await asyncio.wait_for(client.service_client.check_health(), CHECK_TIMEOUT_S)
    except (TimeoutError, RuntimeError, OSError, RPCError) as exc:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        detail = str(exc) or type(exc).__name__
        return HealthPublic(
            status="degraded",
            temporal=TemporalHealth(
                connected=False, address=temporal.address, namespace=settings.temporal_namespace, error=detail
            ),
        )
    return HealthPublic(
        status="ok",
        temporal=TemporalHealth(
            connected=True, address=temporal.address, namespace=settings.temporal_namespace
        ),
    )
