"""The API's Temporal connection: made in the lifespan, retried lazily if Temporal was down."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.errors import unexpected
from core.settings import Settings
from core.temporal import connect

CONNECT_TIMEOUT_S = 5.0
_UNAVAILABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED)


class TemporalConnection:
    """Holds one client; connects on first use after a failed start."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        # Given: a client the process's workflow workers share (runs start eagerly in them).
        self._client: Client | None = client
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> Client | None:
        """The client once connected, else None."""
        return self._client

    @property
    def address(self) -> str:
        return f"{self.settings.temporal_host}:{self.settings.temporal_port}"

    async def client(self) -> Client:
        """The client, connecting now if there is none yet (raises if Temporal is unreachable)."""
        async with self._lock:
            if self._client is None:
                self._client = await connect(self.settings)
            return self._client


def unavailable(connection: TemporalConnection, reason: str) -> HTTPException:
    """503: Temporal cannot be reached; says where the API looked and what to start or set."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"Temporal at {connection.address} is unreachable ({reason}); start it (`stepwise dev`) or "
        f"point STEPWISE_TEMPORAL_HOST and STEPWISE_TEMPORAL_PORT at it, then try again",
    )


async def reachable_client(connection: TemporalConnection) -> Client:
    """The client; a 503 HTTPException when Temporal cannot be reached. Once connected it
    is returned at once, without the timeout's task."""
    if connection.connected is not None:
        return connection.connected
    try:
        return await asyncio.wait_for(connection.client(), CONNECT_TIMEOUT_S)
    except (TimeoutError, RuntimeError, OSError, RPCError) as exc:
        raise unavailable(connection, str(exc) or type(exc).__name__) from None


async def temporal_error(request: Request, exc: Exception) -> JSONResponse:
    """503 for a Temporal call that failed because the server is gone or overloaded; anything
    else from Temporal is an internal error."""
    assert isinstance(exc, RPCError)
    if exc.status in _UNAVAILABLE:
        connection: TemporalConnection = request.app.state.temporal
        problem = unavailable(connection, exc.message or exc.status.name)
        return JSONResponse(status_code=problem.status_code, content={"detail": problem.detail})
    return await unexpected(request, exc)
