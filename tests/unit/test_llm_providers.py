"""Every provider turns its wire's failures into the same ProviderError kinds, through its
official SDK talking to a local server that speaks the provider's protocol."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from activities.llm.anthropic_chat import AnthropicProvider
from activities.llm.errors import retry_after_s
from activities.llm.ollama_chat import OllamaProvider
from activities.llm.openai_chat import OpenAIProvider
from activities.llm.types import ChatProvider, ChatRequest, Message, ProviderError
from tests.llm_servers import Failure, FakeAnthropic, FakeLlmServer, FakeOllama, FakeOpenAI, Malformed, Slow


@dataclass(frozen=True)
class Kind:
    name: str
    server: Callable[[], FakeLlmServer]
    provider: Callable[[str, float], ChatProvider]
    # The base URL of a server at this address, as the provider's SDK takes it.
    address: Callable[[str], str]


KINDS = [
    Kind(
        "openai", FakeOpenAI, lambda url, t: OpenAIProvider("openai", "sk-test", url, t), lambda a: f"{a}/v1"
    ),
    Kind("anthropic", FakeAnthropic, lambda url, t: AnthropicProvider("anthropic", "k", url, t), lambda a: a),
    Kind("ollama", FakeOllama, lambda url, t: OllamaProvider("ollama", url, t), lambda a: a),
]
REQUEST = ChatRequest("some-model", [Message("user", "Say hi")])


@pytest.fixture(params=KINDS, ids=[k.name for k in KINDS])
def kind(request: pytest.FixtureRequest) -> Kind:
    chosen: Kind = request.param
    return chosen


@pytest.fixture
def server(kind: Kind) -> Iterator[FakeLlmServer]:
    with kind.server() as fake:
        yield fake


@pytest.fixture
async def provider(kind: Kind, server: FakeLlmServer) -> AsyncIterator[ChatProvider]:
    chosen = kind.provider(server.url, 5.0)
    yield chosen
    await chosen.aclose()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_429_is_rate_limited_with_the_wait_the_server_asked_for(
    server: FakeLlmServer, provider: ChatProvider, stream: bool
) -> None:
    server.fail(429, "Rate limit reached for requests", retry_after="7")
    with pytest.raises(ProviderError) as raised:
        await provider.chat(ChatRequest("some-model", [Message("user", "hi")], stream=stream))
    error = raised.value
    assert (error.kind, error.status, error.retry_after_s) == ("rate_limited", 429, 7.0)
    assert error.retryable
    assert "Rate limit reached for requests" in error.message


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_500_is_the_providers_failure_and_retryable(
    server: FakeLlmServer, provider: ChatProvider, stream: bool
) -> None:
    server.fail(500, "The server had an error while processing your request")
    with pytest.raises(ProviderError) as raised:
        await provider.chat(ChatRequest("some-model", [Message("user", "hi")], stream=stream))
    assert (raised.value.kind, raised.value.status, raised.value.retryable) == ("server", 500, True)


async def test_400_is_the_users_to_fix_and_keeps_the_providers_reason(
    kind: Kind, server: FakeLlmServer, provider: ChatProvider
) -> None:
    server.fail(400, "Invalid value for 'temperature': must be between 0 and 2")
    with pytest.raises(ProviderError) as raised:
        await provider.chat(REQUEST)
    error = raised.value
    assert (error.kind, error.status, error.retryable) == ("client", 400, False)
    assert error.provider == kind.name
    assert "Invalid value for 'temperature': must be between 0 and 2" in error.message
    assert f"{kind.name!r}" in error.message
    assert "'some-model'" in error.message


@pytest.mark.parametrize(
    "body",
    [
        '{"id": "cut off',
        '{"id": "x"}',
        '{"choices": [{}], "content": [{"type": "text"}], "message": {}, "usage": {}}',
        "<html>Bad Gateway</html>",
    ],
    ids=["cut-off", "fields-missing", "fields-empty", "not-json"],
)
async def test_a_reply_that_is_not_the_protocols_is_malformed(
    server: FakeLlmServer, provider: ChatProvider, body: str
) -> None:
    server.script(Malformed(body))
    with pytest.raises(ProviderError) as raised:
        await provider.chat(REQUEST)
    assert raised.value.kind == "malformed"
    assert raised.value.retryable


async def test_a_reply_slower_than_the_timeout_is_a_timeout(kind: Kind, server: FakeLlmServer) -> None:
    server.script(Slow(30))
    impatient = kind.provider(server.url, 0.2)
    try:
        with pytest.raises(ProviderError) as raised:
            await impatient.chat(REQUEST)
    finally:
        await impatient.aclose()
    assert raised.value.kind == "timeout"
    assert "0.2 s" in raised.value.message


async def test_nobody_listening_is_a_connection_error(kind: Kind, closed_address: str) -> None:
    unreachable = kind.provider(kind.address(closed_address), 5.0)
    try:
        with pytest.raises(ProviderError) as raised:
            await unreachable.chat(REQUEST)
    finally:
        await unreachable.aclose()
    assert raised.value.kind == "connection"
    assert closed_address.removeprefix("http://") in raised.value.message


async def test_an_unscripted_request_fails_loudly(server: FakeLlmServer, provider: ChatProvider) -> None:
    with pytest.raises(ProviderError, match="no reply scripted"):
        await provider.chat(REQUEST)


async def test_scripted_failures_come_in_order_then_the_reply(
    server: FakeLlmServer, provider: ChatProvider
) -> None:
    server.script(Failure(503, "busy"), Failure(502, "bad gateway"))
    server.reply("Hi!")
    kinds = []
    for _ in range(2):
        with pytest.raises(ProviderError) as raised:
            await provider.chat(REQUEST)
        kinds.append((raised.value.kind, raised.value.status))
    assert kinds == [("server", 503), ("server", 502)]
    assert (await provider.chat(REQUEST)).text == "Hi!"


def test_retry_after_reads_seconds_milliseconds_and_http_dates() -> None:
    assert retry_after_s({"retry-after": "12"}) == 12.0
    assert retry_after_s({"retry-after": "1.5"}) == 1.5
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    wait = retry_after_s({"retry-after": in_a_minute})
    assert wait is not None
    assert 50 < wait <= 60
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert retry_after_s({"retry-after": past}) == 0.0
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None


@pytest.fixture
def closed_address() -> str:
    """http://127.0.0.1:<port> where nothing listens (the port was just free)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
