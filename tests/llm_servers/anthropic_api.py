"""Anthropic's Messages API (`POST /v1/messages`): JSON replies, tool_use blocks, SSE events."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.llm_servers.base import Call, FakeLlmServer, Refusal, Turn

_STOP_REASON = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens"}
_ERROR_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_ids = itertools.count(1)


class FakeAnthropic(FakeLlmServer):
    """A Json reply is a tool_use block when the request forces a tool (`tool_choice` of type
    tool), else a text block holding the JSON text (native structured output)."""

    chat_paths = frozenset({"/v1/messages"})

    def __enter__(self) -> FakeAnthropic:
        super().__enter__()
        return self

    def read_call(self, path: str, headers: dict[str, str], body: Any) -> Call:
        if "anthropic-version" not in headers:
            raise Refusal(400, "anthropic-version: header is required")
        if not isinstance(body, dict):
            raise Refusal(400, "There was an issue with your request body: not JSON")
        for required in ("model", "max_tokens", "messages"):
            if required not in body:
                raise Refusal(400, f"{required}: Field required")
        if any(m.get("role") == "system" for m in body["messages"]):
            raise Refusal(
                400,
                'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                'parameter, not "system" as an input message role.',
            )
        return Call(
            model=str(body["model"]),
            body=body,
            prompt=[_text_of(body.get("system"))] + [_text_of(m.get("content")) for m in body["messages"]],
            stop=list(body.get("stop_sequences") or []),
            max_tokens=int(body["max_tokens"]),
            stream=bool(body.get("stream")),
        )

    def reply_body(self, call: Call, turn: Turn) -> dict[str, Any]:
        tool = _forced_tool(call)
        if turn.structured and tool is not None:
            content = [
                {"type": "tool_use", "id": f"toolu_fake{next(_ids)}", "name": tool, "input": turn.value}
            ]
        else:
            content = [{"type": "text", "text": turn.text}]
        return {
            **self._message(call, turn),
            "content": content,
            "usage": _usage(turn.input_tokens, turn.output_tokens),
        }

    def stream_head(self, call: Call, turn: Turn) -> bytes:
        tool = _forced_tool(call)
        block: dict[str, Any] = (
            {"type": "tool_use", "id": f"toolu_fake{next(_ids)}", "name": tool, "input": {}}
            if turn.structured and tool is not None
            else {"type": "text", "text": ""}
        )
        start = {
            **self._message(call, turn),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage(turn.input_tokens, 1),
        }
        return (
            _event("message_start", {"message": start})
            + _event("content_block_start", {"index": 0, "content_block": block})
            + _event("ping", {})
        )

    def stream_token(self, call: Call, turn: Turn, token: str) -> bytes:
        if turn.structured and _forced_tool(call) is not None:
            delta = {"type": "input_json_delta", "partial_json": token}
        else:
            delta = {"type": "text_delta", "text": token}
        return _event("content_block_delta", {"index": 0, "delta": delta})

    def stream_tail(self, call: Call, turn: Turn) -> bytes:
        message = self._message(call, turn)
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
        return (
            _event("content_block_stop", {"index": 0})
            + _event("message_delta", {"delta": delta, "usage": {"output_tokens": turn.output_tokens}})
            + _event("message_stop", {})
        )

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = _ERROR_TYPE.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}

    def _message(self, call: Call, turn: Turn) -> dict[str, Any]:
        tool_used = turn.structured and _forced_tool(call) is not None
        return {
            "id": f"msg_fake{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": call.model,
            "stop_reason": "tool_use" if tool_used else _STOP_REASON[turn.finish],
            "stop_sequence": turn.stop_sequence,
        }


def _forced_tool(call: Call) -> str | None:
    choice = call.body.get("tool_choice") or {}
    return str(choice["name"]) if choice.get("type") == "tool" else None


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return str(content or "")


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()
