"""Who is asking: a user signed in with an access token, or an API key acting for its user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.auth.scopes import SEES_ALL


@dataclass(frozen=True)
class Principal:
    """The caller of one request; `scopes` are already narrowed to what its role allows."""

    user_id: str
    username: str
    role: str
    groups: list[str]
    scopes: frozenset[str]
    via: Literal["token", "api_key"]
    api_key_id: str | None = field(default=None)

    @property
    def sees_all(self) -> bool:
        """Operators and admins see everyone's things."""
        return self.role in SEES_ALL

    def may_see(self, owner_id: str) -> bool:
        """Whether a thing owned by `owner_id` is visible (invisible things answer 404)."""
        return self.sees_all or owner_id == self.user_id
