"""Bodies of sign-in, refresh and sign-out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenPairPublic(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth token type)
    expires_in: int = Field(description="Seconds until the access token expires.")


class TwoFactorRequired(BaseModel):
    two_factor_required: Literal[True] = True
    challenge: str = Field(description="Short-lived token to redeem with a second factor.")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=256)
    all: bool = Field(default=False, description="Revoke every session of the user, not just this one.")
