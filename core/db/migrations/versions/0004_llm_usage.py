"""The LLM ledger: tokens and cost of every api.llm call.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_usage",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("run_id", sa.String(300), nullable=False),
        sa.Column("step_id", sa.String(200), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("definition", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_llm_usage"),
    )
    for column in ("run_id", "definition", "owner", "created_at"):
        op.create_index(f"ix_llm_usage_{column}", "llm_usage", [column])


def downgrade() -> None:
    op.drop_table("llm_usage")
