"""HTTP errors a user can cause, with one wording per kind."""

from __future__ import annotations

from fastapi import HTTPException, status


def not_found(kind: str, ident: str) -> HTTPException:
    """404: no such thing, or one the caller may not see (the two look the same)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} with id {ident}")


def conflict(detail: str) -> HTTPException:
    """409: the change clashes with what exists."""
    return HTTPException(status.HTTP_409_CONFLICT, detail)


def unprocessable(detail: str) -> HTTPException:
    """422: a value in the body is refused; the message names the field."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
