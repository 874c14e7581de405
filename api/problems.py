"""HTTP errors a user can cause, with one wording per kind."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse

from api.schemas.problems import ProblemPublic, ProblemsPublic
from workflows.problems import Problem


def not_found(kind: str, ident: str) -> HTTPException:
    """404: no such thing, or one the caller may not see (the two look the same)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} with id {ident}")


def conflict(detail: str) -> HTTPException:
    """409: the change clashes with what exists."""
    return HTTPException(status.HTTP_409_CONFLICT, detail)


def unprocessable(detail: str) -> HTTPException:
    """422: a value in the body is refused; the message names the field."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


class ProblemsError(Exception):
    """422 with a summary and every problem found (answered as ProblemsPublic)."""

    def __init__(self, detail: str, problems: list[Problem]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems


async def problems_response(request: Request, exc: Exception) -> JSONResponse:
    """The body of a ProblemsError: `{"detail": ..., "problems": [{pointer, message, ...}]}`."""
    assert isinstance(exc, ProblemsError)
    body = ProblemsPublic(detail=exc.detail, problems=[ProblemPublic.of(p) for p in exc.problems])
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=body.model_dump(mode="json")
    )


PROBLEMS_RESPONSE: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemsPublic, "description": "Refused: every problem, each at a JSON pointer"}
}
