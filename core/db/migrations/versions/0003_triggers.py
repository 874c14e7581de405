"""Triggers: who owns each schedule (Temporal keeps the rest) and the webhooks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _common(table: str, id_length: int) -> list[Any]:
    return [
        sa.Column("id", sa.String(id_length), nullable=False),
        sa.Column("definition", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("trigger_id", sa.String(64), nullable=True),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint("definition", "trigger_id", name=f"uq_{table}_definition_trigger"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=f"fk_{table}_owner_id_users", ondelete="SET NULL"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "schedules",
        *_common("schedules", 200),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhooks",
        *_common("webhooks", 64),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column("previous_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tolerance_s", sa.Integer(), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
    )
    for table in ("schedules", "webhooks"):
        op.create_index(f"ix_{table}_definition", table, ["definition"])
        op.create_index(f"ix_{table}_owner_id", table, ["owner_id"])


def downgrade() -> None:
    op.drop_table("webhooks")
    op.drop_table("schedules")
