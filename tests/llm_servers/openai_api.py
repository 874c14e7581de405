"""OpenAI's Chat Completions API (`POST /v1/chat/completions`), as vLLM serves it too."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from tests.llm_servers.base import Call, FakeLlmServer, Refusal, Turn

_FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length"}
_ERROR_TYPE = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error"}
_ids = itertools.count(1)


class FakeOpenAI(FakeLlmServer):
    """JSON replies and SSE streams (`data: {chunk}` ... `data: [DONE]`), with the usage chunk
    when the request asks for `stream_options.include_usage`."""

    chat_paths = frozenset({"/v1/chat/completions"})
    url_suffix = "/v1"

    def __enter__(self) -> FakeOpenAI:
        super().__enter__()
        return self

    def read_call(self, path: str, headers: dict[str, str], body: Any) -> Call:
        if not isinstance(body, dict):
            raise Refusal(400, "We could not parse the JSON body of your request.")
        for required in ("model", "messages"):
            if required not in body:
                raise Refusal(400, f"Missing required parameter: '{required}'.")
        stop = body.get("stop") or []
        return Call(
            model=str(body["model"]),
            body=body,
            prompt=[str(m.get("content") or "") for m in body["messages"]],
            stop=[stop] if isinstance(stop, str) else list(stop),
            max_tokens=body.get("max_completion_tokens", body.get("max_tokens")),
            stream=bool(body.get("stream")),
        )

    def reply_body(self, call: Call, turn: Turn) -> dict[str, Any]:
        message = {"role": "assistant", "content": turn.text, "refusal": None}
        return {
            **self._envelope(call, "chat.completion"),
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": _FINISH[turn.finish]}
            ],
            "usage": _usage(turn),
        }

    def stream_head(self, call: Call, turn: Turn) -> bytes:
        return self._chunk(call, {"role": "assistant", "content": ""}, None)

    def stream_token(self, call: Call, turn: Turn, token: str) -> bytes:
        return self._chunk(call, {"content": token}, None)

    def stream_tail(self, call: Call, turn: Turn) -> bytes:
        tail = self._chunk(call, {}, _FINISH[turn.finish])
        if _include_usage(call):
            tail += _event(
                {**self._envelope(call, "chat.completion.chunk"), "choices": [], "usage": _usage(turn)}
            )
        return tail + b"data: [DONE]\n\n"

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        if status == 429:
            kind, code = "requests", "rate_limit_exceeded"
        elif status >= 500:
            kind, code = "server_error", None
        else:
            kind, code = _ERROR_TYPE.get(status, "invalid_request_error"), None
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    def _chunk(self, call: Call, delta: dict[str, Any], finish: str | None) -> bytes:
        chunk: dict[str, Any] = {
            **self._envelope(call, "chat.completion.chunk"),
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if _include_usage(call):
            chunk["usage"] = None
        return _event(chunk)

    def _envelope(self, call: Call, kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake{next(_ids)}",
            "object": kind,
            "created": int(time.time()),
            "model": call.model,
            "system_fingerprint": "fp_fake",
        }


def _include_usage(call: Call) -> bool:
    options = call.body.get("stream_options") or {}
    return bool(options.get("include_usage"))


def _usage(turn: Turn) -> dict[str, int]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"
