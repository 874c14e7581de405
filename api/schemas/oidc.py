"""What the API says about OIDC sign-in."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OidcStatus(BaseModel):
    enabled: bool = Field(description="Whether this server signs people in with an OIDC provider.")
    login_url: str | None = Field(
        description="Where to send the browser to sign in with the provider (None when not enabled)."
    )
