"""What the HTTP metrics middleware costs a request, in process (no sockets, no Temporal).

    .venv/bin/python -m bench.metrics_middleware [--requests 20000] [--rounds 7]

(a) bare: an ASGI app that only answers 200, called directly and through the middleware;
(b) FastAPI: a route under a router prefix (as the API's are), without and with the middleware.
Each round times `--requests` calls of each path back to back, the two paths alternating round
by round; the table shows the median per-request time of each and what the middleware adds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import HttpMetrics, HttpMetricsMiddleware

Call = Callable[[], Awaitable[None]]


async def _endpoint() -> None:
    return None


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    scope["endpoint"] = _endpoint
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def fastapi_app(with_metrics: bool) -> FastAPI:
    app = FastAPI()
    router = APIRouter()

    @router.get("/runs/{run_id}")
    async def run(run_id: str) -> dict[str, str]:
        return {"id": run_id}

    app.include_router(router, prefix="/api/v1")
    if with_metrics:
        app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(CollectorRegistry()))
    return app


def caller(app: ASGIApp, path: str) -> Call:
    """One GET of `path`, straight into the ASGI app."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    async def call() -> None:
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"bench")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
        }
        await app(scope, receive, send)

    return call


async def per_request_us(call: Call, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await call()
    return (time.perf_counter() - started) / requests * 1e6


async def compare(name: str, plain: Call, metered: Call, requests: int, rounds: int) -> None:
    for warm in (plain, metered):
        await per_request_us(warm, 500)
    without: list[float] = []
    with_: list[float] = []
    for index in range(rounds):
        order = [(plain, without), (metered, with_)]
        for call, figures in order if index % 2 == 0 else reversed(order):
            figures.append(await per_request_us(call, requests))
    a, b = statistics.median(without), statistics.median(with_)
    print(f"{name:<10} {a:>12.1f} {b:>12.1f} {b - a:>10.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{'':<10} {'without µs':>12} {'with µs':>12} {'adds µs':>10}")
    metered_bare = HttpMetricsMiddleware(bare_app, HttpMetrics(CollectorRegistry()))
    await compare("bare", caller(bare_app, "/x"), caller(metered_bare, "/x"), args.requests, args.rounds)
    path = "/api/v1/runs/r-1"
    await compare(
        "fastapi",
        caller(fastapi_app(False), path),
        caller(fastapi_app(True), path),
        args.requests // 4,
        args.rounds,
    )


if __name__ == "__main__":
    asyncio.run(main())
