"""Downtime playbook runs; say what each notification is for

Revision ID: i17oncall04
Revises: i17oncall03
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i17oncall04"
down_revision = "i17oncall03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "playbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("down_since", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    op.create_index("ix_playbook_runs_service", "playbook_runs", ["service"])
    op.create_index("ix_playbook_runs_ended_at", "playbook_runs", ["ended_at"])
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=16), nullable=False, server_default=sa.text("'page'"))
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    op.drop_index("ix_playbook_runs_ended_at", table_name="playbook_runs")
    op.drop_index("ix_playbook_runs_service", table_name="playbook_runs")
    op.drop_table("playbook_runs")
