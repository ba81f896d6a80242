"""Alembic environment: migrate the URL given in the config, online only."""

from __future__ import annotations

from alembic import context

from alertrouter.db import make_engine
from alertrouter.models import Base

config = context.config
engine = make_engine(config.get_main_option("sqlalchemy.url") or "", pool_size=1)
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
finally:
    engine.dispose()
