"""Say on each audit entry where it came from; index what retention scans by age

Revision ID: i14router02
Revises: i14router01
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i14router02"
down_revision = "i14router01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via", sa.String(length=16), nullable=False, server_default=sa.text("'console'"))
        )
        batch_op.create_index(batch_op.f("ix_console_audit_via"), ["via"], unique=False)
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.create_index("ix_timeline_at", ["at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_at")
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_audit_via"))
        batch_op.drop_column("via")
