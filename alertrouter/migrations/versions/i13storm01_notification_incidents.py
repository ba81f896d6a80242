"""Let one message list several incidents: the children a cause released, paged together

Revision ID: i13storm01
Revises: i17oncall05
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i13storm01"
down_revision = "i17oncall05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("incident_ids")
