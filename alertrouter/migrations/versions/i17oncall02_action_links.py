"""Action links in pages: one row per link, used once

Revision ID: i17oncall02
Revises: i17oncall01
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i17oncall02"
down_revision = "i17oncall01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "action_links",
        sa.Column("nonce", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_action_links_incident_id", "action_links", ["incident_id"])
    op.create_index("ix_action_links_expires_at", "action_links", ["expires_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_action_links_expires_at", table_name="action_links")
    op.drop_index("ix_action_links_incident_id", table_name="action_links")
    op.drop_table("action_links")
