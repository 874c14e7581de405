"""What went wrong on the wire, as a ProviderError, the same way for every provider."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

from activities.llm.types import ProviderError


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait before trying again, from `retry-after-ms` (OpenAI, Anthropic) or
    `Retry-After` in seconds or as an HTTP date; None when there is neither."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def detail_of(body: object, fallback: str) -> str:
    """The provider's own reason from an error body: `{"error": {"message": ...}}` (Anthropic;
    the OpenAI SDK hands over just the inner `{"message": ...}`) or `{"error": "..."}` (Ollama);
    `fallback` when the body has none."""
    if isinstance(body, Mapping) and "error" in body:
        body = body["error"]
    if isinstance(body, Mapping):
        body = body.get("message")
    return body if isinstance(body, str) and body else fallback


def status_error(
    provider: str, model: str, status: int, detail: str, headers: Mapping[str, str]
) -> ProviderError:
    """An HTTP error answer: 429 is a rate limit, 5xx (and Anthropic's 529) the provider's own
    failure, any other status a request the user has to change, with the provider's reason."""
    where = _where(provider, model)
    if status == 429:
        wait = retry_after_s(headers)
        after = f"; it asks to wait {wait:g} s" if wait is not None else ""
        return ProviderError(
            provider,
            "rate_limited",
            f"{where} is rate limiting requests (HTTP 429{after}): {detail}",
            status=status,
            retry_after_s=wait,
        )
    if status >= 500:
        return ProviderError(provider, "server", f"{where} failed (HTTP {status}): {detail}", status=status)
    return ProviderError(provider, "client", f"{where} refused the request (HTTP {status}): {detail}", status)


def timeout_error(provider: str, model: str, timeout_s: float) -> ProviderError:
    """No (complete) answer within the provider's timeout."""
    return ProviderError(
        provider,
        "timeout",
        f"{_where(provider, model)} did not answer within {timeout_s:g} s "
        f"(STEPWISE_LLM_TIMEOUT_S sets how long a call may take)",
    )


def connection_error(provider: str, model: str, address: str, cause: BaseException) -> ProviderError:
    """The provider could not be reached, or dropped the connection."""
    return ProviderError(
        provider,
        "connection",
        f"{_where(provider, model)} could not be reached at {address}: {cause or type(cause).__name__}",
    )


def broken_stream_error(provider: str, model: str, detail: str) -> ProviderError:
    """An `error` event in a stream that had begun well: the provider gave up on the reply."""
    return ProviderError(provider, "server", f"{_where(provider, model)} broke off its stream: {detail}")


def malformed_error(provider: str, model: str, why: str) -> ProviderError:
    """An answer that is not what the provider's protocol promises (not JSON, fields missing)."""
    return ProviderError(provider, "malformed", f"{_where(provider, model)} sent a reply that {why}")


def _where(provider: str, model: str) -> str:
    return f"LLM provider {provider!r} (model {model!r})"
