"""Activities of the `integrations` queue: HTTP calls (api.fetch)."""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from core.netguard import BlockedAddress, check_host
from core.settings import Settings
from workflows.engine.models import ModuleCall, ModuleResult
from workflows.modules.api import FetchInput, FetchOutput

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
REDIRECT_STATUS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 10


class IntegrationActivities:
    """HTTP calls with an injected client; one instance per worker."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    @activity.defn(name="module:api.fetch")
    async def fetch(self, call: ModuleCall) -> ModuleResult:
        """api.fetch: call an HTTP API; 429 and 5xx are retried (honouring Retry-After)."""
        request = _validated(call)
        method, url = request.method, request.url
        body, content = _encode_body(request.body)
        headers = {**({"content-type": content} if content else {}), **request.headers}
        async with heartbeating():
            # Redirects are followed here, one hop at a time, so every hop passes the address guard.
            for _ in range(MAX_REDIRECTS + 1):
                await self._check_url(url)
                status, reply_headers, raw = await self._send(method, url, headers, body)
                location = reply_headers.get("location")
                if status not in REDIRECT_STATUS or not location:
                    break
                url = urljoin(url, location)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            else:
                raise ApplicationError(
                    f"{request.url} redirected more than {MAX_REDIRECTS} times",
                    type="TooManyRedirects",
                    non_retryable=True,
                )
        data = _decode(raw, reply_headers.get("content-type", ""))
        _raise_for_status(request, status, reply_headers.get("retry-after"), data)
        if request.extract_path:
            data = _extract(data, request.extract_path)
        output = FetchOutput(response=data, status_code=status, success=200 <= status < 300)
        return ModuleResult(outputs=output.model_dump(mode="json"))

    async def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApplicationError(f"'{url}' is not an http(s) URL", type="InvalidInput", non_retryable=True)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await check_host(parts.hostname, port, self.settings.fetch_allow_hosts)
        except BlockedAddress as exc:
            raise ApplicationError(str(exc), type="BlockedAddress", non_retryable=True) from exc

    async def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, httpx.Headers, bytes]:
        try:
            async with self.http.stream(
                method,
                url,
                headers=headers,
                content=body,
                timeout=self.settings.fetch_timeout_s,
                follow_redirects=False,
            ) as response:
                raw = await self._read(response)
        except httpx.TimeoutException as exc:
            raise ApplicationError(f"{method} {url} timed out", type="HttpTimeout") from exc
        except httpx.TransportError as exc:
            raise ApplicationError(f"{method} {url} failed: {exc}", type="HttpConnectError") from exc
        return response.status_code, response.headers, raw

    async def _read(self, response: httpx.Response) -> bytes:
        limit = self.settings.fetch_max_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ApplicationError(
                    f"the response is larger than {limit} bytes (STEPWISE_FETCH_MAX_BYTES)",
                    type="ResponseTooLarge",
                    non_retryable=True,
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _validated(call: ModuleCall) -> FetchInput:
    try:
        return FetchInput.model_validate(call.inputs)
    except ValueError as exc:
        raise ApplicationError(
            f"inputs do not fit api.fetch: {exc}", type="InvalidInput", non_retryable=True
        ) from exc


def _encode_body(body: Any) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"


def _decode(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _raise_for_status(request: FetchInput, status: int, retry_after: str | None, data: Any) -> None:
    if status < 400:
        return
    excerpt = (data if isinstance(data, str) else json.dumps(data))[:300]
    message = f"{request.method} {request.url} answered {status}: {excerpt}"
    if status in RETRYABLE_STATUS:
        raise ApplicationError(
            message, {"status_code": status}, type=f"Http{status}", next_retry_delay=_retry_after(retry_after)
        )
    raise ApplicationError(message, {"status_code": status}, type=f"Http{status}", non_retryable=True)


def _retry_after(value: str | None) -> timedelta | None:
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    delay = when - datetime.now(UTC)
    return delay if delay > timedelta(0) else None


def _extract(data: Any, path: str) -> Any:
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif (
            isinstance(current, list)
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            raise ApplicationError(
                f"extract_path '{path}': '{part}' is not in the response",
                type="ExtractPathNotFound",
                non_retryable=True,
            )
    return current
