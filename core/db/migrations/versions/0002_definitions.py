"""The definitions registry: every uploaded version of every definition.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definition_versions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_definition_versions"),
        sa.UniqueConstraint("name", "version", name="uq_definition_versions_name_version"),
        sa.CheckConstraint("format IN ('yaml', 'json')", name="ck_definition_versions_format"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name="fk_definition_versions_author_id_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_definition_versions_name", "definition_versions", ["name"])
    op.create_index("ix_definition_versions_author_id", "definition_versions", ["author_id"])


def downgrade() -> None:
    op.drop_table("definition_versions")
