"""Give changes a release type (system, version from and to) and record the version changes linked to them

Revision ID: i19mw01
Revises: i14router02
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i19mw01"
down_revision = "i14router02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("console_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="change"))
        batch_op.add_column(sa.Column("system", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("version_from", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("version_to", sa.String(length=200), nullable=False, server_default=""))
    op.create_table(
        "console_release_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("ci", sa.String(length=64), nullable=False),
        sa.Column("component", sa.String(length=64), nullable=False),
        sa.Column("version_from", sa.String(length=200), nullable=False),
        sa.Column("version_to", sa.String(length=200), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["console_changes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_release_observations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_release_observations_change_id"), ["change_id"], unique=False
        )
        batch_op.create_index(
            "ix_console_release_observations_alert", ["fingerprint", "starts_at"], unique=True
        )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("console_release_observations")
    with op.batch_alter_table("console_changes", schema=None) as batch_op:
        for column in ("version_to", "version_from", "system", "kind"):
            batch_op.drop_column(column)
