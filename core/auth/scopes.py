"""Roles and the scopes each allows; an API key holds a subset of its user's."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["admin", "operator", "member"]
ROLES: tuple[Role, ...] = ("admin", "operator", "member")

Scope = Literal["runs:start", "runs:read", "interactions:respond", "definitions:write", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)

RUNS_START = "runs:start"
RUNS_READ = "runs:read"
INTERACTIONS_RESPOND = "interactions:respond"
DEFINITIONS_WRITE = "definitions:write"
ADMIN = "admin"

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "member": frozenset({RUNS_START, RUNS_READ, INTERACTIONS_RESPOND, DEFINITIONS_WRITE}),
    "operator": frozenset({RUNS_START, RUNS_READ, INTERACTIONS_RESPOND, DEFINITIONS_WRITE}),
    "admin": frozenset(SCOPES),
}

# Operators and admins see everything; a member only their own things.
SEES_ALL: frozenset[str] = frozenset({"admin", "operator"})


def role_scopes(role: str) -> frozenset[str]:
    """The scopes a role allows (none for an unknown role)."""
    return ROLE_SCOPES.get(role, frozenset())
