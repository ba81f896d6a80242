"""Record on each alert where the PHI guard replaced a value

Revision ID: i14router01
Revises: console01
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i14router01"
down_revision = "console01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("redactions", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("redactions")
