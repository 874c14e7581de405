"""Error answers in the OpenAPI document, so clients (and the schema fuzzer) know every status
a route may give. Routes list their own with `errors(403, 404)`; the ones every route of a kind
can give (400, 401, 413, 429) are added to the document by `install_common_responses`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from api.rate_limit import is_limited


class ErrorDetail(BaseModel):
    """The body of an error answer."""

    detail: str


DESCRIPTIONS = {
    400: "The body could not be decoded as text.",
    401: "No credentials, or bad ones; see `WWW-Authenticate`.",
    403: "The caller lacks the role or scope this needs.",
    404: "No such thing, or one the caller may not see.",
    409: "The change clashes with what exists.",
    413: "The request body is over the size limit.",
    415: "The body's Content-Type is not one this takes.",
    422: "A value in the request is refused; the message names it.",
    429: "Too many attempts; `Retry-After` says when to try again.",
    502: "An outside service this needs (the OIDC provider) did not answer.",
    503: "Temporal cannot be reached; the message names its address.",
}
_REF = {"$ref": "#/components/schemas/ErrorDetail"}
_RETRY_AFTER = {"description": "Seconds to wait.", "schema": {"type": "integer"}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that answers these error statuses with an `ErrorDetail`."""
    return {code: {"model": ErrorDetail, "description": DESCRIPTIONS[code]} for code in codes}


def _error(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": _REF}},
    }
    if code == 429:
        answer["headers"] = {"Retry-After": _RETRY_AFTER}
    return answer


def add_common_responses(schema: dict[str, Any], api_prefix: str) -> None:
    """Add 401 to operations that take credentials, 400 and 413 to those with a body, 429 to the
    rate-limited ones; let a 422 be a plain message too."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorDetail", ErrorDetail.model_json_schema())
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            codes = [401] if operation.get("security") else []
            codes += [400, 413] if "requestBody" in operation else []
            codes += [429] if is_limited(path, api_prefix) else []
            for code in codes:
                responses.setdefault(str(code), _error(code))
            _either_422(responses)


_VALIDATION = {"$ref": "#/components/schemas/HTTPValidationError"}


def _either_422(responses: dict[str, Any]) -> None:
    """A 422 is FastAPI's list of validation errors, a route's own `{"detail": "..."}`
    (`api.problems.unprocessable`), or the model a route declares for its own 422s."""
    content = responses.get("422", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema")
    if schema is None or "anyOf" in schema:
        return
    own = [] if schema in (_VALIDATION, _REF) else [schema]
    content["schema"] = {"anyOf": [_VALIDATION, _REF, *own]}


def install_common_responses(app: FastAPI, api_prefix: str) -> None:
    """Make `app.openapi()` document the common error answers."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        add_common_responses(schema, api_prefix)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
