"""Create the console tables: users, sessions, audit, resolutions, knowledge base, problems, changes

Revision ID: console01
Revises: 0001
Create Date: 2026-11-28 11:50:38.171662
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "console01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_audit_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_audit_at"), ["at"], unique=False)

    op.create_table(
        "console_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cis", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("silence_id", sa.String(length=64), nullable=True),
        sa.Column("silence_ends_at", sa.DateTime(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_changes_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_changes_status"), ["status"], unique=False)

    op.create_table(
        "console_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_console_login_failures_key_at", ["key", "at"], unique=False)

    op.create_table(
        "console_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ci", sa.String(length=64), nullable=True),
        sa.Column("alertname", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_problems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_problems_status"), ["status"], unique=False)

    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "console_problem_incidents",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["problem_id"], ["console_problems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("problem_id", "incident_id"),
    )
    with op.batch_alter_table("console_problem_incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_problem_incidents_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "console_resolutions",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("fix", sa.Text(), nullable=False),
        sa.Column("minutes_spent", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    with op.batch_alter_table("console_resolutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_resolutions_cause"), ["cause"], unique=False)

    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["console_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ci", sa.String(length=64), nullable=True),
        sa.Column("alertname", sa.String(length=200), nullable=True),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_alertname"), ["alertname"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_articles_ci"), ["ci"], unique=False)

    _create_search()


def _create_search() -> None:
    """Index articles for full-text search in Chinese and English."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Trigrams need no word breaker, so Chinese matches as well as English.
        op.execute(
            "CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, content='kb_articles', content_rowid='id',"
            " tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER kb_fts_ai AFTER INSERT ON kb_articles BEGIN"
            " INSERT INTO kb_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER kb_fts_ad AFTER DELETE ON kb_articles BEGIN"
            " INSERT INTO kb_fts(kb_fts, rowid, title, body)"
            " VALUES ('delete', old.id, old.title, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER kb_fts_au AFTER UPDATE ON kb_articles BEGIN"
            " INSERT INTO kb_fts(kb_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);"
            " INSERT INTO kb_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_kb_articles_trgm ON kb_articles USING gin ((title || ' ' || body) gin_trgm_ops)"
        )


def downgrade() -> None:
    """Revert this revision."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE kb_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_kb_articles_trgm")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_articles_ci"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_alertname"))

    op.drop_table("kb_articles")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))

    op.drop_table("console_sessions")
    with op.batch_alter_table("console_resolutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_resolutions_cause"))

    op.drop_table("console_resolutions")
    with op.batch_alter_table("console_problem_incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_problem_incidents_incident_id"))

    op.drop_table("console_problem_incidents")
    op.drop_table("console_users")
    with op.batch_alter_table("console_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_problems_status"))

    op.drop_table("console_problems")
    with op.batch_alter_table("console_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_console_login_failures_key_at")

    op.drop_table("console_login_failures")
    with op.batch_alter_table("console_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_changes_status"))
        batch_op.drop_index(batch_op.f("ix_console_changes_starts_at"))

    op.drop_table("console_changes")
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_audit_at"))
        batch_op.drop_index(batch_op.f("ix_console_audit_actor"))

    op.drop_table("console_audit")
