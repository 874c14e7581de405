"""Users and groups as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.auth.scopes import Role

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]


class GroupCreate(BaseModel):
    name: Name


class GroupPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class UserCreate(BaseModel):
    username: Name
    password: str | None = Field(default=None, description="None: the user signs in only through OIDC.")
    email: Email | None = None
    role: Role = "member"
    groups: list[Name] = []


class UserUpdate(BaseModel):
    role: Role | None = None
    groups: list[Name] | None = None
    is_active: bool | None = None
    password: str | None = None
    email: Email | None = None


class UserPublic(BaseModel):
    id: str
    username: str
    email: str | None
    email_verified: bool
    role: str
    groups: list[str]
    is_active: bool
    totp_enabled: bool
    created_at: datetime
