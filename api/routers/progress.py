"""POST /api/v1/internal/progress: workers hand in the live output of their steps (the tokens
of a streaming api.llm step), which the run's SSE streams show as `module_progress` events.
Authenticated with the worker token (STEPWISE_WORKER_TOKEN), not a user's credentials."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.responses import errors
from api.security import unauthorized
from core.progress import ProgressPost
from core.settings import Settings

router = APIRouter(prefix="/internal", tags=["internal"])
_worker_token = HTTPBearer(
    auto_error=False, scheme_name="WorkerToken", description="The workers' token (STEPWISE_WORKER_TOKEN)."
)


async def worker(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_worker_token)],
) -> None:
    """Admit the caller with the worker token; 404 while no token is set (the endpoint is off)."""
    settings: Settings = request.app.state.settings
    if settings.worker_token is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "this API takes no step progress: set STEPWISE_WORKER_TOKEN (the same on the API and "
            "the workers) to stream tokens of `stream: true` steps",
        )
    expected = settings.worker_token.get_secret_value().encode()
    given = (credentials.credentials if credentials is not None else "").encode()
    if not hmac.compare_digest(given, expected):
        raise unauthorized(
            "this needs the workers' token: send `Authorization: Bearer <STEPWISE_WORKER_TOKEN>`"
        )


@router.post(
    "/progress",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(404, 422),
    dependencies=[Depends(worker)],
)
async def progress(body: ProgressPost, request: Request) -> Response:
    """Chunks of steps' live output, for the SSE streams of their runs (on every API replica);
    for workers only. Nothing is stored: a stream that is not open misses them."""
    if body.chunks:
        await request.app.state.progress.publish(body.chunks)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
