"""Ollama's API: `POST /api/chat` (JSON, or NDJSON lines when streaming) and `POST
/api/generate` with no prompt, which loads a model (and `keep_alive: 0` unloads it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.llm_servers.base import Call, FakeLlmServer, Refusal, Turn

_DONE_REASON = {"stop": "stop", "stop_sequence": "stop", "length": "length"}


class FakeOllama(FakeLlmServer):
    chat_paths = frozenset({"/api/chat"})
    stream_content_type = "application/x-ndjson"

    def __enter__(self) -> FakeOllama:
        super().__enter__()
        return self

    def read_call(self, path: str, headers: dict[str, str], body: Any) -> Call:
        if not isinstance(body, dict) or not body.get("model"):
            raise Refusal(400, "model is required")
        options = body.get("options") or {}
        num_predict = options.get("num_predict")
        return Call(
            model=str(body["model"]),
            body=body,
            prompt=[str(m.get("content") or "") for m in body.get("messages") or []],
            stop=list(options.get("stop") or []),
            max_tokens=num_predict if isinstance(num_predict, int) and num_predict >= 0 else None,
            # Ollama streams unless told not to.
            stream=bool(body.get("stream", True)),
        )

    def reply_body(self, call: Call, turn: Turn) -> dict[str, Any]:
        return _final(call, turn, turn.text)

    def stream_head(self, call: Call, turn: Turn) -> bytes:
        return b""

    def stream_token(self, call: Call, turn: Turn, token: str) -> bytes:
        part = {**_part(call.model), "message": {"role": "assistant", "content": token}, "done": False}
        return _line(part)

    def stream_tail(self, call: Call, turn: Turn) -> bytes:
        return _line(_final(call, turn, ""))

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": message}

    def other(self, path: str, body: Any) -> dict[str, Any] | None:
        if path != "/api/generate":
            return None
        if not isinstance(body, dict) or not body.get("model"):
            raise Refusal(400, "model is required")
        if body.get("prompt"):
            raise Refusal(400, "the fake Ollama only loads and unloads models on /api/generate")
        model = str(body["model"])
        if body.get("keep_alive") in (0, "0", "0s"):
            self.load(None)
            return {**_part(model), "response": "", "done": True, "done_reason": "unload"}
        self.load(model)
        return {**_part(model), "response": "", "done": True, "done_reason": "load"}


def _final(call: Call, turn: Turn, content: str) -> dict[str, Any]:
    return {
        **_part(call.model),
        "message": {"role": "assistant", "content": content},
        "done": True,
        "done_reason": _DONE_REASON[turn.finish],
        "total_duration": 1_000_000,
        "load_duration": 100_000,
        "prompt_eval_count": turn.input_tokens,
        "prompt_eval_duration": 200_000,
        "eval_count": turn.output_tokens,
        "eval_duration": 700_000,
    }


def _part(model: str) -> dict[str, Any]:
    return {"model": model, "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode() + b"\n"
