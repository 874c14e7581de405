"""A local HTTP server, in a thread, that a provider's official SDK talks to, scripted reply by
reply; each provider's wire protocol is a subclass (openai_api.py, anthropic_api.py, ollama_api.py)."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

Finish = Literal["stop", "stop_sequence", "length"]


@dataclass(frozen=True)
class Text:
    """The model writes `text`, cut at the request's stop sequences and its max tokens. Usage
    counts the words of the prompt and of the reply unless given."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class Json:
    """The model writes `value` the way the provider's structured output carries it (JSON text,
    or the input of the tool the request forces)."""

    value: Any
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class Failure:
    """An HTTP error answer in the provider's own error shape, with extra headers (Retry-After)."""

    status: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Malformed:
    """A 200 answer whose body is `body`, verbatim: cut-off JSON, or JSON missing its fields."""

    body: str = '{"id": "cut off'
    content_type: str = "application/json"


@dataclass(frozen=True)
class Slow:
    """Wait `delay_s` before answering with `then` (long enough, the client times out first)."""

    delay_s: float
    then: Text | Json = Text("too late")


Reply = Text | Json | Failure | Malformed | Slow


@dataclass(frozen=True)
class Recorded:
    """One request as it reached the server: header names lower-cased, the body parsed (None
    when it was not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Call:
    """What a chat request asks for, read from the provider's request shape."""

    model: str
    body: dict[str, Any]
    prompt: list[str]
    stop: list[str]
    max_tokens: int | None
    stream: bool


@dataclass(frozen=True)
class Turn:
    """What the model writes for one call."""

    tokens: list[str]
    finish: Finish
    input_tokens: int
    output_tokens: int
    # The value of a Json reply (then `tokens` spell its JSON text), else None.
    structured: bool = False
    value: Any = None
    stop_sequence: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.tokens)


class Refusal(Exception):
    """A request the real provider would refuse, answered in its error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def tokens_of(text: str) -> list[str]:
    """Words with the spaces after them: joined, they give back `text`."""
    return re.findall(r"\S+\s*|\s+", text)


class FakeLlmServer:
    """Binds 127.0.0.1 on a port the system picks (so it is free), serves in a thread while the
    `with` block runs, and records every request.

    `token_delay_s` is spent before each streamed token (all at once before a whole reply);
    `cold_load_s` whenever a request names another model than the one before it (the first
    request too), as a server that swaps models in and out of memory would."""

    chat_paths: frozenset[str] = frozenset()
    url_suffix = ""
    stream_content_type = "text/event-stream"

    def __init__(
        self, *, token_delay_s: float = 0.0, cold_load_s: float = 0.0, default: Text | Json | None = None
    ) -> None:
        self.token_delay_s = token_delay_s
        self.cold_load_s = cold_load_s
        # Answers a chat request when nothing is scripted; None answers HTTP 500 instead.
        self.default = default
        # Each model loaded, in order, each time a request charged cold_load_s.
        self.cold_loads: list[str] = []
        self._script: deque[Reply] = deque()
        self._requests: list[Recorded] = []
        self._loaded: str | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting, for tests ------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Answer the next chat requests with these, in order."""
        with self._lock:
            self._script.extend(replies)

    def reply(self, text: str, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        """The next reply's text is `text`."""
        self.script(Text(text, input_tokens, output_tokens))

    def reply_json(self, value: Any) -> None:
        """The next reply's structured content is `value`."""
        self.script(Json(value))

    def fail(self, status: int, message: str = "scripted failure", retry_after: str | None = None) -> None:
        """The next chat request gets HTTP `status` with `message`, and `Retry-After` if given."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.script(Failure(status, message, headers))

    @property
    def requests(self) -> list[Recorded]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def last(self) -> Recorded:
        """The latest request received."""
        return self.requests[-1]

    @property
    def url(self) -> str:
        """The base URL to give the SDK."""
        if self._http is None:
            raise RuntimeError("the fake server is not running; use it in a `with` block")
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}{self.url_suffix}"

    # -- the protocol, for subclasses ----------------------------------------------------------
    def read_call(self, path: str, headers: dict[str, str], body: Any) -> Call:
        """The chat request in `body`, or Refusal when the real provider would refuse it."""
        raise NotImplementedError

    def reply_body(self, call: Call, turn: Turn) -> dict[str, Any]:
        raise NotImplementedError

    def stream_head(self, call: Call, turn: Turn) -> bytes:
        raise NotImplementedError

    def stream_token(self, call: Call, turn: Turn, token: str) -> bytes:
        raise NotImplementedError

    def stream_tail(self, call: Call, turn: Turn) -> bytes:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def other(self, path: str, body: Any) -> dict[str, Any] | None:
        """Answer a request to a path other than the chat paths; None: 404."""
        return None

    # -- what subclasses share -----------------------------------------------------------------
    def load(self, model: str | None) -> None:
        """Make `model` the loaded one, charging cold_load_s when it was not."""
        with self._lock:
            cold = model is not None and model != self._loaded
            self._loaded = model
            if cold and model is not None:
                self.cold_loads.append(model)
        if cold and self.cold_load_s > 0:
            self._closing.wait(self.cold_load_s)

    def turn(self, call: Call, reply: Text | Json) -> Turn:
        """What the model writes for `call`."""
        prompt_tokens = sum(len(tokens_of(part)) for part in call.prompt)
        if isinstance(reply, Json):
            tokens = tokens_of(json.dumps(reply.value))
            return Turn(
                tokens,
                "stop",
                _given(reply.input_tokens, prompt_tokens),
                _given(reply.output_tokens, len(tokens)),
                structured=True,
                value=reply.value,
            )
        text, finish, matched = reply.text, "stop", None
        cuts = [(text.index(stop), stop) for stop in call.stop if stop and stop in text]
        if cuts:
            at, matched = min(cuts)
            text, finish = text[:at], "stop_sequence"
        tokens = tokens_of(text)
        if call.max_tokens is not None and len(tokens) > call.max_tokens:
            tokens, finish, matched = tokens[: call.max_tokens], "length", None
        return Turn(
            tokens,
            finish,  # type: ignore[arg-type]
            _given(reply.input_tokens, prompt_tokens),
            _given(reply.output_tokens, len(tokens)),
            stop_sequence=matched,
        )

    def _next(self) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self.default is not None:
            return self.default
        return Failure(500, "the fake server has no reply scripted for this request")

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self._requests.append(recorded)

    def __enter__(self) -> FakeLlmServer:
        http = _Http(("127.0.0.1", 0), _Handler)
        http.fake = self
        self._http = http
        self._thread = threading.Thread(
            target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._closing.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join()


def _given(value: int | None, otherwise: int) -> int:
    return otherwise if value is None else value


class _Http(ThreadingHTTPServer):
    # Don't wait at close for handler threads: an SDK's pooled connection keeps one waiting.
    block_on_close = False
    fake: FakeLlmServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streams, like the real servers
    server: _Http

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test reads `requests`, not a log."""

    def do_GET(self) -> None:
        self._serve(None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._serve(body)

    def _serve(self, body: Any) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake._record(Recorded(self.command, path, headers, body))
        try:
            if path not in fake.chat_paths:
                answer = fake.other(path, body)
                if answer is None:
                    raise Refusal(404, f"no route for {self.command} {path}")
                self._send_json(200, answer)
                return
            call = fake.read_call(path, headers, body)
            fake.load(call.model)
            self._answer(fake, call, fake._next())
        except Refusal as refusal:
            self._send_json(refusal.status, fake.error_body(refusal.status, refusal.message))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nobody is left to answer

    def _answer(self, fake: FakeLlmServer, call: Call, reply: Reply) -> None:
        if isinstance(reply, Slow):
            fake._closing.wait(reply.delay_s)
            reply = reply.then
        if isinstance(reply, Failure):
            self._send_json(reply.status, fake.error_body(reply.status, reply.message), reply.headers)
        elif isinstance(reply, Malformed):
            self._send(200, reply.body.encode(), reply.content_type)
        else:
            turn = fake.turn(call, reply)
            if call.stream:
                self._stream(fake, call, turn)
            else:
                fake._closing.wait(fake.token_delay_s * len(turn.tokens))
                self._send_json(200, fake.reply_body(call, turn))

    def _stream(self, fake: FakeLlmServer, call: Call, turn: Turn) -> None:
        self.send_response(200)
        self.send_header("Content-Type", fake.stream_content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self._chunk(fake.stream_head(call, turn))
        for token in turn.tokens:
            if fake.token_delay_s > 0:
                fake._closing.wait(fake.token_delay_s)
            self._chunk(fake.stream_token(call, turn, token))
        self._chunk(fake.stream_tail(call, turn))
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
