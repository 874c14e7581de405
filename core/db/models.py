"""The tables of the application database, as typed SQLAlchemy 2 models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db.types import UTCDateTime

ROLES = ("admin", "operator", "member")

# Named constraints keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A new random primary key."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def _user_fk() -> Mapped[str]:
    return mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)


user_groups = Table(
    "user_groups",
    Base.metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", String(36), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'operator', 'member')", name="role"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # None for users who sign in only through OIDC.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="member")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last accepted TOTP time step: a code of that step or earlier is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    groups: Mapped[list[Group]] = relationship(secondary=user_groups, lazy="selectin", order_by=Group.name)

    @property
    def group_names(self) -> list[str]:
        """The names of the user's groups, sorted."""
        return [group.name for group in self.groups]


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    # Every token rotated from one login shares its family; reuse revokes the family.
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class BackupCode(Base):
    __tablename__ = "backup_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]


class TrustedDevice(Base):
    __tablename__ = "trusted_devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class OidcIdentity(Base):
    __tablename__ = "oidc_identities"

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = _user_fk()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = _user_fk()
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEvent(Base):
    __tablename__ = "audit_events"

    # Increasing integers: the audit endpoint pages with ?before=<id>.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # No foreign key: the record outlives the user it names.
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))


class DefinitionVersion(Base):
    __tablename__ = "definition_versions"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_definition_versions_name_version"),
        CheckConstraint("format IN ('yaml', 'json')", name="format"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # The compiled plan's content hash: an upload that compiles to the same plan is no new version.
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(8))
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    # The version outlives its author's account.
    author_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _owner_fk() -> Mapped[str | None]:
    # A trigger outlives nothing: deleting its owner's account leaves it ownerless (and stopped).
    return mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True)


class ScheduleRow(Base):
    """Who owns a Temporal Schedule and what it runs; Temporal keeps when and its state."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("definition", "trigger_id", name="uq_schedules_definition_trigger"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    definition: Mapped[str] = mapped_column(String(200), index=True)
    # A pinned version; None follows the latest (the schedule is updated on each new version).
    version: Mapped[int | None] = mapped_column(Integer)
    # Set for a schedule declared in the definition's `triggers:`.
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[str | None] = _owner_fk()
    # The username the runs are owned by.
    owner: Mapped[str] = mapped_column(String(200))
    # The run input, a template with `schedule.*`.
    input: Mapped[Any] = mapped_column(JSON, nullable=True)
    # When it runs, as written (a workflows.dsl.ScheduleSpec): Temporal answers it compiled.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookRow(Base):
    """A signed endpoint that starts runs of a definition, one per delivery."""

    __tablename__ = "webhooks"
    __table_args__ = (UniqueConstraint("definition", "trigger_id", name="uq_webhooks_definition_trigger"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[str | None] = _owner_fk()
    owner: Mapped[str] = mapped_column(String(200))
    # The run input, a template with `body`, `headers`, `delivery` and `hook`.
    input: Mapped[Any] = mapped_column(JSON, nullable=True)
    # The signing secret, sealed with a key derived from the server's secret key.
    secret: Mapped[str] = mapped_column(Text)
    # After a rotation, the old secret is accepted until `previous_until`.
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_until: Mapped[datetime | None]
    tolerance_s: Mapped[int] = mapped_column(Integer, default=300)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]


class LlmUsageRow(Base):
    """One api.llm call's tokens and cost: the ledger that budgets and usage reports read."""

    __tablename__ = "llm_usage"

    # The run's id and the call's number in it: the same on every retry of the recording.
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(300), index=True)
    step_id: Mapped[str] = mapped_column(String(200))
    # The enclosing for_each and loop iterations, [[block id, index], ...].
    path: Mapped[Any] = mapped_column(JSON)
    definition: Mapped[str] = mapped_column(String(200), index=True)
    # The username of the run's owner (None for runs without one).
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    model: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(100))
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    cost_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
