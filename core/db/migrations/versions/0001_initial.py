"""Users, groups, sessions, API keys, 2FA and OIDC tables, the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.String(36), nullable=False)


def _user_id(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
        ),
    ]


def _index_user(table: str) -> None:
    op.create_index(f"ix_{table}_user_id", table, ["user_id"])


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _at("created_at", nullable=False),
        sa.Column("totp_secret", sa.String(255), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint("role IN ('admin', 'operator', 'member')", name="ck_users_role"),
    )
    op.create_table(
        "groups",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("name", name="uq_groups_name"),
    )
    op.create_table(
        "user_groups",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "group_id", name="pk_user_groups"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_groups_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_user_groups_group_id_groups", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "refresh_tokens",
        _id(),
        *_user_id("refresh_tokens"),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("rotated_at"),
        _at("revoked_at"),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    _index_user("refresh_tokens")
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "backup_codes",
        _id(),
        *_user_id("backup_codes"),
        sa.Column("code_hash", sa.String(255), nullable=False),
        _at("used_at"),
        sa.PrimaryKeyConstraint("id", name="pk_backup_codes"),
    )
    _index_user("backup_codes")
    op.create_table(
        "trusted_devices",
        _id(),
        *_user_id("trusted_devices"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        _at("last_used_at"),
        _at("revoked_at"),
        sa.PrimaryKeyConstraint("id", name="pk_trusted_devices"),
        sa.UniqueConstraint("token_hash", name="uq_trusted_devices_token_hash"),
    )
    _index_user("trusted_devices")
    op.create_table(
        "oidc_identities",
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        *_user_id("oidc_identities"),
        sa.PrimaryKeyConstraint("issuer", "subject", name="pk_oidc_identities"),
    )
    _index_user("oidc_identities")
    op.create_table(
        "api_keys",
        _id(),
        *_user_id("api_keys"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _at("created_at", nullable=False),
        _at("last_used_at"),
        _at("expires_at"),
        _at("revoked_at"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    _index_user("api_keys")
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        _at("at", nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor_id"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])


def downgrade() -> None:
    for table in (
        "audit_events",
        "api_keys",
        "oidc_identities",
        "trusted_devices",
        "backup_codes",
        "refresh_tokens",
        "user_groups",
        "groups",
        "users",
    ):
        op.drop_table(table)
