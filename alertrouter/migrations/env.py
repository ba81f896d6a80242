"""Alembic environment: migrate the URL given in the config, online only."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from alertrouter.db import make_engine
from alertrouter.models import Base

# Any fixed number: replicas starting together with --db.upgrade take turns instead of racing.
MIGRATION_LOCK = 720_150_001

config = context.config
engine = make_engine(config.get_main_option("sqlalchemy.url") or "", pool_size=1)
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
finally:
    engine.dispose()
