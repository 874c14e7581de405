"""422 answers that name the field and the rule, without echoing what was sent: a body may hold a
password, a TOTP code or a token, and error bodies end up in logs and proxies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _without_input(error: Any) -> Any:
    if not isinstance(error, dict):
        return error
    return {key: value for key, value in error.items() if key != "input"}


async def _validation_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_without_input(error) for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})


def install_validation_errors(app: FastAPI) -> None:
    """Answer request validation errors with FastAPI's 422 body less every `input` value."""
    app.add_exception_handler(RequestValidationError, _validation_failed)
