"""Keep the priority and owner explanations' templates, to say them in the reader's language

Revision ID: i17oncall05
Revises: i17oncall04
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i17oncall05"
down_revision = "i17oncall04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("explanation_msg", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("owner_msg", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("owner_msg")
        batch_op.drop_column("explanation_msg")
