"""Structured output: a reply read as JSON and checked against the step's output_schema; what
is wrong goes back to the model, which gets a bounded number of tries to fix it."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

from activities.llm.types import Message

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)
# At most this many errors are reported (and sent back) per reply.
MAX_ERRORS = 10


def reply_problems(text: str, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """The reply as JSON and what makes it not match `schema` (nothing when it matches)."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group("body").strip()  # models like to wrap JSON in ```json fences
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        return None, [f"the reply is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    return value, [
        f"at {'/' + '/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in errors[:MAX_ERRORS]
    ]


def repair_messages(reply: str, problems: list[str]) -> list[Message]:
    """What goes back to the model after a reply that does not match the schema."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return [
        Message("assistant", reply),
        Message(
            "user",
            "Your reply does not match the required JSON Schema:\n"
            f"{listed}\n"
            "Reply again with only the corrected JSON, no other text.",
        ),
    ]
